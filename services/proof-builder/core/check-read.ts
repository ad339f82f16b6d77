/**
 * The Outbox check: does the lane's tree agree with the Outbox's own root
 * and count at the block of the tree's newest message?
 *
 * The tree is checked at a block, not at "latest": every message of that
 * block that belongs to the lane must be in the tree before it can match,
 * and when it does, the checkpoint names a block every operator can read
 * the same root and count at.
 *
 * @module
 */
import type { BlockRef, OutboxLaneRead } from "../../../schemas/index.ts"
import { getRoot } from "../merkle/index.ts"
import type { LaneState } from "./state.ts"

/** The outcome of comparing a lane with one Outbox read: a closed set, each with its reason. */
export type ReadVerdict =
  /** Same block, same count, same root, and the count is past the last proposal. */
  | { readonly kind: "propose" }
  /** It matches, but a checkpoint at this count was already proposed. */
  | { readonly kind: "already-proposed" }
  /** The Outbox has more messages at this block than the tree: the rest of the block is still coming. */
  | { readonly kind: "behind"; readonly missing: number }
  /** The read is of another block than the tree's head (a different number or hash). */
  | { readonly kind: "other-block"; readonly detail: string }
  /** The tree has more messages than the Outbox at the head's block. */
  | { readonly kind: "tree-ahead"; readonly detail: string }
  /** Same count, different root: the tree's leaves are not the Outbox's. */
  | { readonly kind: "root-mismatch"; readonly detail: string }

const blockText = (block: BlockRef) => `block ${block.number} (${block.hash})`

/**
 * Compares a lane whose tree was just extended with an Outbox read.
 *
 * @example
 * ```ts
 * const verdict = checkRead(lane, read)
 * if (verdict.kind === "propose") outputs.push(...proposalOf(lane, read, chunkSize))
 * ```
 */
export const checkRead = (lane: LaneState, read: OutboxLaneRead): ReadVerdict => {
  const head = lane.head
  const count = lane.tree.count
  if (head === undefined || head.number !== read.block.number || head.hash !== read.block.hash) {
    return {
      kind: "other-block",
      detail: `the Outbox was read at ${blockText(read.block)}, but the lane's newest message (nonce ${
        count - 1
      }) was observed in ${head === undefined ? "no block" : blockText(head)}: the chain-watcher and the proof-builder's RPC disagree about the chain`,
    }
  }
  if (count < read.count) return { kind: "behind", missing: read.count - count }
  if (count > read.count) {
    return {
      kind: "tree-ahead",
      detail: `the tree holds ${count} messages, but the Outbox counts ${read.count} at ${blockText(read.block)}: messages were observed that the Outbox does not hold at that block`,
    }
  }
  const root = getRoot(lane.tree)
  if (root !== read.root) {
    return {
      kind: "root-mismatch",
      detail: `after ${count} messages the tree's root is ${root}, but the Outbox's root at ${blockText(read.block)} is ${read.root}: an observed message differs from the one the Outbox holds`,
    }
  }
  return count > lane.lastProposed ? { kind: "propose" } : { kind: "already-proposed" }
}
