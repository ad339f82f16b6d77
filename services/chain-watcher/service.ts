/**
 * The chain-watcher runtime: one per chain, a polling loop driven by blocks
 * (no filters, no subscriptions) around the pure core.
 *
 * At start (`resume.ts`): a chain halted on the log, and not resumed,
 * refuses to start (`ChainStillHaltedError`); a chain whose last halt a
 * `chorus chain resume` lifted starts from the resume's trusted block,
 * unless its cursor already descends from that resume, and its first tick
 * reads that block's header, and each lane's count there, again on its RPC
 * before anything else: the resume's hash and counts let it read on, every
 * read then naming the resume (`resumedBy`); anything else means the chain
 * refutes the resume (it no longer has the block, or the resume recorded
 * counts it does not show), so it halts again (`ChainHalted` at that
 * block) and `done` rejects with `ResumeRefutedError`.
 *
 * Pipeline, per tick:
 *   1. a read published but not folded (a previous tick's publish failed,
 *      or the process stopped in between) is folded first;
 *   2. the finalized head (the chain's finality rule: `chains/`);
 *   3. at the head already: the block at the cursor's height is still
 *      checked, so a rewrite while idle is caught; a failed check becomes a
 *      check-only read, so the halt is on the log;
 *   4. otherwise the next range `[cursor + 1, min(head, cursor + range)]`,
 *      read and checked by the chain's reader (`outboxLogs`) with each
 *      lane's Outbox count around it (one `eth_call` more), published on
 *      `chorus.watcher.reads`;
 *   5. the core decides; its messages are published, then its cursor, in a
 *      second publish so the cursor can never be acknowledged before them;
 *   6. a read the core finds incomplete (its logs fall short of the counts:
 *      the RPC dropped some) stays on the log as the record of the
 *      shortfall, and the range is read again at once: from the chain's
 *      next RPC URL while there is another, then from the same URLs again,
 *      each answer joined with the ones before it (`merge-reads.ts`: what
 *      one answer dropped, another holds), then over halves of the range
 *      (fewer logs for a lossy RPC to drop), each read (or union, naming
 *      the short read it completes as its cause) published and decided
 *      like the first. When none proves complete, the tick ends
 *      `incomplete` and the loop backs off.
 *   7. after a tick that left the state as the log says (idle, advanced or
 *      incomplete), the proof-builder's nonce gaps on this chain's lanes
 *      (`nonce-gaps.ts`: its `LaneStalled` `nonce-gap` records on
 *      `chorus.checkpoints.proposed`, followed from where the last tick
 *      stopped, closed by a proposal past them). A gap whose nonce is below
 *      the lane's Outbox count at the cursor (as the last complete read
 *      proved it, or `Outbox.count(dst)` read at the cursor) was sent in a
 *      block the cursor passed, so its message is read again alone
 *      (`outboxMessage`: `eth_getLogs` with topics [MessageSent, dst,
 *      nonce] from the start block to the cursor, checked like a range
 *      read, from the chain's next URL at each attempt), recorded on
 *      `chorus.watcher.reads` as `OutboxNonceRead` (caused by the stall),
 *      and folded by the core into the same `MessageObserved` a range read
 *      emits for it. A nonce at or above the count is not read yet: the
 *      range reads observe it. At most one read per (lane, nonce) per
 *      `NONCE_REREAD_EVERY_MS` (30 s); a read that found nothing is tried
 *      again after it; an RPC or bus failure ends the pass and the gap is
 *      read again next tick.
 *
 * After each tick, its outcome goes to the chain's RPC fault tracker
 * (`chains/rpc-faults.ts`): an RPC failure or an answer that fails
 * validation is logged with the redacted URL (the first at once, then a
 * summary per `rpc.logEveryMs`); a streak of them older than
 * `rpc.unreachableAfterMs` is recorded once as `WatcherStalled` on the
 * chain topic, and the first tick that reads the chain again records
 * `WatcherRecovered`.
 *
 * Invariants:
 * - The state changes only after every output of a read was acknowledged;
 *   a failed publish leaves the read pending, and the next tick republishes
 *   the same outputs with the same ids.
 * - RPC failures and answers that fail validation are an outcome of the tick,
 *   retried with backoff; their reads are never emitted. What is recorded
 *   of them is the stall, once per outage, never a line or an event per
 *   tick.
 * - The cursor never passes a block whose messages are not all observed: the
 *   core folds only reads that prove themselves complete.
 * - A halt publishes `ChainHalted`, stops the loop and rejects `done` with
 *   `ChainHaltedError` (`ResumeRefutedError` when the chain refutes what a
 *   resume trusts).
 * - After a resume, every read and every cursor names it (`resumedBy`).
 * - A nonce re-read never moves the cursor, and is folded only on a state
 *   the core reached from the reads log (not between a resume and its first
 *   read), under the cursor it was read at, so a replay of the reads folds
 *   it the same way. Its observation, if its publish fails, is published
 *   again (same ids) first thing next tick. A crash between the read and its
 *   observation leaves the read on the log (a replay observes it) and the
 *   gap open: the restarted watcher reads it again, and the proof-builder
 *   takes the repeat as the same observation.
 * - Only the proof-builder's stalls make a watcher read, of its own lanes.
 *
 * @module
 */
import { publishEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import {
  backoffMs,
  faultOrUnknown,
  InvalidRpcResponseError,
  makeChainAccess,
  makeFaultTracker,
  recoveryFieldsOf,
  stallFieldsOf,
} from "../../chains/index.ts"
import {
  type BlockRef,
  ChainHalted,
  ChainId,
  type ChorusEvent,
  type Envelope,
  type EventId,
  laneKey,
  makeEnvelope,
  OutboxNonceRead,
  OutboxRangeRead,
  toAddress,
  WatcherRecovered,
  WatcherStalled,
} from "../../schemas/index.ts"
import { type ChorusConfig, chainOf } from "../config/index.ts"
import {
  laneCountsAt,
  producerOf,
  type RunningService,
  type ServiceLogger,
  stampOutputs,
} from "../runtime/index.ts"
import { wakeableSleep } from "../runtime/wakeable-sleep.ts"
import { describeShortfall } from "./completeness.ts"
import { makeWatcherCore, type WatcherOutcome, type WatcherState } from "./core.ts"
import { ChainHaltedError, ChainStillHaltedError, ResumeRefutedError } from "./errors.ts"
import { unionOfReads } from "./merge-reads.ts"
import { type NonceGap, nonceGapsView } from "./nonce-gaps.ts"
import { loadResumePoint } from "./resume.ts"

/** What one tick did: a closed set of named outcomes, each with its reason. */
export type TickResult =
  | {
      readonly kind: "advanced"
      readonly from: number
      readonly to: BlockRef
      readonly messages: number
      /** The finalized head seen by this tick; null when the tick folded a pending read without reading one. */
      readonly head: number | null
      /** True when the read was one published earlier and folded only now. */
      readonly recovered: boolean
      /** Reads of the range that came back short before this one proved complete (0 on an honest RPC). */
      readonly rereads: number
    }
  | { readonly kind: "idle"; readonly head: number | null; readonly reason: string }
  | {
      /** No read of the range proved it complete: nothing folded, the cursor stays; read again after a backoff. */
      readonly kind: "incomplete"
      readonly from: number
      /** Reads of the range made in this tick, each short or inconsistent, each on the log. */
      readonly reads: number
      readonly reason: string
    }
  | { readonly kind: "halted"; readonly halt: ChainHalted; readonly reason: string }
  | { readonly kind: "stale-read"; readonly reason: string }
  | { readonly kind: "rpc-error"; readonly reason: string; readonly error: unknown }
  | {
      readonly kind: "invalid-response"
      readonly reason: string
      readonly problems: ReadonlyArray<string>
      readonly error: unknown
    }
  | { readonly kind: "bus-error"; readonly reason: string; readonly error: unknown }
  | { readonly kind: "stopped"; readonly reason: string }

export interface ChainWatcher extends RunningService {
  /** Runs one step now (serialised with the loop's own ticks). Never throws. */
  tick(): Promise<TickResult>
  /** The last block folded, or null before the first read. */
  cursor(): BlockRef | null
}

export interface ChainWatcherDeps {
  readonly bus: BusPort
  readonly config: ChorusConfig
  readonly chainId: number
  readonly logger: ServiceLogger
  /** Start the polling loop (default true); false lets tests drive `tick()`. */
  readonly autoStart?: boolean
  /** Overrides `NONCE_REREAD_EVERY_MS` (tests). */
  readonly nonceRereadEveryMs?: number
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0]!

/**
 * Re-reads of a short range in one tick past the other URLs: each halves the range, so 8 bring a
 * 2,000-block range under 8 blocks before the tick gives up and backs off.
 */
const NARROWINGS = 8

/**
 * Re-reads of the same range past the other URLs, each joined with the answers before it
 * (`merge-reads.ts`): on an RPC that drops 20% of the logs, six answers leave a given log missing with
 * probability 0.2^7, so a block of 60 messages is proven whole within one tick.
 */
const UNIONS = 6

/**
 * At most one targeted re-read of a (lane, nonce) the proof-builder waits on per this long: a flood of its
 * stalls costs little, and a read that found nothing (a lossy RPC) is tried again after it.
 */
export const NONCE_REREAD_EVERY_MS = 30_000

/** A read the core did not fold because it does not prove its range complete: read the range again. */
interface Short {
  readonly kind: "short"
  /** The record of the read on the log. */
  readonly id: EventId
  readonly read: OutboxRangeRead
  readonly outcome: Extract<WatcherOutcome, { kind: "incomplete" }>
}

/** What a short or contradictory read was missing, for the log line. */
const missingOf = (outcome: Extract<WatcherOutcome, { kind: "incomplete" }>): string =>
  outcome.verdict.kind === "short" ? describeShortfall(outcome.verdict.shortfall) : outcome.reason

/** The read as recorded after a resume: naming the resume, so the core (and a replay) starts from its block. */
const markResumed = (read: OutboxRangeRead, resumedBy: EventId | undefined): OutboxRangeRead =>
  resumedBy === undefined || read.resumedBy === resumedBy
    ? read
    : new OutboxRangeRead({
        chainId: read.chainId,
        outbox: read.outbox,
        cursorCheck: read.cursorCheck,
        fromBlock: read.fromBlock,
        to: read.to,
        blocks: read.blocks,
        lanes: read.lanes,
        rpc: read.rpc,
        resumedBy,
      })

/** A failure of the bus, as opposed to the chain's RPC. */
class PublishFailed extends Error {
  override readonly name = "PublishFailed"
}

const publish = async (bus: BusPort, envelopes: ReadonlyArray<Envelope>) => {
  try {
    await publishEvents(bus, envelopes)
  } catch (error) {
    throw new PublishFailed(firstLine(error), { cause: error })
  }
}

/**
 * Starts the watcher of one chain: resumes from its cursor on the bus (or
 * `chainWatcher.startBlock`), then polls every `chainWatcher.pollIntervalMs`.
 *
 * @example
 * ```ts
 * const watcher = await startChainWatcher({ bus, config, chainId: 901, logger })
 * watcher.done.catch((error) => console.error(error.message)) // ChainHaltedError on a rewrite
 * await watcher.stop()
 * ```
 */
export const startChainWatcher = async (deps: ChainWatcherDeps): Promise<ChainWatcher> => {
  const { bus, config, logger } = deps
  const chain = chainOf(config, deps.chainId)
  const chainId = ChainId.make(chain.chainId)
  const outbox = toAddress(chain.outbox)
  const settings = config.chainWatcher
  const reader = makeChainAccess(config, {
    retryCount: settings.retryCount,
    logRange: { initial: settings.initialRange, max: settings.maxRange },
  }).reader(chainId)
  const producer = producerOf("chain-watcher", String(chainId))
  const core = makeWatcherCore(chainId)

  const resume = await loadResumePoint(bus, { chainId, startBlock: settings.startBlock, logger })
  const { start } = resume
  if (start.kind === "halted") {
    const error = new ChainStillHaltedError(start.halt)
    logger.error("chain-watcher refuses to start: its chain is halted on the log", {
      block: start.halt.blockNumber,
      halt: start.halt.eventId,
      reason: start.halt.reason,
    })
    throw error
  }
  /** The resume this watcher starts again from, until its first tick finds the trusted block on the RPC. */
  let resuming = start.kind === "resume" ? start.resume : null
  const resumedBy = resuming?.eventId ?? resume.cursor?.event.resumedBy
  let state: WatcherState = {
    cursor: resuming !== null ? resuming.block : (resume.cursor?.event.block ?? null),
    halted: false,
    ...(resumedBy === undefined ? {} : { resumedBy }),
  }
  let pending: Envelope<OutboxRangeRead> | null = resume.pending
  let lastHalt: ChainHalted | null = null
  /**
   * Whether the state is one the core reached by folding the reads log (its cursor from the cursors topic, or
   * a read folded here): a nonce re-read is folded only then, so a replay folds it on the same state. After a
   * resume it is not until the first read from the trusted block is folded.
   */
  let folded = start.kind === "cursor"
  logger.info("chain-watcher starting", {
    cursor: state.cursor?.number ?? null,
    startBlock: state.cursor === null ? settings.startBlock : null,
    pendingRead: pending?.id ?? null,
    finality: chain.finality,
    ...(resuming === null
      ? {}
      : { resumingFrom: resuming.block.number, resume: resuming.eventId, resumedBy: resuming.by }),
  })

  let resolveDone: () => void = () => {}
  let rejectDone: (error: Error) => void = () => {}
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve
    rejectDone = reject
  })
  // A caller that never awaits `done` must not crash the process with an unhandled rejection.
  done.catch(() => undefined)

  /** Folds a published read and publishes what the core decided. */
  const apply = async (
    read: Envelope<OutboxRangeRead>,
    head: number | null,
    recovered: boolean,
    rereads: number,
  ): Promise<TickResult | Short> => {
    const decision = core.decide(state, read)
    const outputs = stampOutputs(producer, read, decision.outputs)
    const { outcome } = decision
    switch (outcome.kind) {
      case "advanced": {
        // The cursor goes last, in its own publish: it must never be acknowledged before its messages.
        await publish(bus, outputs.slice(0, -1))
        await publish(bus, outputs.slice(-1))
        state = decision.state
        pending = null
        folded = true
        const fields = {
          from: outcome.from,
          to: outcome.to.number,
          messages: outcome.messages,
          head,
          recovered,
          rereads,
        }
        if (outcome.messages > 0) logger.info("observed messages", fields)
        else logger.debug("advanced", fields)
        return {
          kind: "advanced",
          from: outcome.from,
          to: outcome.to,
          messages: outcome.messages,
          head,
          recovered,
          rereads,
        }
      }
      case "halted": {
        await publish(bus, outputs)
        state = decision.state
        pending = null
        lastHalt = outcome.halt
        const error = new ChainHaltedError(outcome.halt)
        logger.error("chain halted: rewritten below the cursor", {
          block: outcome.halt.blockNumber,
          expectedHash: outcome.halt.expectedHash,
          observedHash: outcome.halt.observedHash,
          reason: outcome.halt.reason,
        })
        rejectDone(error)
        return { kind: "halted", halt: outcome.halt, reason: outcome.halt.reason }
      }
      case "incomplete":
        // The read itself, already on the log, is the record of the shortfall.
        pending = null
        return { kind: "short", id: read.id, read: read.event, outcome }
      case "stale":
      case "ignored":
      // Only a nonce re-read is observed without moving the cursor, and it is not folded here.
      case "nonce-observed": {
        pending = null
        const reason =
          outcome.kind === "nonce-observed" ? `read ${read.id} is a nonce re-read` : outcome.reason
        logger.warn("the core did not fold a read", { read: read.id, reason })
        return { kind: "stale-read", reason }
      }
    }
  }

  /** Publishes a read, then folds it: a crash in between leaves it pending, folded first on restart. */
  const record = async (
    read: OutboxRangeRead,
    head: number | null,
    rereads: number,
    completes: EventId | null = null,
  ) => {
    const envelope = makeEnvelope(markResumed(read, state.resumedBy), {
      producer,
      causationId: completes,
      time: new Date(),
    })
    await publish(bus, [envelope])
    pending = envelope
    return apply(envelope, head, false, rereads)
  }

  const rpcUrls = chain.rpcUrls

  /** The lanes a read must count: every configured chain, and every lane proven at the cursor. */
  const completeness = () => ({
    lanes: config.chains.map((c) => c.chainId),
    countsBefore: state.lanes ?? new Map<number, number>(),
  })

  /**
   * Reads the range again after a short answer, until one proves complete or the attempts run out: first
   * from each other RPC URL over the same range (a short answer is the RPC's fault, not the range's), then
   * over halves of the range (a smaller range holds fewer logs for a lossy RPC to drop).
   */
  const reread = async (first: Short, head: number | null): Promise<TickResult> => {
    const sameRange = rpcUrls.length - 1 + UNIONS
    const attempts = sameRange + NARROWINGS
    let short = first
    for (let rereads = 1; ; rereads++) {
      const previous = short.read
      const span = previous.to.number - previous.fromBlock + 1
      const rpc = rereads % rpcUrls.length
      const upTo = rereads <= sameRange ? previous.to.number : previous.fromBlock + Math.ceil(span / 2) - 1
      const missing = missingOf(short.outcome)
      const fields = {
        from: previous.fromBlock,
        to: previous.to.number,
        rpc: previous.rpc ?? "fallback",
        verdict: short.outcome.verdict.kind,
        missing,
        attempt: rereads,
      }
      if (rereads > attempts) {
        logger.warn("no read proved the range complete; backing off", fields)
        return {
          kind: "incomplete",
          from: previous.fromBlock,
          reads: rereads,
          reason: `${rereads} reads of blocks from ${previous.fromBlock} were short or inconsistent; the last: ${short.outcome.reason}`,
        }
      }
      const what =
        short.outcome.verdict.kind === "short"
          ? "short eth_getLogs answer; reading the range again"
          : "the logs and lane counts of a read disagree; reading the range again"
      logger.warn(what, {
        ...fields,
        // The URL by its place in the chain's rpcUrls: the read names it, redacted, once made.
        next: { rpc: `#${rpc + 1} of ${rpcUrls.length}`, toBlock: upTo },
      })
      const read = await reader.outboxLogs({
        outbox,
        cursor: state.cursor,
        fromBlock: previous.fromBlock,
        head: upTo,
        rpc,
        completeness: completeness(),
      })
      // The answers so far, joined: each holds most of what the others dropped.
      const union = unionOfReads(previous, read)
      const result =
        union === null ? await record(read, head, rereads) : await record(union, head, rereads, short.id)
      if (result.kind !== "short") return result
      short = result
    }
  }

  /**
   * Before it reads on from a resume: the trusted block's hash, and each lane's count there, on its own RPC.
   * The resume's let it read on; anything else halts the chain again at that block, on the log, and stops
   * the watcher (the counts are what submitters trust the lanes' checkpoints up to).
   */
  const checkTrusted = async (trusted: NonNullable<typeof resuming>): Promise<TickResult | null> => {
    const check = await reader.header(trusted.block.number)
    let problem: string | null = null
    if (trusted.block.number >= trusted.halt.blockNumber) {
      problem = `that block is not below block ${trusted.halt.blockNumber}, which the halt it lifts found rewritten`
    } else if (check.ref.hash !== trusted.block.hash) {
      problem = `its RPC now shows ${check.ref.hash} at that block: the chain no longer has the block the resume trusts`
    } else if (trusted.outbox !== outbox) {
      problem = `the resume counts the lanes of Outbox ${trusted.outbox}, and the chain's configured Outbox is ${outbox}`
    } else {
      const destinations = config.chains.filter((c) => c.chainId !== chainId).map((c) => c.chainId)
      const counts = await laneCountsAt(reader, outbox, destinations, trusted.block.number)
      const wrong = destinations.filter((dst) => (trusted.counts.get(dst) ?? 0) !== counts.get(dst))
      if (wrong.length > 0)
        problem = `its RPC shows other lane counts there than the resume recorded (${wrong
          .map((dst) => `lane ${chainId} → ${dst}: ${counts.get(dst)}, not ${trusted.counts.get(dst) ?? 0}`)
          .join("; ")})`
    }
    if (problem === null) {
      logger.info("the resume's trusted block is on the chain; reading on from it", {
        block: trusted.block.number,
        hash: trusted.block.hash,
        resume: trusted.eventId,
        by: trusted.by,
      })
      resuming = null
      return null
    }
    // A block the chain no longer has is where it was found rewritten; otherwise the rewrite the resume was to
    // lift stands where it was found (the next resume must come from below it).
    const rewritten = check.ref.hash !== trusted.block.hash
    const halt = new ChainHalted({
      chainId,
      blockNumber: rewritten ? trusted.block.number : trusted.halt.blockNumber,
      expectedHash: trusted.block.hash,
      observedHash: check.ref.hash,
      reason: `the resume by ${trusted.by} (ChainResumed ${trusted.eventId}) trusts block ${trusted.block.number} (${trusted.block.hash}), but ${problem}; stopping`,
    })
    await publish(bus, [makeEnvelope(halt, { producer, causationId: trusted.eventId, time: new Date() })])
    state = { ...state, halted: true }
    lastHalt = halt
    logger.error("the chain refutes the resume's trusted block: halted again", {
      block: trusted.block.number,
      resume: trusted.eventId,
      problem,
    })
    rejectDone(new ResumeRefutedError(trusted, problem))
    return { kind: "halted", halt, reason: halt.reason }
  }

  const gaps = nonceGapsView(bus, { chainId, outbox }, logger)
  const rereadEveryMs = deps.nonceRereadEveryMs ?? NONCE_REREAD_EVERY_MS
  /** When each (lane, nonce) was last read again, and how many times: at most once per `rereadEveryMs`. */
  const nonceReads = new Map<string, { readonly at: number; readonly reads: number }>()
  /** Nonce re-reads published but not yet folded (their observation's publish failed). */
  const pendingNonceReads: Array<Envelope<OutboxNonceRead>> = []
  /** The lanes' counts at the cursor read from the chain, when no complete read proved them there. */
  let countedAt: { readonly cursor: BlockRef; readonly counts: Map<number, number> } | null = null
  let mendWarnedAt = Number.NEGATIVE_INFINITY

  /** The lane's Outbox count at the cursor: as the last complete read proved it, or read there. */
  const countAtCursor = async (cursor: BlockRef, dstChainId: number): Promise<number> => {
    const proven = state.lanes?.get(dstChainId)
    if (proven !== undefined) return proven
    if (countedAt === null || countedAt.cursor !== cursor) countedAt = { cursor, counts: new Map() }
    let count = countedAt.counts.get(dstChainId)
    if (count === undefined) {
      count = (await laneCountsAt(reader, outbox, [dstChainId], cursor.number)).get(dstChainId)!
      countedAt.counts.set(dstChainId, count)
    }
    return count
  }

  /** Folds a published nonce re-read and publishes its observation; the state never changes. */
  const foldNonceRead = async (read: Envelope<OutboxNonceRead>) => {
    const decision = core.decide(state, read)
    await publish(bus, stampOutputs(producer, read, decision.outputs))
    return decision.outcome
  }

  /** Reads one gap's message again, records the read, and folds it; the gap closes once its message is observed. */
  const mendGap = async (gap: NonceGap, cursor: BlockRef): Promise<void> => {
    const lane = laneKey(gap.lane)
    const key = `${lane}:${gap.nonce}`
    const fields = { lane, nonce: gap.nonce, stall: gap.stall, cursor: cursor.number }
    const count = await countAtCursor(cursor, gap.lane.dstChainId)
    if (gap.nonce >= count || cursor.number < settings.startBlock) {
      // Not sent by the cursor's block: the range reads, which prove themselves complete, will observe it.
      gaps.close(gap)
      logger.debug("the proof-builder waits for a message not read yet", { ...fields, count })
      return
    }
    const reads = nonceReads.get(key)?.reads ?? 0
    logger.info("re-reading a message the proof-builder waits for", { ...fields, count, attempt: reads + 1 })
    const answer = await reader.outboxMessage({
      outbox,
      dstChainId: gap.lane.dstChainId,
      nonce: gap.nonce,
      fromBlock: settings.startBlock,
      toBlock: cursor.number,
      // Each read again from the chain's next URL: the one that dropped the log may drop it again.
      ...(rpcUrls.length > 1 ? { rpc: reads % rpcUrls.length } : {}),
    })
    nonceReads.set(key, { at: Date.now(), reads: reads + 1 })
    const read = makeEnvelope(
      new OutboxNonceRead({
        chainId,
        outbox,
        dstChainId: gap.lane.dstChainId,
        nonce: gap.nonce,
        count,
        cursor,
        fromBlock: settings.startBlock,
        found: answer.found,
        rpc: answer.rpc,
      }),
      { producer, causationId: gap.stall, time: new Date() },
    )
    await publish(bus, [read])
    pendingNonceReads.push(read)
    const outcome = await foldNonceRead(read)
    pendingNonceReads.pop()
    if (outcome.kind === "nonce-observed") {
      // The read stays counted: the same gap reported again within the interval is not read again.
      gaps.close(gap)
      logger.info("observed a message the proof-builder waits for", {
        ...fields,
        messageId: outcome.messageId,
      })
    } else {
      logger.warn("a re-read found no message the proof-builder waits for; reading it again later", {
        ...fields,
        count,
        rpc: answer.rpc ?? "fallback",
        againInMs: rereadEveryMs,
        reason: "reason" in outcome ? outcome.reason : outcome.kind,
      })
    }
  }

  /**
   * After a tick: the nonce gaps the proof-builder reported on this chain's lanes since, each below the
   * lane's count at the cursor read again (at most once per `rereadEveryMs`). A failure (the RPC, the
   * bus) ends the pass; the gap is read again at the next tick.
   */
  const mendGaps = async (): Promise<void> => {
    const cursor = state.cursor
    if (state.halted || !folded || cursor === null) return
    let reading: NonceGap | null = null
    try {
      await gaps.refresh()
      const now = Date.now()
      const open = gaps.open()
      // A gap still open keeps its count of reads (each goes to the next URL); a closed one only its interval.
      const keys = new Set(open.map((gap) => `${laneKey(gap.lane)}:${gap.nonce}`))
      for (const [key, last] of nonceReads)
        if (!keys.has(key) && now - last.at >= rereadEveryMs) nonceReads.delete(key)
      for (const gap of open) {
        const last = nonceReads.get(`${laneKey(gap.lane)}:${gap.nonce}`)
        if (last !== undefined && now - last.at < rereadEveryMs) continue
        reading = gap
        await mendGap(gap, cursor)
      }
    } catch (error) {
      const now = Date.now()
      // Once per interval at most: an RPC that stays down is the tick's to report.
      if (now - mendWarnedAt < rereadEveryMs) return
      mendWarnedAt = now
      const fault = error instanceof PublishFailed ? null : faultOrUnknown(error, rpcUrls, "a nonce re-read")
      logger.warn("re-reading a message the proof-builder waits for failed; trying again next tick", {
        ...(reading === null ? {} : { lane: laneKey(reading.lane), nonce: reading.nonce }),
        error: fault?.problem ?? firstLine(error),
        ...(fault === null ? {} : { rpc: fault.rpc }),
      })
    }
  }

  /** One step; throws only `PublishFailed` or RPC errors, which `tick` turns into outcomes. */
  const step = async (): Promise<TickResult> => {
    if (state.halted && lastHalt !== null) {
      return { kind: "halted", halt: lastHalt, reason: `chain ${chainId} is halted: ${lastHalt.reason}` }
    }
    if (resuming !== null) {
      const refused = await checkTrusted(resuming)
      if (refused !== null) return refused
    }
    // A nonce re-read on the log whose observation was not published: folded again, under the same cursor.
    while (pendingNonceReads.length > 0) {
      await foldNonceRead(pendingNonceReads[0]!)
      pendingNonceReads.shift()
    }
    if (pending !== null) {
      const recovered = await apply(pending, null, true, 0)
      // A short read left pending is already on the log; the range is simply read anew.
      if (recovered.kind !== "short") return recovered
    }
    const head = (await reader.finalizedHead())?.number ?? null
    const cursor = state.cursor
    const from = cursor === null ? settings.startBlock : cursor.number + 1
    if (head === null || head < from) {
      const reason =
        head === null
          ? `no block is ${"confirmations" in chain.finality ? chain.finality.confirmations : 0} confirmations deep yet`
          : `the finalized head ${head} is not past block ${from - 1}`
      if (cursor === null) return { kind: "idle", head, reason }
      const check = await reader.header(cursor.number)
      if (check.ref.hash === cursor.hash)
        return { kind: "idle", head, reason: `${reason}; cursor still canonical` }
      // Record the failed check as a read covering no block, so the halt is on the log and replays.
      const checkOnly = new OutboxRangeRead({
        chainId,
        outbox,
        cursorCheck: check.ref,
        fromBlock: from,
        to: check.ref,
        blocks: [],
      })
      const result = await record(checkOnly, head, 0)
      // It covers no block, so it has nothing to prove: the core halts on it, never finds it short.
      return result.kind === "short" ? reread(result, head) : result
    }
    const read = await reader.outboxLogs({
      outbox,
      cursor,
      fromBlock: from,
      head,
      completeness: completeness(),
      onShrink: ({ fromBlock, toBlock, nextSize, error }) => {
        const fault = faultOrUnknown(error, rpcUrls, "eth_getLogs")
        logger.warn("eth_getLogs range refused as too large; halving", {
          fromBlock,
          toBlock,
          nextSize,
          rpc: fault.rpc,
          error: fault.problem,
        })
      },
    })
    const result = await record(read, head, 0)
    return result.kind === "short" ? reread(result, head) : result
  }

  let stopped = false
  let queue: Promise<unknown> = Promise.resolve()

  /** The chain's RPC as this watcher sees it: its failures logged with the URL, a long outage recorded once. */
  const rpcFaults = makeFaultTracker({
    chainId,
    unreachableAfterMs: config.rpc.unreachableAfterMs,
    logEveryMs: config.rpc.logEveryMs,
    logger,
  })

  /** A stall or recovery on the chain topic; one that cannot be published now is tried again next tick. */
  const recordFault = async (event: ChorusEvent): Promise<boolean> => {
    try {
      await publish(bus, [makeEnvelope(event, { producer, causationId: null, time: new Date() })])
      return true
    } catch (error) {
      logger.warn("could not record the RPC's stall or recovery; trying again next tick", {
        event: event._tag,
        error: firstLine(error),
      })
      return false
    }
  }

  /** Folds a tick's outcome into the RPC's fault streak, and records a stall or a recovery when one is due. */
  const track = async (result: TickResult): Promise<void> => {
    switch (result.kind) {
      case "rpc-error":
      case "invalid-response": {
        const { stalled } = rpcFaults.failed(faultOrUnknown(result.error, rpcUrls, "a tick"))
        if (
          stalled !== null &&
          (await recordFault(new WatcherStalled({ chainId, ...stallFieldsOf(stalled) })))
        )
          rpcFaults.stallRecorded(stalled)
        return
      }
      case "bus-error":
      case "stopped":
        return
      default: {
        const { recovered } = rpcFaults.succeeded()
        if (
          recovered !== null &&
          (await recordFault(new WatcherRecovered({ chainId, ...recoveryFieldsOf(recovered) })))
        )
          rpcFaults.recoveryRecorded(recovered)
      }
    }
  }

  /** What a failed step was: the bus, an answer that failed validation, or the RPC. */
  const failed = (error: unknown): TickResult => {
    if (error instanceof PublishFailed) {
      const reason = `publishing to the bus failed: ${error.message}`
      logger.warn("tick failed; retrying", { reason, pendingRead: pending?.id ?? null })
      return { kind: "bus-error", reason, error: error.cause }
    }
    // Logged by the fault tracker, with the URL, once per streak and then in summaries.
    if (error instanceof InvalidRpcResponseError)
      return { kind: "invalid-response", reason: firstLine(error), problems: error.problems, error }
    return { kind: "rpc-error", reason: `RPC failed: ${firstLine(error)}`, error }
  }

  const tick = (): Promise<TickResult> => {
    const run = queue.then(async (): Promise<TickResult> => {
      if (stopped) return { kind: "stopped", reason: "the watcher was stopped" }
      let result: TickResult
      try {
        result = await step()
      } catch (error) {
        result = failed(error)
      }
      await track(result)
      // The state is as the log says: what the proof-builder waits for can be read again.
      if (result.kind === "idle" || result.kind === "advanced" || result.kind === "incomplete")
        await mendGaps()
      return result
    })
    queue = run
    return run
  }

  const { sleep, wake } = wakeableSleep()

  const loop = async () => {
    let failures = 0
    while (!stopped) {
      const result = await tick()
      if (result.kind === "halted" || result.kind === "stopped") return
      let delay = settings.pollIntervalMs
      if (
        result.kind === "rpc-error" ||
        result.kind === "invalid-response" ||
        result.kind === "bus-error" ||
        result.kind === "incomplete"
      ) {
        delay = backoffMs(settings.pollIntervalMs, failures)
        failures += 1
      } else {
        failures = 0
        // Catching up: read the next range at once.
        if (result.kind === "advanced" && (result.head === null || result.to.number < result.head)) delay = 0
      }
      if (!stopped) await sleep(delay)
    }
  }

  const looping =
    deps.autoStart === false
      ? Promise.resolve()
      : loop().catch((error: unknown) => {
          // tick() turns every expected failure into an outcome; anything else is a bug, reported loudly.
          logger.error("chain-watcher loop crashed", { error: firstLine(error) })
          rejectDone(error instanceof Error ? error : new Error(String(error)))
        })

  let stopping: Promise<void> | undefined
  return {
    name: `chain-watcher/${chainId}`,
    done,
    tick,
    cursor: () => state.cursor,
    stop: () => {
      stopping ??= (async () => {
        stopped = true
        wake()
        await looping
        await queue.catch(() => undefined)
        resolveDone()
        logger.info("chain-watcher stopped", { cursor: state.cursor?.number ?? null })
      })()
      return stopping
    },
  }
}
