import { bytesToHex, type Hex } from "viem"
import { TREE_DEPTH } from "./constants.ts"
import { RangeOutOfBoundsError } from "./errors.ts"
import { nodeAt } from "./internal.ts"
import type { MerkleTree, RangeProof } from "./types.ts"

/**
 * Builds the compact range proof the Inbox's `deliver` checks: for leaves `[start, end)` of the tree as it was at
 * `count` leaves (default: now), the siblings along the range's two edges, level by level from the leaves up.
 * At level h with `lo`/`hi` the range's first/last node: the left sibling `lo - 1` if `lo` is odd, then the right
 * sibling `hi + 1` if `hi` is even and that subtree is not empty (`(hi + 1) * 2^h < count`). Empty subtrees are
 * known zero hashes and are left out, so a range ending at `count` needs no right siblings at all.
 *
 * @example
 * const proof = getRangeProof(tree, { start: 64, end: 128, count: 128 })
 * // inbox.deliver(src, outbox, dst, proof.root, 64, encodeMessages(msgs), proof.siblings)
 */
export function getRangeProof(
  tree: MerkleTree,
  { start, end, count = tree.count }: { start: number; end: number; count?: number },
): RangeProof {
  if (
    ![start, end, count].every(Number.isInteger) ||
    start < 0 ||
    end <= start ||
    end > count ||
    count > tree.count
  ) {
    throw new RangeOutOfBoundsError({ start, end, count })
  }
  const siblings: Hex[] = []
  let lo = start
  let hi = end - 1
  for (let h = 0; h < TREE_DEPTH; h++) {
    if (lo % 2 === 1) siblings.push(bytesToHex(nodeAt(tree, h, lo - 1, count)))
    if (hi % 2 === 0 && (hi + 1) * 2 ** h < count) siblings.push(bytesToHex(nodeAt(tree, h, hi + 1, count)))
    lo = Math.floor(lo / 2)
    hi = Math.floor(hi / 2)
  }
  return { start, end, count, root: bytesToHex(nodeAt(tree, TREE_DEPTH, 0, count)), siblings }
}
