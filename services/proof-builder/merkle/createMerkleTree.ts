import type { Hex } from "viem"
import { appendLeaf } from "./appendLeaf.ts"
import { TREE_DEPTH } from "./constants.ts"
import type { MerkleTree } from "./types.ts"

/**
 * Creates an empty lane tree (depth 32, keccak256), optionally filled with `leaves` in order.
 *
 * @example
 * const tree = createMerkleTree([messageId0, messageId1])
 * getRoot(tree) // same as Outbox.root(dstChainId) after those two sends
 */
export function createMerkleTree(leaves: readonly Hex[] = []): MerkleTree {
  const tree: MerkleTree = {
    count: 0,
    levels: Array.from({ length: TREE_DEPTH + 1 }, () => ({ bytes: new Uint8Array(0), length: 0 })),
  }
  for (const leaf of leaves) appendLeaf(tree, leaf)
  return tree
}
