/**
 * The submitter's core: folds its inputs into state, and its only output
 * live is `ProofRefused`, for a chunk that does not verify. Transactions are
 * the ticker's business, since they need the clock and the chain; its
 * records come back here through `chorus.deliveries`, so the state after a
 * restart is exactly what the log implies, including flights that were in
 * the air. A replay's core also makes each recorded step's records again
 * from the answers behind them (see "Steps" below).
 *
 * Inputs, for lanes whose destination is this chain:
 * - `CheckpointAttested`: a root the submitter may commit.
 * - `MessageProven` of kind `range`: a chunk it may deliver, once its
 *   message ids are its messages' and its proof gives its checkpoint's root
 *   (`verify-chunk.ts`). One that does not verify is refused: the core
 *   outputs a `ProofRefused` caused by it, with the reason, and folds
 *   nothing of it. So it never takes a chunk's place, can neither jam the
 *   planner nor push the real proof of the same range out, is never
 *   retried, and says why in the log and in `chorus trace`. Kind `single`
 *   is a no-op here, verified or not: a retry needs a proof against a root
 *   the Inbox committed, and the submitter derives it from the range proof
 *   of the batch that carried the message (see "Retries" below).
 * - `RetryRequested` (`chorus.commands.retry`): a request the ticker answers.
 * - Its own outcomes: `DeliverySubmitted` opens (or adds a replacement to) the
 *   flight of an account nonce; `DeliveryConfirmed`, `DeliveryFailed` and
 *   `DeliverySkipped` close it — by transaction hash, or by naming the
 *   submission as their cause — and settle its messages; `RootCommitted`
 *   marks a root stored. `RetryRefused`, and a `DeliverySubmitted`,
 *   `DeliveryFailed` or `DeliverySkipped` caused by a request, answer it.
 *
 * Retries: when a message settles `failed` (its recipient reverted) or
 * `refused` (the Inbox refused its transaction for the messages' fault),
 * the fold keeps it — the message and single-message proofs narrowed from
 * the range proofs it holds: against the root of the batch that carried it
 * (the one the Inbox stored, since a batch with a failure always stores its
 * root) and against its own chunk's checkpoint. It is kept after its chunk
 * is dropped, until a retry delivers it. Outcomes of a retry (action
 * `retry`, or a one-message `deliver` caused by a request) update what is
 * kept instead of settling anything: delivered drops it, failed keeps it.
 *
 * Steps (the replay's core, `{ steps: true }`, only): a `DestinationRead` its
 * own instance recorded gives the records the step made (`stepOutcomes`),
 * stamped beside it — with its cause, at its time — as the ticker stamped
 * them; it changes no state, since the records themselves come back on
 * `chorus.deliveries`. A read another producer wrote, or of another
 * destination, gives nothing, and the live core ignores every read: its
 * records are its ticker's, so a read planted on a topic it consumes makes
 * nothing it would sign.
 *
 * Documented no-ops: every event of a lane ending on another chain; proofs
 * and checkpoints of messages already settled and forgotten (below the
 * lane's floor); a second proof of a chunk already held; a chunk under yet
 * another checkpoint when its start already keeps `MAX_ALTERNATES`; a
 * request folded again, or after its answer; its own `ProofRefused`.
 * The chunks among these verify (a refusal depends on the chunk alone, so
 * one that does not is refused even below the floor): they are silent,
 * since nothing is wrong with them — a duplicate is the proof-builder
 * saying the same thing twice, and a full start keeps the chunks it has.
 *
 * Invariants:
 * - Idempotent per fact: folding an event twice leaves the state as once.
 * - A refused chunk changes no state, and neither does its `ProofRefused`
 *   read back on a rebuild: the state a rebuild reaches is the one the live
 *   fold had. A refusal's id covers only its cause and its payload, both
 *   from the log, so folding the same input again gives the same refusal,
 *   which consumers drop as a duplicate.
 * - A message is settled for good: `delivered`, `failed` (the recipient
 *   reverted; `chorus retry` re-drives it), `skipped` (the Inbox already had
 *   it), or `refused` (the Inbox refused the transaction carrying it for the
 *   messages' own fault; it is parked). A `DeliveryFailed` without revert
 *   data means the chain never judged the work (the transaction never
 *   landed), and one with a temporary refusal (paused) will be judged again:
 *   their messages return to the queue. A refusal of the quorum refuses the
 *   root instead, until it is attested again (see `refusals.ts`).
 * - A chunk whose messages are all settled is dropped, and the lane's floor
 *   rises past it, so the state holds only pending work — and the failed
 *   and refused messages kept for retries.
 * - A request is pending from its `RetryRequested` until the first event
 *   caused by it; once answered it is never pending again (the ticker acts
 *   on a request once, across restarts). A failed `Inbox.retry` (it reverts
 *   as a whole) leaves the message failed and kept.
 * - `initial` is never mutated; the first input of a shard copies it.
 *
 * @module
 */

import type {
  Bytes32,
  CheckpointAttested,
  ChorusEvent,
  DeliveryConfirmed,
  DeliveryFailed,
  DeliverySkipped,
  DeliverySubmitted,
  Envelope,
  EventId,
  Lane,
  MessageId,
  MessageProven,
  RetryRequested,
} from "../../../schemas/index.ts"
import type { Decision, LaneCore } from "../../runtime/index.ts"
import { isCheckpointRevert, isGasShortfall, isTransientRevert } from "./refusals.ts"
import { chunkHolding, retryProofsOf } from "./retry-proofs.ts"
import {
  ANSWER_CAUSES_KEPT,
  type CheckpointEntry,
  type Chunk,
  emptySubmitterState,
  type Flight,
  type LaneState,
  laneIdOf,
  MAX_ALTERNATES,
  SET_UPDATES_KEPT,
  type SubmitterState,
} from "./state.ts"
import { stepOutcomes } from "./step-outcomes.ts"
import { proofRefusedOf, verifyChunk } from "./verify-chunk.ts"

/**
 * The submitter's lane core for destination `chainId`.
 *
 * @example
 * ```ts
 * const core = makeSubmitterCore(902)                      // live: folds its inputs
 * const replaying = makeSubmitterCore(902, { steps: true }) // a replay's: also makes each step's records
 * const { state } = foldCore(core, producer, inputs.map((input) => ({ input, reads: [] })))
 * ```
 */
export const makeSubmitterCore = (
  chainId: number,
  options: { readonly steps?: boolean } = {},
): LaneCore<SubmitterState> => {
  const initial = emptySubmitterState(chainId)
  const decide = (current: SubmitterState, input: Envelope): Decision<SubmitterState> => {
    const event = input.event
    if (event._tag === "DestinationRead") {
      // A step's records, made again from the answers they were made from: a replay's core only. The live
      // submitter's records come from its ticker; a read that reaches it on any topic is nothing to it.
      const mine =
        options.steps === true &&
        event.lane.dstChainId === chainId &&
        input.producer.service === "submitter" &&
        input.producer.instance === String(chainId)
      return mine
        ? { state: current, outputs: stepOutcomes(event), besideInput: true }
        : { state: current, outputs: [] }
    }
    const state = current === initial ? emptySubmitterState(chainId) : current
    const { changed, outputs } = foldInput(state, input)
    return { state: changed ? state : current, outputs }
  }
  return { initial, decide }
}

/** What folding one input did: whether it changed the state, and the events the core outputs for it. */
export interface Folded {
  readonly changed: boolean
  readonly outputs: ReadonlyArray<ChorusEvent>
}

/**
 * Folds one envelope into `state` in place. `changed` is false when it was
 * a no-op for this chain; `outputs` holds the `ProofRefused` of a range
 * chunk for this chain that does not verify, which changes nothing.
 *
 * @example
 * ```ts
 * foldInput(state, attestedEnvelope) // { changed: true, outputs: [] }
 * foldInput(state, forgedChunk) // { changed: false, outputs: [ProofRefused { reason: "root-mismatch", … }] }
 * ```
 */
export const foldInput = (state: SubmitterState, input: Envelope): Folded => {
  const event = input.event
  if (
    event._tag === "MessageProven" &&
    event.kind === "range" &&
    event.checkpoint.dstChainId === state.chainId
  ) {
    // Checked before anything is looked up, so a refused chunk leaves no trace in the state (not even its lane).
    const verdict = verifyChunk(event)
    if (!verdict.ok) return { changed: false, outputs: [proofRefusedOf(event, verdict)] }
  }
  return { changed: foldFact(state, input), outputs: [] }
}

/** Folds one envelope (a range chunk only once it verified) into `state` in place; false when a no-op. */
const foldFact = (state: SubmitterState, input: Envelope): boolean => {
  const time = Date.parse(input.time)
  const event = input.event
  switch (event._tag) {
    case "CheckpointAttested":
      if (event.checkpoint.dstChainId !== state.chainId) return false
      onAttested(state, event, input.id, time)
      return true
    case "MessageProven":
      if (event.checkpoint.dstChainId !== state.chainId || event.kind !== "range") return false
      onProven(state, event, input.id, time)
      return true
    case "RootCommitted":
      if (event.checkpoint.dstChainId !== state.chainId) return false
      {
        const lane = laneOf(state, event.checkpoint)
        if (event.checkpoint.count > lane.floor)
          markCommitted(lane, event.checkpoint.root, time, event.checkpoint)
      }
      return true
    case "DeliverySubmitted":
      if (event.lane.dstChainId !== state.chainId) return false
      answer(state, input.causationId)
      onSubmitted(state, event, input)
      return true
    case "DeliveryConfirmed":
      if (event.lane.dstChainId !== state.chainId) return false
      onConfirmed(state, event, input, time)
      return true
    case "DeliveryFailed":
      if (event.lane.dstChainId !== state.chainId) return false
      answer(state, input.causationId)
      onFailed(state, event, input)
      return true
    case "DeliverySkipped":
      if (event.lane.dstChainId !== state.chainId) return false
      answer(state, input.causationId)
      onSkipped(state, event, input, time)
      return true
    case "RetryRequested":
      if (event.lane.dstChainId !== state.chainId) return false
      onRequested(state, event, input.id, time)
      return true
    case "RetryRefused":
      if (event.lane.dstChainId !== state.chainId) return false
      if (input.causationId !== null) {
        state.requests.delete(input.causationId)
        state.answerCauses.delete(input.causationId)
        state.answered.add(input.causationId)
      }
      return true
    case "ProofRefused":
      // Its own verdict, read back on a rebuild: the chunk it names was never folded, so there is nothing to do.
      return false
    case "OperatorSetAttested": {
      // The collector's word only: an update from any other producer is nobody's attestation.
      if (event.destination !== state.chainId || input.producer.service !== "attestation-collector")
        return false
      const { attested } = state.setUpdate
      attested.set(input.id, event)
      if (attested.size > SET_UPDATES_KEPT) {
        const lowest = [...attested].reduce((a, b) => (b[1].epoch < a[1].epoch ? b : a))
        attested.delete(lowest[0])
      }
      return true
    }
    case "OperatorSetSubmitted":
      if (event.destination !== state.chainId) return false
      state.setUpdate.submitted = { attestation: input.causationId, event }
      return true
    case "OperatorSetApplied":
    case "OperatorSetUpdateFailed": {
      if (event.destination !== state.chainId) return false
      const update = state.setUpdate
      if (update.submitted !== null && update.submitted.event.epoch === event.epoch) update.submitted = null
      // Refused before anything was sent (the Inbox's estimate, or a malformed update): that attestation is not
      // sent again. Anything else is settled by the chain: the update stays due while the Inbox is behind it.
      if (
        event._tag === "OperatorSetUpdateFailed" &&
        event.transactionHash === null &&
        input.causationId !== null
      )
        update.refused.add(input.causationId)
      return true
    }
    default:
      // Other types never travel on the submitter's input topics.
      return false
  }
}

const laneOf = (
  state: SubmitterState,
  lane: Pick<Lane, "srcChainId" | "outbox" | "dstChainId">,
): LaneState => {
  const id = laneIdOf(lane)
  let found = state.lanes.get(id)
  if (found === undefined) {
    found = {
      id,
      lane: { srcChainId: lane.srcChainId, outbox: lane.outbox, dstChainId: lane.dstChainId } as Lane,
      checkpoints: new Map(),
      chunks: new Map(),
      alternates: new Map(),
      settled: new Map(),
      retained: new Map(),
      shortOfGas: new Set(),
      floor: 0,
    }
    state.lanes.set(id, found)
  }
  return found
}

const onAttested = (state: SubmitterState, event: CheckpointAttested, id: EventId, time: number) => {
  const lane = laneOf(state, event.checkpoint)
  if (event.checkpoint.count <= lane.floor) return
  const entry = entryOf(lane, event.checkpoint)
  // Every attestation of the root is dated, the first kept or not: one after a resume vouches for it again.
  if (entry.lastAttestedAt === null || time > entry.lastAttestedAt) entry.lastAttestedAt = time
  // A new attestation of a root the Inbox refused (say, after the operator set changed) makes it usable again.
  if (entry.attestation !== null && (entry.refused === null || entry.attestation.id === id)) return
  if (entry.attestation !== null) state.attestations.delete(entry.attestation.id)
  entry.attestation = { id, time, epoch: event.epoch, signatures: event.signatures }
  entry.refused = null
  state.attestations.set(id, { laneId: lane.id, root: event.checkpoint.root })
  for (const start of lane.alternates.keys()) promote(lane, start)
}

const isAttested = (lane: LaneState, chunk: Chunk) =>
  (lane.checkpoints.get(chunk.checkpoint.root)?.attestation ?? null) !== null

/** Puts an alternate under an attested checkpoint in the slot of a held chunk whose checkpoint is not. */
const promote = (lane: LaneState, start: number) => {
  const held = lane.chunks.get(start)
  const alternates = lane.alternates.get(start)
  if (held === undefined || alternates === undefined || isAttested(lane, held)) return
  const index = alternates.findIndex((chunk) => isAttested(lane, chunk))
  if (index < 0) return
  const [better] = alternates.splice(index, 1, held)
  lane.chunks.set(start, better!)
}

const entryOf = (lane: LaneState, checkpoint: CheckpointEntry["checkpoint"]): CheckpointEntry => {
  let entry = lane.checkpoints.get(checkpoint.root)
  if (entry === undefined) {
    entry = { checkpoint, attestation: null, lastAttestedAt: null, committedAt: null, refused: null }
    lane.checkpoints.set(checkpoint.root, entry)
  }
  return entry
}

/** A range chunk that verified (`foldInput` refused every other): held, kept as an alternate, or dropped. */
const onProven = (state: SubmitterState, event: MessageProven, id: EventId, time: number) => {
  const lane = laneOf(state, event.checkpoint)
  const end = event.start + event.messages.length
  if (end <= lane.floor) return
  const held = lane.chunks.get(event.start)
  const alternates = lane.alternates.get(event.start) ?? []
  if (
    held !== undefined &&
    (held.checkpoint.root === event.checkpoint.root ||
      alternates.length >= MAX_ALTERNATES ||
      alternates.some((a) => a.checkpoint.root === event.checkpoint.root))
  )
    return
  const chunk: Chunk = {
    id,
    time,
    checkpoint: event.checkpoint,
    start: event.start,
    end,
    messages: event.messages,
    messageIds: event.messageIds,
    proof: event.proof,
  }
  if (held === undefined) lane.chunks.set(chunk.start, chunk)
  else {
    lane.alternates.set(chunk.start, [...alternates, chunk])
    promote(lane, chunk.start)
  }
  compact(state, lane)
}

const markCommitted = (
  lane: LaneState,
  root: Bytes32,
  time: number,
  checkpoint?: CheckpointEntry["checkpoint"],
) => {
  const entry = checkpoint === undefined ? lane.checkpoints.get(root) : entryOf(lane, checkpoint)
  if (entry !== undefined && entry.committedAt === null) entry.committedAt = time
}

const onSubmitted = (state: SubmitterState, event: DeliverySubmitted, input: Envelope) => {
  const lane = laneOf(state, event.lane)
  const cause = input.causationId
  const byCause = cause === null ? undefined : state.submissions.get(cause)
  let flight = state.flights.get(byCause ?? event.nonce)
  if (flight === undefined || flight.nonce !== event.nonce) {
    // A cause that is an attestation names the root a commit stores.
    const origin = cause !== null && byCause === undefined ? cause : null
    const attested = origin === null ? undefined : state.attestations.get(origin)
    flight = {
      nonce: event.nonce,
      laneId: lane.id,
      lane: lane.lane,
      action: event.action,
      messageIds: event.messageIds,
      origin,
      root:
        event.action === "commit" || event.action === "commitAndDeliver" ? (attested?.root ?? null) : null,
      proofRoot: event.proofRoot ?? null,
      transactions: [],
    }
    state.flights.set(event.nonce, flight)
  }
  if (!flight.transactions.some((t) => t.hash === event.transactionHash)) {
    flight.transactions.push({
      hash: event.transactionHash,
      submission: input.id,
      maxFeePerGas: BigInt(event.maxFeePerGas),
      gasLimit: BigInt(event.gasLimit),
      time: Date.parse(input.time),
    })
  }
  state.submissions.set(input.id, event.nonce)
}

/** The open flight an outcome is about: the one that sent its transaction, or whose submission caused it. */
const flightOf = (state: SubmitterState, hash: string | null, cause: EventId | null): Flight | undefined => {
  if (hash !== null) {
    for (const flight of state.flights.values()) {
      if (flight.transactions.some((t) => t.hash === hash)) return flight
    }
  }
  const nonce = cause === null ? undefined : state.submissions.get(cause)
  return nonce === undefined ? undefined : state.flights.get(nonce)
}

const close = (state: SubmitterState, flight: Flight | undefined) => {
  if (flight === undefined) return
  state.flights.delete(flight.nonce)
  for (const t of flight.transactions) state.submissions.delete(t.submission)
}

/** The root an outcome's commit part is about: its flight's, or the attestation that caused it. */
const rootOf = (state: SubmitterState, flight: Flight | undefined, cause: EventId | null): Bytes32 | null =>
  flight?.root ?? (cause === null ? null : (state.attestations.get(cause)?.root ?? null))

const onConfirmed = (state: SubmitterState, event: DeliveryConfirmed, input: Envelope, time: number) => {
  const lane = laneOf(state, event.lane)
  const flight = flightOf(state, event.transactionHash, input.causationId)
  // A commit that landed means the root is stored, by it or by an earlier transaction.
  if (event.action === "commit") {
    const root = rootOf(state, flight, null)
    if (root !== null) markCommitted(lane, root, time)
  }
  const batch = flight?.messageIds ?? event.outcomes.map((o) => o.messageId)
  const proofRoot = flight?.proofRoot ?? null
  close(state, flight)
  for (const outcome of event.outcomes) {
    const id = outcome.messageId
    if (isRetryOnly(lane, id)) {
      // A retry's outcome: the message was kept, its chunk is gone.
      if (outcome.result === "delivered") lane.retained.delete(id)
      else if (outcome.result === "failed") keep(lane, id, "failed", outcome.reason, batch, proofRoot)
      continue
    }
    lane.settled.set(id, outcome.result)
    if (outcome.result === "failed") keep(lane, id, "failed", outcome.reason, batch, proofRoot)
    else if (outcome.result === "delivered") lane.retained.delete(id)
  }
  compact(state, lane)
}

const onFailed = (state: SubmitterState, event: DeliveryFailed, input: Envelope) => {
  const lane = laneOf(state, event.lane)
  const flight = flightOf(state, event.transactionHash, input.causationId)
  const root = rootOf(state, flight, input.causationId)
  const batch = flight?.messageIds ?? event.messageIds
  const proofRoot = flight?.proofRoot ?? null
  close(state, flight)
  // Inbox.retry reverts as a whole: the message is still failed on chain, and still kept here.
  if (event.action === "retry") return
  // Without revert data the chain never judged the work, and a pause is temporary: it goes back to the queue.
  if (event.revertData === null || isTransientRevert(event.revertData)) return
  // An included batch that ran short of gas (`InsufficientGas`, or out of gas with no revert data: a recipient
  // used more than at the estimate, which was made before the transactions ahead of it landed) goes back to the
  // queue once, and is sent again with gas for every message's whole limit (`shortOfGas`), which the Inbox cannot
  // run short of; a message whose batch falls short even so is refused. A retry's message is kept as before.
  let faulty = event.messageIds
  if (event.transactionHash !== null && (isGasShortfall(event.revertData) || event.revertData === "0x")) {
    faulty = event.messageIds.filter((id) => lane.shortOfGas.has(id) || isRetryOnly(lane, id))
    for (const id of event.messageIds) if (!isRetryOnly(lane, id)) lane.shortOfGas.add(id)
    if (faulty.length === 0) return
  }
  const commits = event.action === "commit" || event.action === "commitAndDeliver"
  const checkpointsFault = event.action === "commit" || isCheckpointRevert(event.revertData)
  if (commits && checkpointsFault && root !== null) {
    const entry = lane.checkpoints.get(root)
    if (entry !== undefined && entry.refused === null && entry.committedAt === null)
      entry.refused = event.reason
  }
  // The quorum's fault is not the messages': they wait for a new attestation.
  if (!checkpointsFault) {
    for (const id of faulty) {
      if (!isRetryOnly(lane, id)) lane.settled.set(id, "refused")
      keep(lane, id, "refused", event.reason, batch, proofRoot)
    }
  }
  compact(state, lane)
}

const onSkipped = (state: SubmitterState, event: DeliverySkipped, input: Envelope, time: number) => {
  const lane = laneOf(state, event.lane)
  const flight = flightOf(state, null, input.causationId)
  // A skipped commit means the Inbox already stores the root.
  if (event.action === "commit") {
    const root = rootOf(state, flight, input.causationId)
    if (root !== null) markCommitted(lane, root, time)
  }
  const batch = flight?.messageIds ?? event.messageIds
  const proofRoot = flight?.proofRoot ?? null
  close(state, flight)
  event.messageIds.forEach((id, i) => {
    // Another transaction attempted it: the Inbox's status says how that went.
    const failed = event.statuses[i] === "failed"
    if (isRetryOnly(lane, id)) {
      // A kept message the Inbox shows delivered is done; one it shows failed stays kept for the next retry.
      if (!failed) lane.retained.delete(id)
      return
    }
    lane.settled.set(id, "skipped")
    if (failed) keep(lane, id, "failed", null, batch, proofRoot)
  })
  compact(state, lane)
}

const onRequested = (state: SubmitterState, event: RetryRequested, id: EventId, time: number) => {
  if (state.answered.has(id) || state.requests.has(id)) return
  // Its answer was folded first (the request's record time ran ahead of the submitter's clock).
  if (state.answerCauses.delete(id)) {
    state.answered.add(id)
    return
  }
  state.requests.set(id, {
    id,
    time,
    laneId: laneIdOf(event.lane),
    lane: event.lane,
    messageId: event.messageId,
    nonce: event.nonce,
    requestedBy: event.requestedBy,
  })
}

/**
 * The first event caused by a pending request answers it. A cause that is
 * no pending request may be a request not folded yet: it is remembered
 * (bounded), so that request is folded as answered.
 */
const answer = (state: SubmitterState, cause: EventId | null) => {
  if (cause === null) return
  if (state.requests.delete(cause)) {
    state.answered.add(cause)
    return
  }
  if (state.answered.has(cause)) return
  state.answerCauses.add(cause)
  if (state.answerCauses.size > ANSWER_CAUSES_KEPT) {
    const oldest = state.answerCauses.values().next().value
    if (oldest !== undefined) state.answerCauses.delete(oldest)
  }
}

// -- Retries --------------------------------------------------------------------------------------------------

/** A kept message whose chunk is gone: what happens to it is a retry's business only. */
const isRetryOnly = (lane: LaneState, id: MessageId) =>
  lane.retained.has(id) && chunkHolding(lane, id) === undefined

/**
 * Keeps a failed or refused message for retries — the first time, from its
 * chunk, which is still held — or updates one kept already (a retry's
 * outcome), adding any new proof.
 */
const keep = (
  lane: LaneState,
  id: MessageId,
  how: "failed" | "refused",
  reason: string | null,
  batch: ReadonlyArray<MessageId>,
  proofRoot: Bytes32 | null,
) => {
  const existing = lane.retained.get(id)
  const fresh = retryProofsOf(lane, id, batch, proofRoot)
  if (existing !== undefined) {
    const roots = new Set(existing.proofs.map((p) => p.checkpoint.root))
    lane.retained.set(id, {
      ...existing,
      how,
      reason,
      proofs: [...existing.proofs, ...fresh.filter((p) => !roots.has(p.checkpoint.root))],
    })
    return
  }
  const own = chunkHolding(lane, id)
  if (own === undefined) return
  lane.retained.set(id, {
    messageId: id,
    message: own.chunk.messages[own.index]!,
    how,
    reason,
    proofs: fresh,
  })
}

/**
 * Drops chunks whose messages are all settled (and their marks), raises the
 * floor over what is done, and forgets checkpoints below it.
 */
const compact = (state: SubmitterState, lane: LaneState) => {
  const done: Chunk[] = []
  for (const chunk of lane.chunks.values()) {
    if (chunk.messageIds.every((id) => lane.settled.has(id))) done.push(chunk)
  }
  if (done.length === 0) return
  for (const chunk of done) {
    lane.chunks.delete(chunk.start)
    lane.alternates.delete(chunk.start)
    for (const id of chunk.messageIds) {
      lane.settled.delete(id)
      lane.shortOfGas.delete(id)
    }
  }
  let lowestPending = Number.POSITIVE_INFINITY
  for (const chunk of lane.chunks.values()) lowestPending = Math.min(lowestPending, chunk.start)
  for (const chunk of done) {
    if (chunk.end <= lowestPending) lane.floor = Math.max(lane.floor, chunk.end)
  }
  for (const [root, entry] of lane.checkpoints) {
    if (entry.checkpoint.count > lane.floor) continue
    lane.checkpoints.delete(root)
    if (entry.attestation !== null) state.attestations.delete(entry.attestation.id)
  }
}
