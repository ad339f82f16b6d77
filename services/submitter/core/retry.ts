/**
 * What to do with a retry request, in two pure steps around the chain read
 * the ticker makes in between:
 *
 *   1. `lookupRetry(state, request)`: what the submitter holds of the
 *      message. Some answers need no chain: a transaction carrying it is in
 *      the air (`in-flight`); the lane holds another message at that nonce,
 *      or the message at another nonce, or nothing at all above its floor
 *      (`unknown-message`). Otherwise it names the proofs it holds (or that
 *      it settled the nonce and forgot it) and the roots to check.
 *   2. `decideRetry(request, lookup, chain, chainId)`: with the Inbox's
 *      status of the nonce and which of those roots it has committed —
 *      - delivered → refuse `already-delivered`;
 *      - failed → `Inbox.retry` with a proof against a committed root, or
 *        refuse `no-committed-root` (none is), or `no-proof` (the submitter
 *        settled it, e.g. skipped after another relayer's failed attempt,
 *        and forgot it);
 *      - not attempted, kept (refused, or failed but the chain disagrees) →
 *        a one-message `Inbox.deliver` against a committed root, or refuse
 *        `no-committed-root`;
 *      - not attempted and still queued → refuse `queued`: the pipeline
 *        delivers it with its batch, and a separate delivery would only
 *        race that batch (which then skips it) for the same result.
 *
 * @module
 */
import type { Lane, Message, MessageId, RetryRefusalReason } from "../../../schemas/index.ts"
import { chunkHolding, chunkProofOf } from "./retry-proofs.ts"
import type { LaneState, RetryRequest, SingleProof, SubmitterState } from "./state.ts"

/** The Inbox's view of one nonce (`Inbox.messageStatus`). */
export type InboxMessageStatus = "none" | "delivered" | "failed"

/** A refusal, with a reason from the closed set and a sentence for people. */
export interface RetryRefusal {
  readonly kind: "refuse"
  readonly reason: RetryRefusalReason
  readonly detail: string
}

/** What the submitter holds of the requested message, before reading the chain. */
export type RetryLookup =
  | RetryRefusal
  | {
      readonly kind: "check"
      /**
       * `kept`: settled failed or refused and kept for retries; `queued`:
       * in a chunk waiting to be delivered; `settled`: delivered, or skipped
       * (another transaction attempted it) — with its proof while its chunk
       * is held, without anything once it is below the lane's floor.
       */
      readonly held: "kept" | "queued" | "settled"
      /** The message, if the submitter still holds it. */
      readonly message: Message | null
      /** Why it was kept: the recipient's revert data or the Inbox's refusal, if known. */
      readonly note: string | null
      /** Proofs whose roots the chain is asked about, best first. */
      readonly proofs: ReadonlyArray<SingleProof>
    }

/** What the ticker read from the destination for a `check`. */
export interface RetryChainFacts {
  readonly status: InboxMessageStatus
  /** The roots (of the lookup's proofs) the Inbox has committed for the lane. */
  readonly committed: ReadonlySet<string>
}

/** What to send for a request: `Inbox.retry`, or a one-message `Inbox.deliver`. */
export interface RetrySend {
  readonly kind: "retry" | "deliver"
  readonly message: Message
  readonly proof: SingleProof
}

export type RetryDecision = RetryRefusal | RetrySend

const describeLane = (lane: Lane) => `${lane.srcChainId}→${lane.dstChainId} (outbox ${lane.outbox})`

const refuse = (reason: RetryRefusalReason, detail: string): RetryRefusal => ({
  kind: "refuse",
  reason,
  detail,
})

/**
 * The pending requests, oldest first (the order the ticker answers them in).
 *
 * @example
 * ```ts
 * const next = pendingRetries(state)[0]
 * ```
 */
export const pendingRetries = (state: SubmitterState): ReadonlyArray<RetryRequest> =>
  [...state.requests.values()].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

/**
 * Step 1: what the submitter holds of the requested message, or a refusal
 * that needs no chain read.
 *
 * @example
 * ```ts
 * const lookup = lookupRetry(state, request)
 * if (lookup.kind === "refuse") record(new RetryRefused({ …, reason: lookup.reason, detail: lookup.detail }))
 * ```
 */
export const lookupRetry = (state: SubmitterState, request: RetryRequest): RetryLookup => {
  const { messageId: id, nonce } = request
  const where = `nonce ${nonce} of lane ${describeLane(request.lane)}`
  for (const flight of state.flights.values()) {
    if (!flight.messageIds.includes(id)) continue
    const hash = flight.transactions.at(-1)?.hash ?? "(unknown)"
    return refuse(
      "in-flight",
      `message ${id} is in the submitter's ${flight.action} transaction ${hash} (account nonce ${flight.nonce}), ` +
        "which has no outcome yet; wait for it, and retry only if it fails",
    )
  }
  const lane = state.lanes.get(request.laneId)
  const kept = lane?.retained.get(id)
  const held = lane === undefined ? undefined : chunkHolding(lane, id)
  const heldAt = kept?.message.nonce ?? (held === undefined ? undefined : held.chunk.start + held.index)
  if (heldAt !== undefined && heldAt !== nonce) {
    return refuse(
      "unknown-message",
      `message ${id} is nonce ${heldAt} of lane ${describeLane(request.lane)}, not nonce ${nonce}; request it again with nonce ${heldAt}`,
    )
  }
  if (heldAt === undefined) {
    const other = lane === undefined ? undefined : messageAt(lane, nonce)
    if (other !== undefined) {
      return refuse("unknown-message", `${where} is message ${other}, not ${id}; check the message id`)
    }
    if (lane !== undefined && nonce < lane.floor) {
      return { kind: "check", held: "settled", message: null, note: null, proofs: [] }
    }
    return refuse(
      "unknown-message",
      `the submitter of chain ${state.chainId} holds no message ${id} at ${where}: it has not been proven and ` +
        "attested yet (its timeline shows how far it got), or the message id, lane or nonce is wrong",
    )
  }
  if (kept !== undefined) {
    return { kind: "check", held: "kept", message: kept.message, note: noteOf(kept), proofs: kept.proofs }
  }
  const { chunk, index } = held!
  const settled = lane!.settled.get(id)
  const own = chunkProofOf(chunk, index)
  return {
    kind: "check",
    held: settled === "delivered" || settled === "skipped" ? "settled" : "queued",
    message: chunk.messages[index]!,
    note: settled === "skipped" ? "the submitter skipped it: another transaction attempted it first" : null,
    proofs: own === null ? [] : [own],
  }
}

const messageAt = (lane: LaneState, nonce: number): MessageId | undefined => {
  for (const kept of lane.retained.values()) if (kept.message.nonce === nonce) return kept.messageId
  for (const chunk of lane.chunks.values()) {
    if (chunk.start <= nonce && nonce < chunk.end) return chunk.messageIds[nonce - chunk.start]
  }
  return undefined
}

const noteOf = (kept: { readonly how: "failed" | "refused"; readonly reason: string | null }) =>
  kept.how === "failed"
    ? `its recipient reverted${kept.reason === null || kept.reason === "0x" ? "" : ` with ${kept.reason}`}`
    : `the Inbox refused the transaction that carried it${kept.reason === null ? "" : `: ${kept.reason}`}`

/**
 * Step 2: the decision, given the Inbox's status of the nonce and which of
 * the lookup's roots it has committed.
 *
 * @example
 * ```ts
 * const decision = decideRetry(request, lookup, { status: "failed", committed: new Set([root]) }, 902)
 * decision.kind // "retry"
 * ```
 */
export const decideRetry = (
  request: Pick<RetryRequest, "messageId" | "nonce" | "lane">,
  lookup: Extract<RetryLookup, { kind: "check" }>,
  chain: RetryChainFacts,
  chainId: number,
): RetryDecision => {
  const { messageId: id, nonce } = request
  const where = `nonce ${nonce} of lane ${describeLane(request.lane)}`
  if (chain.status === "delivered") {
    const compared =
      lookup.message === null
        ? "; the submitter settled that nonce earlier and no longer holds its message id to compare"
        : ""
    return refuse("already-delivered", `the Inbox on chain ${chainId} shows ${where} delivered${compared}`)
  }
  if (lookup.held === "settled" && lookup.message === null) {
    return refuse(
      "no-proof",
      chain.status === "failed"
        ? `the Inbox shows ${where} failed, but the submitter skipped it (another transaction attempted it first) ` +
            "and no longer holds the message and a proof of it; retry it by hand with its single proof from chorus.messages.proven"
        : `the Inbox has not attempted ${where}, but the submitter settled it and no longer holds a proof of it; ` +
            "was the destination chain reset?",
    )
  }
  if (chain.status === "none" && lookup.held === "queued") {
    return refuse(
      "queued",
      `message ${id} has not been attempted yet: it waits in the submitter's queue and goes with its batch once a ` +
        "checkpoint covering it is usable (committed, or attested and committable); there is nothing to retry",
    )
  }
  const usable = lookup.proofs.find((p) => chain.committed.has(p.checkpoint.root))
  if (usable === undefined || lookup.message === null) {
    const roots =
      lookup.proofs.length === 0
        ? "it holds no proof of it"
        : `the roots it holds proofs against are not committed: ${lookup.proofs
            .map((p) => `${p.checkpoint.root} (count ${p.checkpoint.count})`)
            .join(", ")}`
    const why = lookup.note === null ? "" : ` (${lookup.note})`
    return refuse(
      "no-committed-root",
      `message ${id}${why} cannot be proven to the Inbox on chain ${chainId}: ${roots}; ` +
        "it can be retried once one of those roots is committed",
    )
  }
  // Failed on chain: Inbox.retry runs it again. Never attempted (refused, or the chain forgot it): deliver it alone.
  return { kind: chain.status === "failed" ? "retry" : "deliver", message: lookup.message, proof: usable }
}
