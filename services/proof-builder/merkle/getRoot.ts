import { bytesToHex, type Hex } from "viem"
import { TREE_DEPTH } from "./constants.ts"
import { RangeOutOfBoundsError } from "./errors.ts"
import { nodeAt } from "./internal.ts"
import type { MerkleTree } from "./types.ts"

/**
 * The root of the tree, or of the tree as it was when it held `count` leaves (for checkpoints behind the head).
 *
 * @example
 * getRoot(tree)     // current root, equal to Outbox.root(dstChainId)
 * getRoot(tree, 10) // root when the lane had 10 messages
 */
export function getRoot(tree: MerkleTree, count: number = tree.count): Hex {
  if (!Number.isInteger(count) || count < 0 || count > tree.count) {
    throw new RangeOutOfBoundsError({ start: 0, end: count, count: tree.count })
  }
  return bytesToHex(nodeAt(tree, TREE_DEPTH, 0, count))
}
