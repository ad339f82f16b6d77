/**
 * A receipt as a step records it: what the Inbox's events in it (the
 * chain's writer decodes them) say of the step's messages — delivered
 * (`MessageDelivered`), failed in their recipient (`MessageFailed`, with the
 * revert bytes) — and the checkpoint it stored, if any. A message neither
 * names was skipped there: the Inbox had already attempted it
 * (`receiptOutcomes` in the core says so).
 *
 * @module
 */
import type { InboxReceipt } from "../../../chains/index.ts"
import { type MessageId, type ReceiptRead, toU256 } from "../../../schemas/index.ts"

/**
 * The part of `receipt` about `messageIds`.
 *
 * @example
 * ```ts
 * const step = { _tag: "Included", action, messageIds, receipt: receiptReadOf(receipt, flight.messageIds) }
 * ```
 */
export const receiptReadOf = (receipt: InboxReceipt, messageIds: ReadonlyArray<MessageId>): ReceiptRead => ({
  transactionHash: receipt.transactionHash,
  block: receipt.block,
  gasUsed: toU256(receipt.gasUsed),
  delivered: messageIds.filter((id) => receipt.delivered.has(id.toLowerCase())),
  failed: messageIds.flatMap((messageId) => {
    const revertData = receipt.failed.get(messageId.toLowerCase())
    return revertData === undefined ? [] : [{ messageId, revertData }]
  }),
  committed: receipt.committed,
})
