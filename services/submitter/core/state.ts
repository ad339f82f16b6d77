/**
 * What the submitter knows about the lanes ending on its chain, as folded
 * from the log: attested checkpoints, proven range chunks, what became of
 * every message it handled, its transactions still in flight, the messages
 * it holds for retries, and the retry requests not answered yet.
 *
 * One state per shard (partition); the runtime merges the shards it holds
 * into one view (`mergeStates`) before planning. Everything is keyed so that
 * folding the same fact twice changes nothing.
 *
 * @module
 */
import type {
  Bytes32,
  Checkpoint,
  DeliveryAction,
  EventId,
  Lane,
  Message,
  MessageId,
  OperatorSetAttested,
  OperatorSetSubmitted,
  Signature,
  TxHash,
} from "../../../schemas/index.ts"

/** A checkpoint's quorum, as the attestation collector emitted it. */
export interface Attestation {
  /** The `CheckpointAttested` envelope id: the cause of a commit. */
  readonly id: EventId
  /** Envelope time, ms since the epoch. */
  readonly time: number
  /** The epoch its signatures were made under. */
  readonly epoch: number
  readonly signatures: ReadonlyArray<Signature>
}

export interface CheckpointEntry {
  readonly checkpoint: Checkpoint
  /** The attestation a commit uses: the first one, or the one after the Inbox refused the root. */
  attestation: Attestation | null
  /**
   * When the latest attestation of this root was written (ms), or null: a root attested again after its
   * source chain was resumed is trusted again above the resume's counts (`planner.ts`).
   */
  lastAttestedAt: number | null
  /** When the submitter learned that the Inbox stores this root (ms), or null. */
  committedAt: number | null
  /** Why the Inbox refused to commit this root (it is never a target again), or null. */
  refused: string | null
}

/** A range proof for consecutive messages `[start, end)` of a lane against its checkpoint. */
export interface Chunk {
  /** The `MessageProven` envelope id: the cause of a delivery. */
  readonly id: EventId
  /** Envelope time, ms since the epoch: when the chunk became known. */
  readonly time: number
  readonly checkpoint: Checkpoint
  readonly start: number
  readonly end: number
  readonly messages: ReadonlyArray<Message>
  readonly messageIds: ReadonlyArray<MessageId>
  readonly proof: ReadonlyArray<Bytes32>
}

/**
 * What became of a message: `delivered` and `failed` as the Inbox reported
 * them, `skipped` when the Inbox already had it, `refused` when the
 * transaction carrying it was refused by the Inbox (parked for `chorus retry`).
 */
export type Settlement = "delivered" | "failed" | "skipped" | "refused"

/** A single-message proof (a range of one): what `Inbox.retry` and a one-message `deliver` take. */
export interface SingleProof {
  readonly checkpoint: Checkpoint
  readonly proof: ReadonlyArray<Bytes32>
}

/**
 * A message the submitter settled as `failed` or `refused`, held (with the
 * message itself, which `retry` needs) after its chunk is dropped, until a
 * retry delivers it.
 */
export interface RetainedMessage {
  readonly messageId: MessageId
  readonly message: Message
  readonly how: "failed" | "refused"
  /** `failed`: the recipient's revert data (hex); `refused`: the Inbox's decoded reason. */
  readonly reason: string | null
  /**
   * Proofs of it against the checkpoints it can be retried against, best
   * first: the root of the batch that carried it (the Inbox stores a root
   * when a message of its batch fails), then its own chunk's checkpoint.
   */
  readonly proofs: ReadonlyArray<SingleProof>
}

/** A `RetryRequested` for this chain that the log shows unanswered. */
export interface RetryRequest {
  /** The request's envelope id: the cause of the answer. */
  readonly id: EventId
  /** Envelope time, ms since the epoch. */
  readonly time: number
  readonly laneId: string
  readonly lane: Lane
  readonly messageId: MessageId
  readonly nonce: number
  readonly requestedBy: string
}

/** How many chunks under other checkpoints a start keeps besides the held one. */
export const MAX_ALTERNATES = 4

export interface LaneState {
  /** `src:outbox:dst` — an outbox re-registered for a source is another lane on the Inbox. */
  readonly id: string
  readonly lane: Lane
  /** By root. */
  readonly checkpoints: Map<Bytes32, CheckpointEntry>
  /** Pending chunks, by first nonce. */
  readonly chunks: Map<number, Chunk>
  /**
   * Other verifying chunks at a held chunk's start, under other checkpoints (a proof-builder that
   * re-proposed at another count, or a compromised one): at most `MAX_ALTERNATES` per start. One takes
   * the slot when its checkpoint is attested and the held one's is not, so a chunk under a checkpoint
   * that is never attested cannot hold its messages back.
   */
  readonly alternates: Map<number, Chunk[]>
  /** Settled messages whose chunk is still held (or not known yet). */
  readonly settled: Map<MessageId, Settlement>
  /** Failed and refused messages, held for retries (whether or not their chunk is). */
  readonly retained: Map<MessageId, RetainedMessage>
  /**
   * Messages whose included batch ran short of gas once: sent again with gas for their whole limits, and refused
   * if that falls short too. Cleared with their chunk.
   */
  readonly shortOfGas: Set<MessageId>
  /** Every message below this nonce is settled and forgotten; later proofs of them are ignored. */
  floor: number
}

/** One signed transaction of a flight (the first, or a fee-bump replacement). */
export interface FlightTransaction {
  readonly hash: TxHash
  /** The `DeliverySubmitted` envelope id that recorded it. */
  readonly submission: EventId
  readonly maxFeePerGas: bigint
  readonly gasLimit: bigint
  /** When it was recorded, ms since the epoch. */
  readonly time: number
}

/** A nonce of the submitter's account that was used and whose outcome is not recorded yet. */
export interface Flight {
  readonly nonce: number
  readonly laneId: string
  readonly lane: Lane
  readonly action: DeliveryAction
  readonly messageIds: ReadonlyArray<MessageId>
  /** The input the action came from (a `CheckpointAttested` or `MessageProven` id), if known. */
  readonly origin: EventId | null
  /** The checkpoint root a `commit` or `commitAndDeliver` stores, if known. */
  readonly root: Bytes32 | null
  /** The root its messages are proven against, if its submission says (a retry's proofs are against it). */
  readonly proofRoot: Bytes32 | null
  readonly transactions: FlightTransaction[]
}

export interface SubmitterState {
  /** The destination chain this state is for. */
  readonly chainId: number
  readonly lanes: Map<string, LaneState>
  /** Open flights by account nonce. */
  readonly flights: Map<number, Flight>
  /** `DeliverySubmitted` id → the nonce of its open flight. */
  readonly submissions: Map<EventId, number>
  /** `CheckpointAttested` id → its lane and root, while the checkpoint is held. */
  readonly attestations: Map<EventId, { readonly laneId: string; readonly root: Bytes32 }>
  /** Retry requests not answered yet, by request id. */
  readonly requests: Map<EventId, RetryRequest>
  /** Requests answered (few: one per `chorus retry`), so a request folded after its answer stays answered. */
  readonly answered: Set<EventId>
  /**
   * The causes of the latest submitter answers (`ANSWER_CAUSES_KEPT` at most)
   * that matched no pending request. A rebuild folds inputs in record-time
   * order, and a request stamped by a clock that runs ahead can be folded
   * after its answer: finding its id here keeps it answered.
   */
  readonly answerCauses: Set<EventId>
  /** This destination's operator-set updates: the latest attested, the one in the air, how far they went. */
  readonly setUpdate: SetUpdateState
}

/** Attested updates a destination keeps (the highest epochs): a handful, since the hub's set rarely changes. */
export const SET_UPDATES_KEPT = 8

/** A destination's operator-set updates, as the log shows them (`OperatorSetAttested` and its own records). */
export interface SetUpdateState {
  /** The collector's attested updates for this destination, by envelope id (the `SET_UPDATES_KEPT` highest epochs). */
  readonly attested: Map<EventId, OperatorSetAttested>
  /** Attested updates the Inbox refused before anything was sent, or that are malformed: never sent again. */
  readonly refused: Set<EventId>
  /** The update in the air (no `OperatorSetApplied` or `OperatorSetUpdateFailed` yet), with its attestation's id. */
  submitted: { readonly attestation: EventId | null; readonly event: OperatorSetSubmitted } | null
}

/**
 * The operator-set update to send now, given the epoch the Inbox shows: the attested one of the highest epoch
 * past it that was not refused, with none in the air. Settled by the chain, not by records: an update is due
 * while the Inbox is behind it, whatever was recorded of earlier attempts.
 *
 * @example
 * ```ts
 * const due = setUpdateDue(state, (await inbox.epoch()).epoch) // { id, update } | null
 * ```
 */
export const setUpdateDue = (
  state: SubmitterState,
  inboxEpoch: number,
): { readonly id: EventId; readonly update: OperatorSetAttested } | null => {
  const { attested, refused, submitted } = state.setUpdate
  if (submitted !== null) return null
  let due: { id: EventId; update: OperatorSetAttested } | null = null
  for (const [id, update] of attested)
    if (!refused.has(id) && update.epoch > inboxEpoch && (due === null || update.epoch > due.update.epoch))
      due = { id, update }
  return due
}

/** How many unmatched answer causes a state keeps; far more than one clock skew's worth of answers. */
export const ANSWER_CAUSES_KEPT = 4096

/**
 * An empty state for `chainId`.
 *
 * @example
 * ```ts
 * const state = emptySubmitterState(902)
 * ```
 */
export const emptySubmitterState = (chainId: number): SubmitterState => ({
  chainId,
  lanes: new Map(),
  flights: new Map(),
  submissions: new Map(),
  attestations: new Map(),
  requests: new Map(),
  answered: new Set(),
  answerCauses: new Set(),
  setUpdate: { attested: new Map(), refused: new Set(), submitted: null },
})

/**
 * The id of a lane on the destination Inbox: source chain, outbox, destination.
 *
 * @example
 * ```ts
 * laneIdOf({ srcChainId: 901, outbox: "0xab…", dstChainId: 902 }) // "901:0xab…:902"
 * ```
 */
export const laneIdOf = (lane: {
  readonly srcChainId: number
  readonly outbox: string
  readonly dstChainId: number
}): string => `${lane.srcChainId}:${lane.outbox}:${lane.dstChainId}`

/**
 * One read-only view over several shard states of the same chain (the
 * runtime holds one per partition; lanes never span two). Maps are new; the
 * lane and flight objects are shared, so the view must not be mutated.
 *
 * @example
 * ```ts
 * const view = mergeStates(902, [shard0, shard3])
 * ```
 */
export const mergeStates = (chainId: number, states: ReadonlyArray<SubmitterState>): SubmitterState => {
  const merged = emptySubmitterState(chainId)
  for (const state of states) {
    for (const [id, lane] of state.lanes) merged.lanes.set(id, lane)
    for (const [nonce, flight] of state.flights) merged.flights.set(nonce, flight)
    for (const [id, nonce] of state.submissions) merged.submissions.set(id, nonce)
    for (const [id, at] of state.attestations) merged.attestations.set(id, at)
    for (const [id, request] of state.requests) merged.requests.set(id, request)
    for (const id of state.answered) merged.answered.add(id)
    for (const id of state.answerCauses) merged.answerCauses.add(id)
    // One shard holds the destination's updates (they are keyed by it); the others' are empty.
    for (const [id, update] of state.setUpdate.attested) merged.setUpdate.attested.set(id, update)
    for (const id of state.setUpdate.refused) merged.setUpdate.refused.add(id)
    merged.setUpdate.submitted ??= state.setUpdate.submitted
  }
  return merged
}
