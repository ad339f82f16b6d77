import { RangeOutOfBoundsError } from "./errors.ts"
import { forgetPartialsAbove } from "./internal.ts"
import type { MerkleTree } from "./types.ts"

/**
 * Drops every leaf from `count` on: the tree is again exactly what it was when it held `count` leaves. O(depth):
 * the complete nodes of a smaller tree are a prefix of each level, and appends never rewrite them, so only the
 * lengths change. This is how the proof-builder tries a candidate leaf on its tree and takes it back.
 *
 * @example
 * appendLeaf(tree, candidate)
 * const matches = getRoot(tree) === outboxRoot
 * truncateTree(tree, tree.count - 1) // as before the append
 */
export function truncateTree(tree: MerkleTree, count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > tree.count) {
    throw new RangeOutOfBoundsError({ start: 0, end: count, count: tree.count })
  }
  for (const [h, level] of tree.levels.entries()) level.length = Math.floor(count / 2 ** h)
  forgetPartialsAbove(tree, count)
  tree.count = count
}
