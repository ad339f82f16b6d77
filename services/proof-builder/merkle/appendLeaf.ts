import { type Hex, hexToBytes } from "viem"
import { MAX_LEAVES } from "./constants.ts"
import { TreeFullError } from "./errors.ts"
import { hashPair, pushNode, readNode } from "./internal.ts"
import type { MerkleTree } from "./types.ts"

/**
 * Appends a leaf (a message id) and returns its index, which is the message's nonce. Amortised O(1) hashes.
 *
 * @example
 * const nonce = appendLeaf(tree, "0x3f…") // 0 for the first leaf
 */
export function appendLeaf(tree: MerkleTree, leaf: Hex): number {
  if (tree.count >= MAX_LEAVES) throw new TreeFullError()
  const index = tree.count
  let node = hexToBytes(leaf)
  if (node.length !== 32) throw new TypeError(`leaf must be 32 bytes, got ${node.length}: ${leaf}`)
  let i = index
  pushNode(tree.levels[0]!, node)
  // Each completed pair yields a complete parent one level up.
  for (let h = 0; i % 2 === 1; h++) {
    node = hashPair(readNode(tree.levels[h]!, i - 1), node)
    i = (i - 1) / 2
    pushNode(tree.levels[h + 1]!, node)
  }
  tree.count = index + 1
  return index
}
