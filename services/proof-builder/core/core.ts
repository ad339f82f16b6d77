/**
 * The proof-builder's pure core.
 *
 * Pipeline, per `MessageObserved`:
 *   1. ignore it if its outbox is not a configured source (when sources are
 *      configured; the service logs it);
 *   2. admit it to its lane (`admit`): a new candidate for its nonce, the
 *      same observation again (nothing to do), or false on its face (its id
 *      is not its message's, or its nonce is proven with another message:
 *      rejected at once, with no read);
 *   3. settle the lane's candidates against Outbox reads (`settle`): the
 *      reads recorded for this input, and the lane's earlier reads that
 *      may still settle something. Each candidate is proven a leaf, refuted
 *      (`MessageRejected`, with the read that refuted it) or left waiting;
 *   4. propose every count the reads proved (`proposalOf`), the largest a
 *      read allows at once;
 *   5. report what still holds the lane: a read whose range no combination
 *      of candidates matches (`root-mismatch`), more conflicting candidates
 *      than are tried (`conflicting-message`), or a gap below candidates
 *      the chain has not refuted (`nonce-gap`, once per position).
 *
 * What to read (`planRead`) is the same settlement run without changing
 * anything, so the service asks for exactly the reads `decide` acts on: the
 * block the input's own candidate names, then the block of the newest
 * candidate its nonces make contiguous, each once, and none that the lane
 * already read. A block past the proof-builder's finalized head is read at
 * that head instead (by the service); the candidate is deferred, asked for
 * no more, and tried only behind the other candidates of its nonce, until a
 * later read shows its block final.
 *
 * Invariants:
 * - Outputs depend only on the input, the reads and the state, so a replay
 *   of the input log with its recorded reads gives the same event ids.
 * - Nothing is proposed without a read whose root it matches: the tree
 *   holds only proven leaves, and a nonce is never skipped.
 * - Which observation of a nonce arrived first decides nothing: the chain
 *   does. A forged observation costs the lane at most the reads it causes,
 *   and is rejected, not reported as a stall, once a read refutes it.
 * - `initial` is never mutated (a new lane copies the lane map).
 *
 * Outputs, in this order: `MessageRejected` per refuted observation,
 * `CheckpointProposed` and `MessageProven` (range, then single) per proven
 * count, then `LaneStalled` (`root-mismatch`, `conflicting-message`,
 * `nonce-gap`). A read that cannot settle its range is reported when it is
 * made, so a lane that stays wrong reports one stall per block read, and
 * one whose RPC was briefly on another fork proposes again once a later
 * read agrees.
 *
 * @module
 */
import type { Hex } from "viem"
import { ChorusError } from "../../../errors/index.ts"
import {
  type BlockRef,
  type ChorusEvent,
  type Envelope,
  Lane,
  LaneStalled,
  type MessageObserved,
  MessageRejected,
  type OutboxLaneRead,
} from "../../../schemas/index.ts"
import type { Decision, LaneCore } from "../../runtime/index.ts"
import { appendLeaf } from "../merkle/index.ts"
import { type Admission, admit } from "./admit.ts"
import { proposalOf } from "./proposal.ts"
import { isDeferred, type Settlement, settle } from "./settle.ts"
import {
  type Candidate,
  emptyLane,
  emptyProofBuilderState,
  type LaneState,
  laneId,
  type ProofBuilderState,
} from "./state.ts"

/** `OutboxLaneRead.reader` for the proof-builder's own reads. */
export const PROOF_BUILDER_READER = "proof-builder"

/** A source the proof-builder accepts messages from: a chain and its Outbox. */
export interface ProofBuilderSource {
  readonly chainId: number
  readonly outbox: string
}

export interface ProofBuilderCoreOptions {
  /** Messages per range proof (`config.proofBuilder.chunkSize`). */
  readonly chunkSize: number
  /**
   * The configured chains' outboxes (`config.chains` fits). A message from
   * any other outbox is ignored. When absent, every outbox is accepted.
   */
  readonly sources?: ReadonlyArray<ProofBuilderSource>
}

/** What the service must read from the chain before `decide` can handle an input: a closed set. */
export type ReadPlan =
  /** Read the lane's Outbox root and count at `block` (at the finalized head, if `block` is not final yet). */
  | { readonly kind: "read"; readonly lane: Lane; readonly block: BlockRef }
  /** The lane already read the block this input names: that read is used again. */
  | { readonly kind: "reuse"; readonly read: OutboxLaneRead }
  /** Nothing (more) to read, and why. */
  | {
      readonly kind: "none"
      readonly reason:
        | "not-a-message"
        | "unconfigured-outbox"
        | "duplicate"
        | "rejected"
        /** The lane's reads, and those made for this input, settle what they can. */
        | "settled"
        /** The block it needs is past the proof-builder's finalized head: it waits, deferred. */
        | "not-final"
    }

export interface ProofBuilderCore extends LaneCore<ProofBuilderState> {
  readonly chunkSize: number
  /** Whether a message's outbox is a configured source. */
  readonly accepts: (observed: MessageObserved) => boolean
  /**
   * What to read next before `decide(state, input, reads)`, given the reads already made for this input; the
   * service's `observe` asks again after each read until the plan is not `read`.
   */
  readonly planRead: (state: ProofBuilderState, input: Envelope, reads?: ReadonlyArray<Envelope>) => ReadPlan
}

/** A chunk size that is not a positive integer. */
export class InvalidChunkSizeError extends ChorusError {
  override readonly name = "InvalidChunkSizeError"
  readonly chunkSize: number
  constructor(chunkSize: number) {
    super(`proof-builder chunk size ${chunkSize} is not a positive integer`, {
      details: { chunkSize },
      hint: "Set proofBuilder.chunkSize to 1 or more.",
    })
    this.chunkSize = chunkSize
  }
}

const laneOf = (observed: MessageObserved) =>
  new Lane({
    srcChainId: observed.message.srcChainId,
    outbox: observed.outbox,
    dstChainId: observed.message.dstChainId,
  })

const stalled = (lane: Lane, reason: LaneStalled["reason"], treeCount: number, detail: string) =>
  new LaneStalled({ lane, reason, treeCount, detail })

const rejected = (
  lane: Lane,
  observed: MessageObserved,
  why: Pick<MessageRejected, "reason" | "outboxBlock" | "chainMessageId" | "detail">,
) =>
  new MessageRejected({
    lane,
    messageId: observed.messageId,
    nonce: observed.message.nonce,
    block: observed.block,
    transactionHash: observed.transactionHash,
    logIndex: observed.logIndex,
    ...why,
  })

const gapDetail = (end: number, waiting: ReadonlyArray<number>) => {
  const shown = waiting.slice(0, 8).join(", ")
  return `waiting for nonce ${end}; have ${end} contiguous message${end === 1 ? "" : "s"} and ${
    waiting.length
  } waiting above the gap (nonce${waiting.length === 1 ? "" : "s"} ${shown}${waiting.length > 8 ? ", …" : ""})`
}

/** The proof-builder's own reads of this lane, among an input's reads. */
const readsOf = (lane: Lane, reads: ReadonlyArray<Envelope>): OutboxLaneRead[] =>
  reads
    .map((envelope) => envelope.event)
    .filter(
      (event): event is OutboxLaneRead =>
        event._tag === "OutboxLaneRead" &&
        event.reader === PROOF_BUILDER_READER &&
        laneId(event) === laneId(lane),
    )

const highest = (finalized: number | undefined, reads: ReadonlyArray<OutboxLaneRead>) =>
  reads.reduce<number | undefined>((max, r) => Math.max(max ?? -1, r.finalized.number), finalized)

/**
 * Makes the proof-builder's core. A different `chunkSize` gives different
 * `MessageProven` outputs for the same log (a replay can compare them).
 *
 * @example
 * ```ts
 * const core = makeProofBuilderCore({ chunkSize: config.proofBuilder.chunkSize, sources: config.chains })
 * const { outputs } = foldCore(core, producer, [{ input, reads }])
 * ```
 */
export const makeProofBuilderCore = (options: ProofBuilderCoreOptions): ProofBuilderCore => {
  const { chunkSize } = options
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new InvalidChunkSizeError(chunkSize)
  const sources =
    options.sources === undefined
      ? undefined
      : new Set(options.sources.map((s) => `${s.chainId}:${s.outbox.toLowerCase()}`))
  const accepts = (observed: MessageObserved) =>
    sources === undefined || sources.has(`${observed.message.srcChainId}:${observed.outbox}`)

  type Step =
    | { readonly kind: "not-a-message" | "unconfigured-outbox" }
    | {
        readonly kind: "admitted"
        readonly observed: MessageObserved
        readonly id: string
        readonly lane: LaneState | undefined
        readonly admission: Admission
      }

  const stepOf = (state: ProofBuilderState, input: Envelope): Step => {
    if (input.event._tag !== "MessageObserved") return { kind: "not-a-message" }
    const observed = input.event
    if (!accepts(observed)) return { kind: "unconfigured-outbox" }
    const id = laneId(laneOf(observed))
    const lane = state.lanes.get(id)
    return { kind: "admitted", observed, id, lane, admission: admit(lane, observed) }
  }

  /** The settlement of a lane with the input's candidate, on its reads and this input's. */
  const settlementOf = (lane: LaneState, candidate: Candidate, fresh: ReadonlyArray<OutboxLaneRead>) =>
    settle(lane, {
      reads: [...lane.anchors.values(), ...fresh],
      extra: candidate,
      finalized: highest(lane.finalized, fresh),
    })

  /** Did this input already learn that `block` is past the finalized head (its read came back at the head)? */
  const learnedNotFinal = (fresh: ReadonlyArray<OutboxLaneRead>, block: BlockRef) =>
    fresh.some((read) => read.finalized.number < block.number)

  const planRead = (
    state: ProofBuilderState,
    input: Envelope,
    reads: ReadonlyArray<Envelope> = [],
  ): ReadPlan => {
    const step = stepOf(state, input)
    if (step.kind !== "admitted") return { kind: "none", reason: step.kind }
    const { admission, observed } = step
    if (admission.kind !== "candidate") return { kind: "none", reason: admission.kind }
    const lane = step.lane ?? emptyLane(laneOf(observed))
    const fresh = readsOf(lane.lane, reads)
    const candidate: Candidate = { observed, deferredAt: undefined }
    const settlement = settlementOf(lane, candidate, fresh)
    const known = new Map<number, OutboxLaneRead>(lane.anchors)
    for (const read of fresh) known.set(read.block.number, read)
    // The input's own block first: it refutes or anchors the candidate whatever else the lane holds.
    const alive = [...settlement.left.values()].some((list) => list.includes(candidate))
    const wanted: BlockRef[] = []
    if (alive) wanted.push(observed.block)
    const head = headOf(settlement)
    if (head !== undefined && !isDeferred(head, highest(lane.finalized, fresh)))
      wanted.push(head.observed.block)
    for (const block of wanted) {
      if (known.has(block.number)) continue
      if (learnedNotFinal(fresh, block)) return { kind: "none", reason: "not-final" }
      return { kind: "read", lane: lane.lane, block }
    }
    const own = known.get(observed.block.number)
    if (fresh.length === 0 && own !== undefined) return { kind: "reuse", read: own }
    return { kind: "none", reason: "settled" }
  }

  const decide = (
    state: ProofBuilderState,
    input: Envelope,
    reads: ReadonlyArray<Envelope>,
  ): Decision<ProofBuilderState> => {
    const step = stepOf(state, input)
    if (step.kind !== "admitted") return { state, outputs: [] }
    const { admission, observed, id } = step
    if (admission.kind === "duplicate") return { state, outputs: [] }
    if (admission.kind === "rejected") {
      const { reason, outboxBlock, chainMessageId, detail } = admission
      return {
        state,
        outputs: [
          rejected(step.lane?.lane ?? laneOf(observed), observed, {
            reason,
            outboxBlock,
            chainMessageId,
            detail,
          }),
        ],
      }
    }
    let lane = step.lane
    let next = state
    if (lane === undefined) {
      lane = emptyLane(laneOf(observed))
      next = { lanes: new Map(state.lanes).set(id, lane) }
    }
    const fresh = readsOf(lane.lane, reads)
    // Its block was not final, so the finalized head was read instead: it is tried again only once a read shows
    // its block final.
    const finalizedNow = highest(undefined, fresh)
    const deferred =
      !fresh.some((r) => r.block.number === observed.block.number) &&
      !lane.anchors.has(observed.block.number) &&
      finalizedNow !== undefined &&
      finalizedNow < observed.block.number
    const candidate: Candidate = { observed, deferredAt: deferred ? finalizedNow : undefined }
    const settlement = settlementOf(lane, candidate, fresh)
    return { state: next, outputs: apply(lane, fresh, settlement) }
  }

  /** Makes the settlement the lane's state, and says what it means. */
  const apply = (
    lane: LaneState,
    fresh: ReadonlyArray<OutboxLaneRead>,
    settlement: Settlement,
  ): ChorusEvent[] => {
    const outputs: ChorusEvent[] = []
    for (const refutation of settlement.refuted) {
      const { read, reason, chainMessageId, detail } = refutation
      outputs.push(
        rejected(lane.lane, refutation.candidate.observed, {
          reason,
          outboxBlock: read.block,
          chainMessageId,
          detail,
        }),
      )
    }
    for (const read of fresh) lane.anchors.set(read.block.number, read)
    lane.finalized = highest(lane.finalized, fresh)
    for (const { read, leaves } of settlement.proven) {
      for (const leaf of leaves) {
        appendProven(lane, leaf.observed)
      }
      outputs.push(...proposalOf(lane, read, chunkSize))
      lane.lastProposed = lane.tree.count
      lane.unproposed.length = 0
      lane.provenAt = read.block
    }
    lane.candidates.clear()
    for (const [nonce, list] of settlement.left) lane.candidates.set(nonce, [...list])
    for (const [number, read] of lane.anchors) if (read.count <= lane.tree.count) lane.anchors.delete(number)
    for (const unsettled of settlement.unsettled) {
      // Said once, when the read is made: the lane's earlier reads were reported when they were.
      if (!fresh.includes(unsettled.read)) continue
      const reason = unsettled.kind === "too-many" ? "conflicting-message" : "root-mismatch"
      outputs.push(stalled(lane.lane, reason, settlement.end, unsettled.detail))
    }
    // A gap holds back only candidates the chain has not refuted and whose block is final.
    const waiting = [...settlement.left]
      .filter(([nonce, list]) => nonce > settlement.end && list.some((c) => !isDeferred(c, lane.finalized)))
      .map(([nonce]) => nonce)
    if (waiting.length > 0 && lane.gapReportedAt !== settlement.end) {
      lane.gapReportedAt = settlement.end
      outputs.push(stalled(lane.lane, "nonce-gap", settlement.end, gapDetail(settlement.end, waiting)))
    }
    return outputs
  }

  return { initial: emptyProofBuilderState, decide, chunkSize, accepts, planRead }
}

/** The newest candidate the lane's nonces make contiguous, best first: where the lane's tree would end. */
const headOf = (settlement: Settlement): Candidate | undefined =>
  settlement.end > settlement.count ? settlement.left.get(settlement.end - 1)?.[0] : undefined

/** A proven leaf joins the tree, with the message it carries in `MessageProven`. */
const appendProven = (lane: LaneState, observed: MessageObserved) => {
  appendLeaf(lane.tree, observed.messageId as Hex)
  lane.unproposed.push(observed.message)
}
