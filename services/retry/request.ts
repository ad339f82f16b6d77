/**
 * Publishing a retry request: `RetryRequested` on `chorus.commands.retry`,
 * keyed by its lane so it reaches the submitter member that holds the lane.
 *
 * @module
 */
import { Exit, Schema } from "effect"
import { publishEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { ChorusError } from "../../errors/index.ts"
import {
  type Envelope,
  type FieldIssue,
  issuesOf,
  makeEnvelope,
  Producer,
  RetryRequested,
} from "../../schemas/index.ts"
import { CHORUS_VERSION } from "../runtime/index.ts"

/** What to retry, and who asks. Hex strings may be checksummed: they are lowercased. */
export interface RetryRequestInput {
  readonly messageId: string
  readonly srcChainId: number
  readonly outbox: string
  readonly dstChainId: number
  /** The message's nonce in its lane. */
  readonly nonce: number
  /** Who asks, free text (e.g. `alice@ops-1`); recorded in the log. */
  readonly requestedBy: string
  /** Why, free text. */
  readonly reason?: string
}

/** A retry request whose fields do not make a valid `RetryRequested`; each bad field is one line of the message. */
export class InvalidRetryRequestError extends ChorusError {
  override readonly name = "InvalidRetryRequestError"
  readonly issues: ReadonlyArray<FieldIssue>
  constructor(issues: ReadonlyArray<FieldIssue>) {
    super(`invalid retry request (${issues.length} problem${issues.length === 1 ? "" : "s"}):`, {
      details: { issues },
      metaMessages: issues.map((i) => `- ${i.path || "request"}: ${i.message}`),
      hint: "Nothing was published; fix those fields and ask again.",
    })
    this.issues = issues
  }
}

/** The request's fields as the schema names them, so issue paths name the caller's fields. */
const issuePath = (path: string) => path.replace(/^lane\./, "")

/**
 * Builds the request event, or throws `InvalidRetryRequestError` naming every bad field.
 *
 * @example
 * ```ts
 * const event = retryRequestOf({ messageId, srcChainId: 901, outbox, dstChainId: 902, nonce: 7, requestedBy: "alice@ops" }, new Date())
 * ```
 */
export const retryRequestOf = (input: RetryRequestInput, now: Date): RetryRequested => {
  const decoded = Schema.decodeUnknownExit(RetryRequested)(
    {
      _tag: "RetryRequested",
      messageId: typeof input.messageId === "string" ? input.messageId.toLowerCase() : input.messageId,
      lane: {
        srcChainId: input.srcChainId,
        outbox: typeof input.outbox === "string" ? input.outbox.toLowerCase() : input.outbox,
        dstChainId: input.dstChainId,
      },
      nonce: input.nonce,
      requestedBy: input.requestedBy,
      reason: input.reason ?? null,
      requestedAt: now.toISOString(),
    },
    { errors: "all" },
  )
  if (Exit.isSuccess(decoded)) return decoded.value
  const error = decoded.cause.reasons.find((r) => r._tag === "Fail")?.error
  const issues = error === undefined ? [{ path: "", message: "did not decode" }] : issuesOf(error)
  throw new InvalidRetryRequestError(issues.map((i) => ({ ...i, path: issuePath(i.path) })))
}

export interface RequestRetryOptions {
  /** When the request is made (default: now). */
  readonly now?: Date
}

/**
 * Publishes a retry request and returns its envelope: pass it to
 * `awaitRetryOutcome` to follow the submitter's answer. Resolves once the
 * bus acknowledged the record. Throws `InvalidRetryRequestError` (nothing
 * published) if a field is wrong.
 *
 * @example
 * ```ts
 * const request = await requestRetry(bus, {
 *   messageId: "0x…", srcChainId: 901, outbox: "0x…", dstChainId: 902, nonce: 7,
 *   requestedBy: "alice@ops-1", reason: "recipient fixed",
 * })
 * const outcome = await awaitRetryOutcome(bus, request, { timeoutMs: 60_000 })
 * ```
 */
export const requestRetry = async (
  bus: BusPort,
  input: RetryRequestInput,
  options: RequestRetryOptions = {},
): Promise<Envelope<RetryRequested>> => {
  const now = options.now ?? new Date()
  const event = retryRequestOf(input, now)
  const envelope = makeEnvelope(event, {
    producer: new Producer({ service: "retry", instance: event.requestedBy, version: CHORUS_VERSION }),
    causationId: null,
    time: now,
  })
  await publishEvents(bus, [envelope])
  return envelope
}
