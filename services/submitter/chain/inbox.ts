/**
 * The Inbox call each planned action (or retry) becomes, in Chorus's terms:
 * the chain's writer (`chains/`) encodes it. The reads that tell what the
 * Inbox already has are the chain reader's (`InboxDeliveries`).
 *
 * @module
 */
import type { InboxCall } from "../../../chains/index.ts"
import type { Lane, Message } from "../../../schemas/index.ts"
import type { PlannedAction, SingleProof } from "../core/index.ts"

/**
 * The Inbox call a planned action is.
 *
 * @example
 * ```ts
 * const estimate = await writer.estimate(inboxCallOf(plan.actions[0]))
 * ```
 */
export const inboxCallOf = (action: PlannedAction): InboxCall => {
  switch (action.kind) {
    case "commit":
      return {
        kind: "commit",
        checkpoint: action.checkpoint,
        epoch: action.epoch,
        signatures: action.signatures,
      }
    case "deliver":
      return {
        kind: "deliver",
        outbox: action.lane.outbox,
        start: action.start,
        messages: action.messages,
        root: action.checkpoint.root,
        proof: action.proof,
      }
    case "commitAndDeliver":
      return {
        kind: "commitAndDeliver",
        checkpoint: action.checkpoint,
        epoch: action.epoch,
        signatures: action.signatures,
        start: action.start,
        messages: action.messages,
        proof: action.proof,
      }
  }
}

/**
 * `Inbox.retry(message, root, proof)`: runs a failed message again.
 *
 * @example
 * ```ts
 * const call = retryCallOf(kept.message, kept.proofs[0])
 * ```
 */
export const retryCallOf = (message: Message, proof: SingleProof): InboxCall => ({
  kind: "retry",
  message,
  root: proof.checkpoint.root,
  proof: proof.proof,
})

/**
 * `Inbox.deliver` of one message with its single proof (a range of one): a
 * message no delivery ran, re-driven on request.
 *
 * @example
 * ```ts
 * const call = singleDeliverCallOf(lane, kept.message, kept.proofs[0])
 * ```
 */
export const singleDeliverCallOf = (lane: Lane, message: Message, proof: SingleProof): InboxCall => ({
  kind: "deliver",
  outbox: lane.outbox,
  start: message.nonce,
  messages: [message],
  root: proof.checkpoint.root,
  proof: proof.proof,
})
