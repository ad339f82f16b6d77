/**
 * A proposal: the checkpoint, then range proofs for its new messages in
 * chunks, then a single proof per new message.
 *
 * The new messages are `[previousCount, count)`. Chunks start at
 * `previousCount` and hold at most `chunkSize` messages, so the submitter can
 * deliver each with one `Inbox.deliver`; every proof is against the
 * checkpoint's own root and count, in the format `deliver` and `retry` take
 * (see docs/contracts.md, "Range proof format").
 *
 * @module
 */
import {
  Bytes32,
  Checkpoint,
  CheckpointProposed,
  type ChorusEvent,
  MessageId,
  MessageProven,
  type OutboxLaneRead,
} from "../../../schemas/index.ts"
import { getLeaves, getMessageProof, getRangeProof, type RangeProof } from "../merkle/index.ts"
import type { LaneState } from "./state.ts"

/**
 * The events that propose the lane's tree, as checked against `read`.
 *
 * @example
 * ```ts
 * const events = proposalOf(lane, read, 32) // [CheckpointProposed, MessageProven(range)…, MessageProven(single)…]
 * ```
 */
export const proposalOf = (
  lane: LaneState,
  read: OutboxLaneRead,
  chunkSize: number,
): ReadonlyArray<ChorusEvent> => {
  const count = lane.tree.count
  const previousCount = lane.lastProposed
  const { srcChainId, outbox, dstChainId } = lane.lane
  const checkpoint = new Checkpoint({ srcChainId, outbox, dstChainId, root: read.root, count })
  const proven = (kind: "range" | "single", proof: RangeProof) =>
    new MessageProven({
      checkpoint,
      kind,
      start: proof.start,
      messages: lane.unproposed.slice(proof.start - previousCount, proof.end - previousCount),
      messageIds: getLeaves(lane.tree, proof.start, proof.end).map((leaf) => MessageId.make(leaf)),
      proof: proof.siblings.map((sibling) => Bytes32.make(sibling)),
    })
  const events: ChorusEvent[] = [new CheckpointProposed({ checkpoint, previousCount, block: read.block })]
  for (let start = previousCount; start < count; start += chunkSize) {
    const end = Math.min(start + chunkSize, count)
    events.push(proven("range", getRangeProof(lane.tree, { start, end, count })))
  }
  for (let nonce = previousCount; nonce < count; nonce++) {
    events.push(proven("single", getMessageProof(lane.tree, nonce, count)))
  }
  return events
}
