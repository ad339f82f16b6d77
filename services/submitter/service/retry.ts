/**
 * The ticker's answer to one retry request, with the discipline of any
 * other send: what the submitter holds is looked up in its state
 * (`lookupRetry`); unless that already decides, the Inbox is read — the
 * nonce's status (`messageStatus`) and which of the held proofs' roots it
 * has committed — and `decideRetry` picks `Inbox.retry`, a one-message
 * `Inbox.deliver`, or a refusal. A refusal is recorded as `RetryRefused`; a
 * send goes through `submit` (gas estimated with its margin — a revert such
 * as `RetryFailed` records `DeliveryFailed` with the decoded reason and
 * sends nothing — then signed, broadcast and recorded as
 * `DeliverySubmitted`). Every record is caused by the request, so the log
 * shows it answered and the request is never acted on again.
 *
 * @module
 */
import { Bytes32 } from "../../../schemas/index.ts"
import { retryCallOf, singleDeliverCallOf } from "../chain/index.ts"
import {
  decideRetry,
  lookupRetry,
  type RetryChainFacts,
  type RetryLookup,
  type RetryRequest,
  type SubmitterState,
} from "../core/index.ts"
import { submit } from "./send.ts"
import type { TickResult } from "./tick-result.ts"
import type { Writer } from "./writer.ts"

const chainFactsOf = async (
  w: Writer,
  request: RetryRequest,
  lookup: Extract<RetryLookup, { kind: "check" }>,
): Promise<RetryChainFacts> => {
  const status = await w.deps.reader.messageStatus(request.lane, request.nonce)
  const committed = new Set<string>()
  if (status !== "delivered") {
    for (const { checkpoint } of lookup.proofs) {
      if ((await w.deps.reader.committedCount(request.lane, checkpoint.root)) > 0)
        committed.add(checkpoint.root)
    }
  }
  return { status, committed }
}

/**
 * Answers `request` (see the module doc): records `RetryRefused`, or sends the retry and records it.
 *
 * @example
 * ```ts
 * const request = pendingRetries(state)[0]
 * if (request !== undefined) return answerRetry(writer, state, request) // { kind: "submitted", action: "retry", … }
 * ```
 */
export const answerRetry = async (
  w: Writer,
  state: SubmitterState,
  request: RetryRequest,
): Promise<TickResult> => {
  const { messageId, nonce, lane } = request
  const lookup = lookupRetry(state, request)
  const facts = lookup.kind === "refuse" ? null : await chainFactsOf(w, request, lookup)
  const decision = lookup.kind === "refuse" ? lookup : decideRetry(request, lookup, facts!, state.chainId)
  if (decision.kind === "refuse") {
    await w.recordStep(
      lane,
      {
        _tag: "RetryDeclined",
        messageId,
        nonce,
        reason: decision.reason,
        detail: decision.detail,
        status: facts?.status ?? null,
        committedRoots: [...(facts?.committed ?? [])].map((root) => Bytes32.make(root)),
      },
      request.id,
      { notBefore: request.time },
    )
    w.failures = 0
    return {
      kind: "retry-refused",
      reason: decision.detail,
      refusal: decision.reason,
      messageId,
      request: request.id,
    }
  }
  return submit(w, {
    laneId: request.laneId,
    lane,
    action: decision.kind,
    messageIds: [messageId],
    origin: request.id,
    notBefore: request.time,
    call:
      decision.kind === "retry"
        ? retryCallOf(decision.message, decision.proof)
        : singleDeliverCallOf(lane, decision.message, decision.proof),
    root: null,
    proofRoot: decision.proof.checkpoint.root,
    messageNonces: new Map([[messageId, nonce]]),
  })
}
