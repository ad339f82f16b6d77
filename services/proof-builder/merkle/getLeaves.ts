import { bytesToHex, type Hex } from "viem"
import { RangeOutOfBoundsError } from "./errors.ts"
import { readNode } from "./internal.ts"
import type { MerkleTree } from "./types.ts"

/**
 * The leaves `[start, end)` of the tree (message ids in nonce order).
 *
 * @example
 * const ids = getLeaves(tree, 0, tree.count)
 */
export function getLeaves(tree: MerkleTree, start: number, end: number): Hex[] {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > tree.count) {
    throw new RangeOutOfBoundsError({ start, end, count: tree.count })
  }
  const leaves: Hex[] = []
  for (let i = start; i < end; i++) leaves.push(bytesToHex(readNode(tree.levels[0]!, i)))
  return leaves
}
