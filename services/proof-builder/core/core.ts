/**
 * The proof-builder's pure core.
 *
 * Pipeline, per `MessageObserved`:
 *   1. ignore it if its outbox is not a configured source (when sources are
 *      configured; the service logs it);
 *   2. admit it to its lane (`admit`): extend the tree, wait behind a gap,
 *      or change nothing (duplicate, conflicting nonce, corrupt id);
 *   3. if the tree grew, check it against the Outbox read at the block of
 *      its newest message (`checkRead`) — the read recorded for this input,
 *      or the lane's last read when it is of that very block and still
 *      ahead of or level with the tree;
 *   4. propose when the tree matches (`proposalOf`), stall on a mismatch,
 *      wait when the block's remaining messages are still coming;
 *   5. report a gap once, when the lane starts waiting at a new count.
 *
 * Invariants:
 * - Outputs depend only on the input, the reads and the state, so a replay
 *   of the input log with its recorded reads gives the same event ids.
 * - A nonce is never skipped: a message above a gap waits for the gap.
 * - Without a read the tree is never proposed: the lane waits.
 * - `initial` is never mutated (a new lane copies the lane map).
 *
 * Outputs: `CheckpointProposed` and `MessageProven` (range, then single),
 * or `LaneStalled` with `nonce-gap`, `conflicting-message` (also for an
 * event whose id is not its message's) or `root-mismatch` (also when the
 * read is of another block or counts fewer messages than the tree).
 * A mismatch does not end the lane: each later block is read and checked
 * again, so a lane that stays wrong reports one stall per block read, and
 * one whose RPC was briefly on another fork proposes again once it agrees.
 * A conflicting message is reported each time one arrives; the first
 * message of a nonce is kept.
 *
 * @module
 */
import { ChorusError } from "../../../errors/index.ts"
import {
  type BlockRef,
  type ChorusEvent,
  type Envelope,
  Lane,
  LaneStalled,
  type MessageObserved,
  type OutboxLaneRead,
} from "../../../schemas/index.ts"
import type { Decision, LaneCore } from "../../runtime/index.ts"
import { type Admission, admit, applyAdmission } from "./admit.ts"
import { checkRead } from "./check-read.ts"
import { proposalOf } from "./proposal.ts"
import { emptyLane, emptyProofBuilderState, type LaneState, laneId, type ProofBuilderState } from "./state.ts"

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
  /** Read the lane's Outbox root and count at `block`. */
  | { readonly kind: "read"; readonly lane: Lane; readonly block: BlockRef }
  /** The lane's last read is of that block and not behind the tree: it is used again. */
  | { readonly kind: "reuse"; readonly read: OutboxLaneRead }
  /** Nothing to read, and why. */
  | {
      readonly kind: "none"
      readonly reason:
        | "not-a-message"
        | "unconfigured-outbox"
        | "duplicate"
        | "conflicting"
        | "mismatched-id"
        | "ahead"
    }

export interface ProofBuilderCore extends LaneCore<ProofBuilderState> {
  readonly chunkSize: number
  /** Whether a message's outbox is a configured source. */
  readonly accepts: (observed: MessageObserved) => boolean
  /** What to read before `decide(state, input, reads)`; the service's `observe` follows it. */
  readonly planRead: (state: ProofBuilderState, input: Envelope) => ReadPlan
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

/** The lane's last read, if it is of `head` and counts at least `count` messages. */
const reusableRead = (lane: LaneState | undefined, head: BlockRef, count: number) => {
  const read = lane?.lastRead
  return read !== undefined &&
    read.block.number === head.number &&
    read.block.hash === head.hash &&
    read.count >= count
    ? read
    : undefined
}

const stalled = (lane: Lane, reason: LaneStalled["reason"], treeCount: number, detail: string) =>
  new LaneStalled({ lane, reason, treeCount, detail })

const gapDetail = (lane: LaneState) => {
  const count = lane.tree.count
  const waiting = [...lane.waiting.keys()].sort((a, b) => a - b)
  const shown = waiting.slice(0, 8).join(", ")
  return `waiting for nonce ${count}; have ${count} contiguous message${count === 1 ? "" : "s"} and ${
    waiting.length
  } waiting above the gap (nonce${waiting.length === 1 ? "" : "s"} ${shown}${waiting.length > 8 ? ", …" : ""})`
}

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

  const admissionOf = (state: ProofBuilderState, input: Envelope) => {
    if (input.event._tag !== "MessageObserved") return { kind: "not-a-message" as const }
    const observed = input.event
    if (!accepts(observed)) return { kind: "unconfigured-outbox" as const }
    const id = laneId(laneOf(observed))
    const lane = state.lanes.get(id)
    return { kind: "admitted" as const, observed, id, lane, admission: admit(lane, observed) }
  }

  const planRead = (state: ProofBuilderState, input: Envelope): ReadPlan => {
    const step = admissionOf(state, input)
    if (step.kind !== "admitted") return { kind: "none", reason: step.kind }
    const { admission, lane, observed } = step
    if (admission.kind !== "extends") return { kind: "none", reason: admission.kind }
    const read = reusableRead(lane, admission.head, admission.count)
    return read === undefined
      ? { kind: "read", lane: lane?.lane ?? laneOf(observed), block: admission.head }
      : { kind: "reuse", read }
  }

  const decide = (
    state: ProofBuilderState,
    input: Envelope,
    reads: ReadonlyArray<Envelope>,
  ): Decision<ProofBuilderState> => {
    const step = admissionOf(state, input)
    if (step.kind !== "admitted") return { state, outputs: [] }
    const { admission, observed, id } = step
    const outputs: ChorusEvent[] = []
    if (admission.kind === "duplicate") return { state, outputs }
    if (admission.kind === "conflicting" || admission.kind === "mismatched-id") {
      const count = step.lane?.tree.count ?? 0
      outputs.push(stalled(laneOf(observed), "conflicting-message", count, admission.detail))
      return { state, outputs }
    }
    let lane = step.lane
    let next = state
    if (lane === undefined) {
      lane = emptyLane(laneOf(observed))
      next = { lanes: new Map(state.lanes).set(id, lane) }
    }
    applyAdmission(lane, observed, admission)
    if (admission.kind === "extends") outputs.push(...check(lane, admission, reads))
    if (lane.waiting.size > 0 && lane.gapReportedAt !== lane.tree.count) {
      lane.gapReportedAt = lane.tree.count
      outputs.push(stalled(lane.lane, "nonce-gap", lane.tree.count, gapDetail(lane)))
    }
    return { state: next, outputs }
  }

  /** Step 3 and 4: the tree just grew; check it against the Outbox and propose or stall. */
  const check = (
    lane: LaneState,
    admission: Extract<Admission, { kind: "extends" }>,
    reads: ReadonlyArray<Envelope>,
  ): ReadonlyArray<ChorusEvent> => {
    const fresh = reads
      .map((envelope) => envelope.event)
      .filter(
        (event): event is OutboxLaneRead =>
          event._tag === "OutboxLaneRead" &&
          event.reader === PROOF_BUILDER_READER &&
          laneId(event) === laneId(lane.lane),
      )
      .at(-1)
    if (fresh !== undefined) lane.lastRead = fresh
    const read = fresh ?? reusableRead(lane, admission.head, admission.count)
    if (read === undefined) return []
    const verdict = checkRead(lane, read)
    switch (verdict.kind) {
      case "propose": {
        const events = proposalOf(lane, read, chunkSize)
        lane.lastProposed = lane.tree.count
        return events
      }
      case "already-proposed":
      case "behind":
        return []
      case "other-block":
      case "tree-ahead":
      case "root-mismatch":
        return [stalled(lane.lane, "root-mismatch", lane.tree.count, verdict.detail)]
    }
  }

  return { initial: emptyProofBuilderState, decide, chunkSize, accepts, planRead }
}
