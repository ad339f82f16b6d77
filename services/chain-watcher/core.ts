/**
 * The chain-watcher's pure core: folds what the watcher read from its chain
 * (`OutboxRangeRead`, and `OutboxNonceRead` for a proof-builder's nonce gap)
 * into its cursor and the events it emits.
 *
 * Pipeline, per read:
 *   1. a read for another chain, or of another type, is ignored (a replay
 *      over the shared reads topic feeds every chain's reads);
 *   1b. a read that names a resume (`resumedBy`) the state does not descend
 *      from yet starts the chain again from that resume's trusted block: the
 *      watcher restarted there after `chorus chain resume` lifted its halt,
 *      so the read's check of its cursor is the trusted block (re-read on
 *      its RPC and found with the resume's hash before the read was made)
 *      and its counts before the range are the lanes' counts there. The
 *      state becomes that block, those counts and that resume, not halted,
 *      and the read is folded on it as below. A replay from the start of
 *      the log thus folds the old history, halts, and resumes where the
 *      live watcher did;
 *   2. once halted, nothing is folded any more;
 *   3. a read that does not start right after the cursor is stale (a
 *      duplicate, or a read made against an older cursor): a no-op;
 *   4. the read's check of the cursor's block must show the cursor's hash;
 *      anything else means the chain was rewritten below finality, so the
 *      core emits `ChainHalted` and halts;
 *   5. the read must prove itself complete (`completeness.ts`): its lane
 *      counts name exactly the nonces its logs hold. A short answer (an RPC
 *      dropped logs), or logs and counts that contradict each other, is
 *      `incomplete`: nothing is emitted and the cursor stays, so the
 *      runtime reads the range again;
 *   6. otherwise one `MessageObserved` per log, in chain order, then the
 *      `WatcherCursor` at the range's last block.
 *
 * Per targeted re-read of one nonce (`OutboxNonceRead`: the runtime read
 * one message again because the proof-builder stalled on it, `nonce-gap`):
 *   1. a read of another chain, of a halted chain, made under another cursor
 *      than the state's (number and hash), or that found no log, emits
 *      nothing;
 *   2. a found log of the nonce and lane the read asked for, in a block at or
 *      below the cursor, becomes the `MessageObserved` a range read of that
 *      block emits for it (same fields, so the same message id: the
 *      proof-builder takes a repeat as the same observation). The cursor,
 *      the lanes' counts and the halt stay as they were.
 *
 * Invariants:
 * - The cursor never passes a block whose messages are not all observed:
 *   it moves only with a read proven complete (or a version-1 read, which
 *   predates the proof and is folded as it was when written).
 * - Only range reads move the cursor; a nonce re-read adds one observation of
 *   a block the cursor already passed, and nothing else.
 * - The cursor is emitted last, after every message of its range: a crash
 *   between the two re-reads the range rather than skipping it.
 * - After a resume every cursor names it (`resumedBy`), so the last cursor,
 *   all the compacted cursors topic keeps, says whether the watcher already
 *   started again from that resume.
 * - Only the watcher's own reads name a resume, and it names one only after
 *   finding it on the log, written by the `chain-resume` tool, and its
 *   trusted block's hash on its own RPC (`resume.ts`, `service.ts`).
 * - No I/O, no clock, no randomness; the state is never mutated, so replaying
 *   the same reads reproduces the same outputs, and (stamped with
 *   `stampOutputs`) the same ids.
 * - A read covering no block (`to.number === fromBlock - 1`) only records the
 *   cursor check: the runtime publishes one when its chain is idle and the
 *   check fails, so the halt is on the log and a replay reproduces it.
 *
 * @module
 */
import {
  BlockRef,
  Bytes32,
  ChainHalted,
  type ChorusEvent,
  type Envelope,
  type EventId,
  MessageId,
  MessageObserved,
  type OutboxBlock,
  type OutboxLog,
  type OutboxNonceRead,
  type OutboxRangeRead,
  WatcherCursor,
} from "../../schemas/index.ts"
import { messageIdOf } from "../runtime/contract-message.ts"
import type { LaneCore } from "../runtime/index.ts"
import { type Completeness, completenessOf } from "./completeness.ts"

export interface WatcherState {
  /** The last block folded (number and hash); null before the first read. */
  readonly cursor: BlockRef | null
  /** Set once the chain was seen rewritten below the cursor; nothing is folded after. */
  readonly halted: boolean
  /**
   * Each lane's Outbox count at the cursor's block, as the last complete read proved it (by destination
   * chain id); absent before one, and after a read that proved nothing.
   */
  readonly lanes?: ReadonlyMap<number, number>
  /** The `ChainResumed` the cursor descends from (the watcher started again from its trusted block); absent before any. */
  readonly resumedBy?: EventId
}

/** What the core made of one read: a closed set of named results with reasons. */
export type WatcherOutcome =
  | { readonly kind: "advanced"; readonly from: number; readonly to: BlockRef; readonly messages: number }
  | { readonly kind: "halted"; readonly halt: ChainHalted }
  /** A nonce re-read found its message below the cursor: observed again, the cursor unmoved. */
  | {
      readonly kind: "nonce-observed"
      readonly dstChainId: number
      readonly nonce: number
      readonly messageId: MessageId
    }
  | {
      /** The read does not prove it holds every message of its range: not folded; read the range again. */
      readonly kind: "incomplete"
      readonly verdict: Extract<Completeness, { kind: "short" | "inconsistent" }>
      readonly reason: string
    }
  | { readonly kind: "stale"; readonly reason: string }
  | { readonly kind: "ignored"; readonly reason: string }

export interface WatcherDecision {
  readonly state: WatcherState
  readonly outputs: ReadonlyArray<ChorusEvent>
  readonly outcome: WatcherOutcome
}

/** The core of one chain's watcher; it has the `LaneCore` shape, so `foldCore` replays it. */
export interface WatcherCore extends LaneCore<WatcherState> {
  readonly chainId: number
  readonly decide: (state: WatcherState, input: Envelope) => WatcherDecision
}

const ZERO_HASH = Bytes32.make(`0x${"0".repeat(64)}`)

const unchanged = (state: WatcherState, outcome: WatcherOutcome): WatcherDecision => ({
  state,
  outputs: [],
  outcome,
})

const halt = (
  state: WatcherState,
  chainId: number,
  cursor: BlockRef,
  observedHash: Bytes32,
  reason: string,
): WatcherDecision => {
  const event = new ChainHalted({
    chainId: chainId as ChainHalted["chainId"],
    blockNumber: cursor.number,
    expectedHash: cursor.hash,
    observedHash,
    reason,
  })
  return { state: { ...state, halted: true }, outputs: [event], outcome: { kind: "halted", halt: event } }
}

/** Checks the read's view of the cursor's block; a halt decision if the chain was rewritten under it. */
const checkCursor = (
  state: WatcherState,
  chainId: number,
  cursor: BlockRef,
  read: OutboxRangeRead,
): WatcherDecision | undefined => {
  const check = read.cursorCheck
  const stopping = "the chain was rewritten below the watcher's cursor (finality violated); stopping"
  if (check === null) {
    return halt(
      state,
      chainId,
      cursor,
      ZERO_HASH,
      `block ${cursor.number} was ${cursor.hash} when read, but this read carries no check of it, so the chain under the cursor cannot be confirmed; stopping`,
    )
  }
  if (check.number !== cursor.number) {
    return halt(
      state,
      chainId,
      cursor,
      ZERO_HASH,
      `block ${cursor.number} was ${cursor.hash} when read, but this read checked block ${check.number} instead, so the chain under the cursor cannot be confirmed; stopping`,
    )
  }
  if (check.hash !== cursor.hash) {
    return halt(
      state,
      chainId,
      cursor,
      check.hash,
      `block ${cursor.number} was ${cursor.hash} when read, now ${check.hash}: ${stopping}`,
    )
  }
  return undefined
}

/** The `MessageObserved` of one log of a block the watcher read: the same for a range read and a nonce re-read. */
const observedOf = (outbox: OutboxRangeRead["outbox"], block: OutboxBlock, log: OutboxLog) =>
  new MessageObserved({
    message: log.message,
    messageId: MessageId.make(messageIdOf(log.message)),
    outbox,
    block: block.block,
    blockTimestamp: block.timestamp,
    transactionHash: log.transactionHash,
    logIndex: log.logIndex,
  })

/** Folds a targeted re-read of one nonce: its log, found below the cursor, observed again; nothing else moves. */
const decideNonceRead = (
  state: WatcherState,
  chainId: number,
  input: Envelope,
  read: OutboxNonceRead,
): WatcherDecision => {
  const what = `nonce read ${input.id} (lane ${read.chainId} → ${read.dstChainId}, nonce ${read.nonce})`
  if (read.chainId !== chainId)
    return unchanged(state, {
      kind: "ignored",
      reason: `${what} is of chain ${read.chainId}, not ${chainId}`,
    })
  if (state.halted)
    return unchanged(state, { kind: "stale", reason: `chain ${chainId} is halted; ${what} is not folded` })
  const cursor = state.cursor
  if (cursor === null || cursor.number !== read.cursor.number || cursor.hash !== read.cursor.hash)
    return unchanged(state, {
      kind: "stale",
      reason: `${what} was made under the cursor at block ${read.cursor.number}, but the cursor is ${
        cursor === null ? "not set" : `at block ${cursor.number}`
      }`,
    })
  const found = read.found
  const log = found?.logs.length === 1 ? found.logs[0] : undefined
  if (found === null || log === undefined)
    return unchanged(state, { kind: "ignored", reason: `${what} found no single log of the nonce` })
  if (found.block.number > cursor.number)
    return unchanged(state, {
      kind: "stale",
      reason: `${what} found its log in block ${found.block.number}, past the cursor at ${cursor.number}: a range read observes it`,
    })
  if (
    log.message.srcChainId !== chainId ||
    log.message.dstChainId !== read.dstChainId ||
    log.message.nonce !== read.nonce
  )
    return unchanged(state, {
      kind: "ignored",
      reason: `${what} found a log of lane ${log.message.srcChainId} → ${log.message.dstChainId}, nonce ${log.message.nonce}`,
    })
  const observed = observedOf(read.outbox, found, log)
  return {
    state,
    outputs: [observed],
    outcome: {
      kind: "nonce-observed",
      dstChainId: read.dstChainId,
      nonce: read.nonce,
      messageId: observed.messageId,
    },
  }
}

/**
 * The state a watcher restarted from a resume's trusted block starts with: the block its RPC showed there
 * (the read's cursor check), the lanes' counts there as the read took them, and the resume. Undefined for a
 * read with no cursor check (it cannot say where it starts).
 *
 * @example
 * ```ts
 * resumedFrom(firstReadAfterResume, resumeId) // { cursor: trusted, halted: false, lanes, resumedBy: resumeId }
 * ```
 */
export const resumedFrom = (read: OutboxRangeRead, resumedBy: EventId): WatcherState | undefined => {
  const trusted = read.cursorCheck
  if (trusted === null) return undefined
  const cursor = new BlockRef({ number: trusted.number, hash: trusted.hash })
  if (read.lanes === null) return { cursor, halted: false, resumedBy }
  return {
    cursor,
    halted: false,
    lanes: new Map(read.lanes.map((lane) => [lane.dstChainId, lane.before])),
    resumedBy,
  }
}

/**
 * The watcher core of one chain.
 *
 * @example
 * ```ts
 * const core = makeWatcherCore(901)
 * const { state, outputs, outcome } = core.decide(core.initial, readEnvelope)
 * const envelopes = stampOutputs(producer, readEnvelope, outputs)
 * ```
 */
export const makeWatcherCore = (chainId: number): WatcherCore => ({
  chainId,
  initial: { cursor: null, halted: false },
  decide: (from, input) => {
    let state = from
    if (input.event._tag === "OutboxNonceRead") return decideNonceRead(state, chainId, input, input.event)
    if (input.event._tag !== "OutboxRangeRead") {
      return unchanged(state, {
        kind: "ignored",
        reason: `event ${input.id} is a ${input.type}, not an OutboxRangeRead or OutboxNonceRead`,
      })
    }
    const read = input.event
    if (read.chainId !== chainId) {
      return unchanged(state, {
        kind: "ignored",
        reason: `read ${input.id} is of chain ${read.chainId}, this core watches chain ${chainId}`,
      })
    }
    if (read.resumedBy !== undefined && read.resumedBy !== state.resumedBy) {
      const resumed = resumedFrom(read, read.resumedBy)
      if (resumed === undefined) {
        return unchanged(state, {
          kind: "ignored",
          reason: `read ${input.id} names resume ${read.resumedBy} but carries no check of the trusted block it starts after`,
        })
      }
      state = resumed
    }
    if (state.halted) {
      return unchanged(state, {
        kind: "stale",
        reason: `chain ${chainId} is halted; read ${input.id} is not folded`,
      })
    }
    const cursor = state.cursor
    if (cursor !== null) {
      if (read.fromBlock !== cursor.number + 1) {
        return unchanged(state, {
          kind: "stale",
          reason: `read ${input.id} starts at block ${read.fromBlock}, but the cursor is at ${cursor.number}: a duplicate or a read made against an older cursor`,
        })
      }
      const halted = checkCursor(state, chainId, cursor, read)
      if (halted !== undefined) return halted
      if (read.to.number <= cursor.number) {
        return unchanged(state, {
          kind: "stale",
          reason: `read ${input.id} ends at block ${read.to.number}, not after the cursor at ${cursor.number}: it only confirmed the cursor`,
        })
      }
    }
    const verdict = completenessOf(read, state.lanes)
    if (verdict.kind === "short" || verdict.kind === "inconsistent") {
      return unchanged(state, { kind: "incomplete", verdict, reason: verdict.reason })
    }
    const outputs: ChorusEvent[] = []
    for (const block of read.blocks) {
      for (const log of block.logs) outputs.push(observedOf(read.outbox, block, log))
    }
    const messages = outputs.length
    const to = new BlockRef({ number: read.to.number, hash: read.to.hash })
    const resumedBy = state.resumedBy
    outputs.push(
      resumedBy === undefined
        ? new WatcherCursor({ chainId: read.chainId, block: to })
        : new WatcherCursor({ chainId: read.chainId, block: to, resumedBy }),
    )
    const lanes = verdict.kind === "complete" ? verdict.counts : undefined
    return {
      state: {
        cursor: to,
        halted: false,
        ...(lanes === undefined ? {} : { lanes }),
        ...(resumedBy === undefined ? {} : { resumedBy }),
      },
      outputs,
      outcome: { kind: "advanced", from: read.fromBlock, to, messages },
    }
  },
})
