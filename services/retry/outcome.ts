/**
 * What became of a retry request, read from `chorus.deliveries`: the
 * submitter answers with events caused by the request — `RetryRefused`, a
 * `DeliveryFailed` (the retry would revert, nothing was sent), or a
 * `DeliverySubmitted` — and a transaction's outcome is caused by its
 * submission (or by a fee-bump replacement, itself caused by the previous
 * submission): `DeliveryConfirmed`, `DeliveryFailed`, or `DeliverySkipped`
 * (another transaction attempted it first: delivered or failed, as the
 * Inbox showed it then; an older record, or a read that failed, does not
 * say, and the request ends failed so that nobody takes it as delivered).
 *
 * `followRetry` is the pure part: given the request and the events read so
 * far, the outcome, or where the request stands. Whether an outcome event
 * delivered or failed the message is the lifecycle projection's answer
 * (`messageStagesOf`), the same the audit index and the devnet give; this
 * module matches answers to the request and words what happened.
 *
 * @module
 */
import type {
  Envelope,
  EventId,
  Hex,
  MessageId,
  RetryRefusalReason,
  RetryRequested,
  TxHash,
} from "../../schemas/index.ts"
import { messageStagesOf } from "../lifecycle/index.ts"

/** How a retry request ended, as a closed set; `trail` is every event of it, request first. */
export type RetryOutcome =
  /** The message ran at its recipient (by the retry, or by another transaction first, as the Inbox showed). */
  | {
      readonly kind: "delivered"
      readonly messageId: MessageId
      /** The transaction that delivered it, if it was the submitter's. */
      readonly transactionHash: TxHash | null
      readonly blockNumber: number | null
      readonly detail: string
      readonly trail: ReadonlyArray<Envelope>
    }
  /**
   * The retry did not deliver it: the recipient still reverts, the transaction failed, or another transaction
   * attempted it first and the Inbox showed it failed (or its status was not recorded).
   */
  | {
      readonly kind: "failed"
      readonly messageId: MessageId
      /** Human-readable, decoded (e.g. `RetryFailed(messageId=0x…, reason=0x…)`). */
      readonly reason: string
      readonly revertData: Hex | null
      readonly transactionHash: TxHash | null
      readonly trail: ReadonlyArray<Envelope>
    }
  /** The submitter would not act on it. */
  | {
      readonly kind: "refused"
      readonly messageId: MessageId
      readonly reason: RetryRefusalReason
      readonly detail: string
      readonly trail: ReadonlyArray<Envelope>
    }
  /** No outcome within the time allowed; `detail` says how far it got. */
  | {
      readonly kind: "timeout"
      readonly messageId: MessageId
      readonly detail: string
      readonly trail: ReadonlyArray<Envelope>
    }

/** Where a followed request stands. */
export type RetryProgress =
  | { readonly kind: "done"; readonly outcome: Exclude<RetryOutcome, { kind: "timeout" }> }
  | {
      readonly kind: "waiting"
      /** `unanswered`: nothing caused by the request yet; `in-flight`: its transaction has no outcome yet. */
      readonly stage: "unanswered" | "in-flight"
      readonly transactionHash: TxHash | null
      readonly trail: ReadonlyArray<Envelope>
    }

/**
 * The outcome of `request` from the events read from `chorus.deliveries`
 * (any order within a partition's offset order; unrelated events are
 * ignored), or where it stands.
 *
 * @example
 * ```ts
 * const progress = followRetry(request, events)
 * if (progress.kind === "done") console.log(progress.outcome.kind) // "delivered"
 * ```
 */
export const followRetry = (request: Envelope<RetryRequested>, events: Iterable<Envelope>): RetryProgress => {
  const messageId = request.event.messageId
  const trail: Envelope[] = [request]
  /** The request and its transaction's submissions: what an answer or outcome names as its cause. */
  const causes = new Set<EventId>([request.id])
  let transactionHash: TxHash | null = null
  const done = (outcome: Exclude<RetryOutcome, { kind: "timeout" }>): RetryProgress => ({
    kind: "done",
    outcome,
  })
  for (const envelope of events) {
    if (envelope.causationId === null || !causes.has(envelope.causationId)) continue
    trail.push(envelope)
    const event = envelope.event
    switch (event._tag) {
      case "RetryRefused":
        return done({ kind: "refused", messageId, reason: event.reason, detail: event.detail, trail })
      case "DeliverySubmitted":
        causes.add(envelope.id)
        transactionHash = event.transactionHash
        break
      case "DeliveryConfirmed": {
        const stage = messageStagesOf(event).get(messageId)
        const outcome = event.outcomes.find((o) => o.messageId === messageId)
        const tx = event.transactionHash
        if (stage === "delivered") {
          return done({
            kind: "delivered",
            messageId,
            transactionHash: tx,
            blockNumber: event.block.number,
            detail: `${event.action} transaction ${tx} delivered it in block ${event.block.number}`,
            trail,
          })
        }
        const reason =
          outcome === undefined
            ? `transaction ${tx} landed without an outcome for the message`
            : stage === "failed"
              ? `the recipient reverted${outcome.reason === null || outcome.reason === "0x" ? "" : ` with ${outcome.reason}`}`
              : "the Inbox had already attempted it when the transaction ran (another transaction got there first)"
        return done({
          kind: "failed",
          messageId,
          reason,
          revertData: outcome?.reason ?? null,
          transactionHash: tx,
          trail,
        })
      }
      case "DeliveryFailed":
        return done({
          kind: "failed",
          messageId,
          reason: event.reason,
          revertData: event.revertData,
          transactionHash: event.transactionHash,
          trail,
        })
      case "DeliverySkipped": {
        // Another transaction attempted the message first: what the Inbox showed for it is the outcome, and
        // a status the submitter could not read ends the request failed, so nobody takes it as delivered.
        const stage = messageStagesOf(event).get(messageId)
        if (stage === "delivered") {
          return done({
            kind: "delivered",
            messageId,
            transactionHash: null,
            blockNumber: null,
            detail: `${event.reason}; the Inbox shows it delivered`,
            trail,
          })
        }
        return done({
          kind: "failed",
          messageId,
          reason:
            stage === "failed"
              ? `another transaction attempted it first and the Inbox shows it failed (its recipient reverted); ${event.reason}`
              : `another transaction attempted it first and its Inbox status is unknown (not recorded; ${event.reason}): ` +
                `trace it with \`chorus trace ${messageId}\` and check Inbox.messageStatus on chain ${event.lane.dstChainId} ` +
                "before requesting another retry",
          revertData: null,
          transactionHash: null,
          trail,
        })
      }
      default:
        // RootCommitted and the like: part of the trail, not an outcome.
        break
    }
  }
  return {
    kind: "waiting",
    stage: transactionHash === null ? "unanswered" : "in-flight",
    transactionHash,
    trail,
  }
}
