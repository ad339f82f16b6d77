/**
 * What an included transaction did to each message of its batch, from the
 * Inbox's events in its receipt (the chain's writer decodes them): delivered
 * (`MessageDelivered`), failed in its recipient (`MessageFailed`, with the
 * revert bytes), or neither — skipped, because the Inbox had already
 * attempted it; and the checkpoint it stored, if any.
 *
 * @module
 */
import type { InboxReceipt } from "../../../chains/index.ts"
import { type Checkpoint, type MessageId, MessageOutcome } from "../../../schemas/index.ts"

export interface ReceiptOutcomes {
  readonly outcomes: ReadonlyArray<MessageOutcome>
  /** The checkpoint the transaction stored, if it emitted `CheckpointCommitted`. */
  readonly committed: Checkpoint | null
}

/**
 * The outcome of each of `messageIds` in `receipt`.
 *
 * @example
 * ```ts
 * const { outcomes, committed } = outcomesOf(receipt, flight.messageIds)
 * ```
 */
export const outcomesOf = (receipt: InboxReceipt, messageIds: ReadonlyArray<MessageId>): ReceiptOutcomes => ({
  outcomes: messageIds.map((messageId) => {
    const failed = receipt.failed.get(messageId)
    return receipt.delivered.has(messageId)
      ? new MessageOutcome({ messageId, result: "delivered", reason: null })
      : failed !== undefined
        ? new MessageOutcome({ messageId, result: "failed", reason: failed })
        : new MessageOutcome({ messageId, result: "skipped", reason: null })
  }),
  committed: receipt.committed,
})
