/**
 * The chain-watcher's pure core: folds what the watcher read from its chain
 * (`OutboxRangeRead`) into its cursor and the events it emits.
 *
 * Pipeline, per read:
 *   1. a read for another chain, or of another type, is ignored (a replay
 *      over the shared reads topic feeds every chain's reads);
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
 * Invariants:
 * - The cursor never passes a block whose messages are not all observed:
 *   it moves only with a read proven complete (or a version-1 read, which
 *   predates the proof and is folded as it was when written).
 * - The cursor is emitted last, after every message of its range: a crash
 *   between the two re-reads the range rather than skipping it.
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
  MessageId,
  MessageObserved,
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
}

/** What the core made of one read: a closed set of named results with reasons. */
export type WatcherOutcome =
  | { readonly kind: "advanced"; readonly from: number; readonly to: BlockRef; readonly messages: number }
  | { readonly kind: "halted"; readonly halt: ChainHalted }
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
  decide: (state, input) => {
    if (input.event._tag !== "OutboxRangeRead") {
      return unchanged(state, {
        kind: "ignored",
        reason: `event ${input.id} is a ${input.type}, not an OutboxRangeRead`,
      })
    }
    const read = input.event
    if (read.chainId !== chainId) {
      return unchanged(state, {
        kind: "ignored",
        reason: `read ${input.id} is of chain ${read.chainId}, this core watches chain ${chainId}`,
      })
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
      for (const log of block.logs) {
        outputs.push(
          new MessageObserved({
            message: log.message,
            messageId: MessageId.make(messageIdOf(log.message)),
            outbox: read.outbox,
            block: block.block,
            blockTimestamp: block.timestamp,
            transactionHash: log.transactionHash,
            logIndex: log.logIndex,
          }),
        )
      }
    }
    const messages = outputs.length
    const to = new BlockRef({ number: read.to.number, hash: read.to.hash })
    outputs.push(new WatcherCursor({ chainId: read.chainId, block: to }))
    const lanes = verdict.kind === "complete" ? verdict.counts : undefined
    return {
      state: lanes === undefined ? { cursor: to, halted: false } : { cursor: to, halted: false, lanes },
      outputs,
      outcome: { kind: "advanced", from: read.fromBlock, to, messages },
    }
  },
})
