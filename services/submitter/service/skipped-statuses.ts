/**
 * What the Inbox shows for each message a `DeliverySkipped` names, read one
 * nonce at a time (`Inbox.messageStatus`), so that the log says whether a
 * skipped message ran at its recipient or reverted there.
 *
 * A status is `unknown` only when it cannot be read: the submitter does not
 * know the message's nonce, the read failed, or the Inbox shows the nonce not
 * attempted (which contradicts the skip: a reorganised chain, or a wrong
 * nonce). Each of those is logged as a warning; none is guessed.
 *
 * @module
 */
import { describeError } from "../../../chains/index.ts"
import type { Lane, MessageId, SkippedStatus } from "../../../schemas/index.ts"
import type { Writer } from "./writer.ts"

/**
 * The Inbox's status of each of `messageIds`, in order, read at the lane nonce `nonces` gives it.
 *
 * @example
 * ```ts
 * const statuses = await skippedStatuses(w, lane, ids, flight.messageNonces)
 * new DeliverySkipped({ lane, action: "deliver", messageIds: ids, statuses, reason })
 * ```
 */
export const skippedStatuses = (
  w: Writer,
  lane: Lane,
  messageIds: ReadonlyArray<MessageId>,
  nonces: ReadonlyMap<MessageId, number>,
): Promise<SkippedStatus[]> =>
  Promise.all(
    messageIds.map(async (messageId): Promise<SkippedStatus> => {
      const nonce = nonces.get(messageId)
      const unknown = (why: string, fields: Record<string, unknown> = {}): SkippedStatus => {
        w.deps.logger.warn(`skipped message recorded with Inbox status "unknown": ${why}`, {
          messageId,
          ...fields,
        })
        return "unknown"
      }
      if (nonce === undefined) return unknown("the submitter does not know its nonce")
      let status: Awaited<ReturnType<typeof w.deps.reader.messageStatus>>
      try {
        status = await w.deps.reader.messageStatus(lane, nonce)
      } catch (error) {
        return unknown("reading Inbox.messageStatus failed", { nonce, error: describeError(error) })
      }
      if (status === "none")
        return unknown("the Inbox shows its nonce not attempted, though it was skipped as attempted", {
          nonce,
        })
      return status
    }),
  )
