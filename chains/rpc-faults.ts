/**
 * What a service makes of its RPC's faults: which kind each one is, when
 * one is worth a log line, and when a streak of them becomes a stall to
 * record on the log. The chain-watcher and the operators use it for every
 * read they make of a chain.
 *
 * Pipeline, per read of a chain: the reader's error → `rpcFaultOf` names
 * the fault (`rpc-unreachable`: no usable answer; `rpc-invalid`: an answer
 * that does not decode or fails a check), with the RPC's URL redacted,
 * what was asked and the problem, bounded → the service's `FaultStreak`
 * for that chain folds it with the successes around it, logs, and says
 * when the streak must be recorded as stalled, and when as recovered.
 *
 * Invariants:
 * - Every line names the chain, the RPC (`rpc`: its URL through
 *   `redactUrl`, never a user, password, query value or key-like path
 *   segment), what was asked and what went wrong, as fields.
 * - A streak logs its first failure at once, then at most one summary per
 *   `logEveryMs`, however often the service tries again: an RPC down for a
 *   day is a few dozen lines, not fourteen thousand.
 * - A streak older than `unreachableAfterMs` is reported for recording
 *   once (`stalled`), until the service says it recorded it; the first
 *   success after a recorded stall is reported (`recovered`) until the
 *   service says it recorded that too. So a publish that fails is retried,
 *   and an outage is recorded once, however many attempts it spans.
 *
 * @module
 */
import { IsoTime, type RpcFaultReason } from "../schemas/index.ts"
import type { ServiceLogger } from "../services/runtime/logger.ts"
import { backoffMs } from "./backoff.ts"
import {
  bounded,
  InvalidRpcResponseError,
  LogRangeExhaustedError,
  RpcCallError,
  redactIn,
  redactUrl,
  shortOf,
  WrongChainError,
} from "./evm/errors.ts"

/** One failed read of a chain, named. */
export interface RpcFault {
  readonly reason: RpcFaultReason
  /** The RPC's URL, redacted (or `one of …` behind a fallback). */
  readonly rpc: string
  /** What was asked. */
  readonly what: string
  /** What went wrong, bounded. */
  readonly problem: string
}

/**
 * The fault an error of a chain read is, or undefined when the error is no RPC's (a bug, an argument
 * refused, a chain fact such as an Outbox that is not deployed).
 *
 * @example
 * ```ts
 * rpcFaultOf(error) // { reason: "rpc-unreachable", rpc: "http://127.0.0.1:8545", what: "reading the finalized head", problem: "HTTP request failed." }
 * ```
 */
export const rpcFaultOf = (error: unknown): RpcFault | undefined => {
  if (error instanceof RpcCallError)
    return { reason: "rpc-unreachable", rpc: error.url, what: error.what, problem: bounded(error.reason) }
  if (error instanceof InvalidRpcResponseError)
    return {
      reason: "rpc-invalid",
      rpc: error.url ?? "its RPC",
      what: error.what,
      problem: bounded(error.problems.slice(0, 3).join("; ")),
    }
  if (error instanceof WrongChainError)
    return {
      reason: "rpc-invalid",
      rpc: error.url,
      what: "eth_chainId",
      problem: `it serves chain ${error.actual}, not ${error.chainId}`,
    }
  if (error instanceof LogRangeExhaustedError) {
    const url = error.details.url
    return {
      reason: "rpc-unreachable",
      rpc: typeof url === "string" ? url : "its RPC",
      what: `eth_getLogs at block ${error.block}`,
      problem: bounded(error.shortMessage),
    }
  }
  return undefined
}

/**
 * A fault for an error that is no RPC's but failed a read all the same: named by the chain's URLs, so the
 * line still says where.
 *
 * @example
 * ```ts
 * faultOrUnknown(new TypeError("boom"), ["http://127.0.0.1:8545"], "a tick") // { reason: "rpc-unreachable", rpc: "http://127.0.0.1:8545", … }
 * ```
 */
export const faultOrUnknown = (error: unknown, urls: ReadonlyArray<string>, what: string): RpcFault =>
  rpcFaultOf(error) ?? {
    reason: "rpc-unreachable",
    rpc: urls.length === 1 ? redactUrl(urls[0]!) : `one of ${urls.map(redactUrl).join(", ")}`,
    what,
    // A client library may quote a URL with its credentials: every configured one is redacted.
    problem: bounded(redactIn(shortOf(error), urls)),
  }

/** A run of failed reads of one chain, with no success between them. */
export interface FaultStreak {
  /** When its first failure happened (ms). */
  readonly since: number
  readonly attempts: number
  /** The latest failure. */
  readonly last: RpcFault
}

export interface FaultStreakOptions {
  /** The chain, for every line. */
  readonly chainId: number
  /** A streak this old (ms) is a stall to record. */
  readonly unreachableAfterMs: number
  /** After the first line of a streak, a summary at most this often (ms). */
  readonly logEveryMs: number
  readonly logger: ServiceLogger
  /** The clock (ms); `Date.now` unless a test drives it. */
  readonly now?: () => number
}

/** A service's account of one chain's RPC: its current streak of failures, and what of it is recorded. */
export interface FaultTracker {
  /** A read failed. `stalled` is the streak to record as a stall, while it is one not recorded yet. */
  failed(fault: RpcFault): { readonly stalled: FaultStreak | null }
  /** A read succeeded. `recovered` is a recorded stall whose recovery is not recorded yet. */
  succeeded(): { readonly recovered: FaultStreak | null }
  /** The stall `failed` reported is on the log. */
  stallRecorded(streak: FaultStreak): void
  /** The recovery `succeeded` reported is on the log. */
  recoveryRecorded(streak: FaultStreak): void
  /** The current streak, if the last read failed. */
  current(): FaultStreak | null
}

/**
 * A tracker per chain, made on first use: one service's account of each chain it reads, shared by every
 * input it holds, so an outage is recorded once whichever input meets it.
 *
 * @example
 * ```ts
 * const trackerOf = makeFaultTrackers({ ...config.rpc, logger })
 * trackerOf(901).failed(fault)
 * ```
 */
export const makeFaultTrackers = (
  options: Omit<FaultStreakOptions, "chainId">,
): ((chainId: number) => FaultTracker) => {
  const trackers = new Map<number, FaultTracker>()
  return (chainId) => {
    let tracker = trackers.get(chainId)
    if (tracker === undefined) {
      tracker = makeFaultTracker({ ...options, chainId })
      trackers.set(chainId, tracker)
    }
    return tracker
  }
}

/**
 * How long, in words.
 *
 * @example
 * ```ts
 * spanOf(65_000) // "65 s"
 * spanOf(7_200_000) // "120 min"
 * ```
 */
export const spanOf = (ms: number): string =>
  ms < 1_000 ? `${ms} ms` : ms < 600_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`

/**
 * Makes the tracker of one chain's RPC for one service.
 *
 * @example
 * ```ts
 * const rpc = makeFaultTracker({ chainId: 901, unreachableAfterMs: 60_000, logEveryMs: 60_000, logger })
 * try { await reader.finalizedHead(); const { recovered } = rpc.succeeded() } catch (e) { const { stalled } = rpc.failed(faultOrUnknown(e, urls, "…")) }
 * ```
 */
export const makeFaultTracker = (options: FaultStreakOptions): FaultTracker => {
  const { chainId, logger } = options
  const now = options.now ?? Date.now
  let streak: FaultStreak | null = null
  let lastLine = 0
  /** The streak recorded as stalled, until its recovery is recorded. */
  let recorded: FaultStreak | null = null
  /** The streak that ended with a recorded stall, until its recovery is recorded. */
  let ended: FaultStreak | null = null

  const fields = (s: FaultStreak, at: number) => ({
    chainId,
    rpc: s.last.rpc,
    fault: s.last.reason,
    what: s.last.what,
    problem: s.last.problem,
    attempts: s.attempts,
    since: new Date(s.since).toISOString(),
    for: spanOf(at - s.since),
  })

  return {
    failed: (fault) => {
      const at = now()
      streak =
        streak === null
          ? { since: at, attempts: 1, last: fault }
          : { ...streak, attempts: streak.attempts + 1, last: fault }
      if (streak.attempts === 1) {
        lastLine = at
        logger.warn("RPC failed; trying again", fields(streak, at))
      } else if (at - lastLine >= options.logEveryMs) {
        lastLine = at
        logger.warn("RPC still failing", fields(streak, at))
      }
      const due = recorded === null && at - streak.since >= options.unreachableAfterMs
      return { stalled: due ? streak : null }
    },
    succeeded: () => {
      const at = now()
      if (streak !== null) {
        logger.info("RPC answering again", fields(streak, at))
        if (recorded !== null) ended = { ...recorded, attempts: streak.attempts, last: streak.last }
        recorded = null
        streak = null
      }
      return { recovered: ended }
    },
    stallRecorded: (stalled) => {
      recorded = stalled
      logger.error("RPC stalled: recorded on the log", fields(stalled, now()))
    },
    recoveryRecorded: (recovered) => {
      if (ended === recovered) ended = null
    },
    current: () => streak,
  }
}

/** The most characters of a URL, what or problem a record keeps (the schema refuses more). */
const RECORDED_TEXT_MAX = 500

/**
 * The fields a stall record (`WatcherStalled`, `ChainReadFailed`) takes from a streak.
 *
 * @example
 * ```ts
 * new WatcherStalled({ chainId, ...stallFieldsOf(streak) })
 * ```
 */
export const stallFieldsOf = (streak: FaultStreak) => ({
  reason: streak.last.reason,
  rpc: bounded(streak.last.rpc, RECORDED_TEXT_MAX),
  what: bounded(streak.last.what, RECORDED_TEXT_MAX),
  problem: bounded(streak.last.problem, RECORDED_TEXT_MAX),
  since: IsoTime.make(new Date(streak.since).toISOString()),
  attempts: streak.attempts,
})

/**
 * The fields a recovery record (`WatcherRecovered`, `ChainReadRecovered`) takes from the streak it ends.
 *
 * @example
 * ```ts
 * new WatcherRecovered({ chainId, ...recoveryFieldsOf(streak) })
 * ```
 */
export const recoveryFieldsOf = (streak: FaultStreak) => {
  const { reason, rpc, since, attempts } = stallFieldsOf(streak)
  return { reason, rpc, since, attempts }
}

/** The longest pause between two attempts at an RPC that does not answer: it is used within this once back. */
export const MAX_RETRY_MS = 5_000

/**
 * Waits `ms`, or less if `signal` aborts.
 *
 * @example
 * ```ts
 * await abortableSleep(250, abort.signal)
 * ```
 */
export const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    signal.addEventListener("abort", done, { once: true })
  })

/** A read given up on: its RPC answered what does not decode, every time it was asked. */
export class RpcAnswerInvalidError extends Error {
  override readonly name = "RpcAnswerInvalidError"
  readonly fault: RpcFault
  /** The first of those answers (ms). */
  readonly since: number
  readonly attempts: number

  constructor(fault: RpcFault, since: number, attempts: number) {
    super(`${fault.what} at ${fault.rpc}: ${fault.problem}`)
    this.fault = fault
    this.since = since
    this.attempts = attempts
  }
}

export interface SteadyReadOptions {
  /** The tracker of the chain read. */
  readonly tracker: FaultTracker
  readonly logger: ServiceLogger
  /** Between attempts after an answer that does not decode; the first pause after no answer. */
  readonly pollIntervalMs: number
  /** Answers that do not decode before the read is given up (`RpcAnswerInvalidError`); Infinity: never. */
  readonly invalidAttempts: number
  /** Aborted when the service stops: the read ends with `stopped()`. */
  readonly signal: AbortSignal
  readonly stopped: () => Error
  /** Puts the stall the tracker reports on the log; a throw leaves it to the next attempt. */
  readonly recordStall: (streak: FaultStreak) => Promise<void>
  /** Puts the recovery the tracker reports on the log; a throw leaves it to the next success. */
  readonly recordRecovery: (streak: FaultStreak) => Promise<void>
  /** Told how long each pause for an RPC that did not answer lasted. */
  readonly onOutage?: (ms: number) => void
}

const tryRecord = async (
  logger: ServiceLogger,
  what: string,
  record: () => Promise<void>,
): Promise<boolean> => {
  try {
    await record()
    return true
  } catch (error) {
    logger.warn(`could not record the RPC's ${what}; trying again`, {
      error: error instanceof Error ? error.message : String(error),
    })
    return false
  }
}

/**
 * One read of a chain, made again until its RPC answers: an answer that does not decode at most
 * `invalidAttempts` times (then `RpcAnswerInvalidError`), no answer for as long as it takes, with backoff
 * (at most `MAX_RETRY_MS`). Each outcome goes to the tracker, which logs it and says when a stall or a
 * recovery is due; those are recorded here. An error that is no RPC's (a bug) is thrown as it is.
 *
 * @example
 * ```ts
 * const head = await steadyRead(options, () => reader.finalizedHead())
 * ```
 */
export const steadyRead = async <T>(options: SteadyReadOptions, read: () => Promise<T>): Promise<T> => {
  const { tracker, logger, signal } = options
  let invalid = 0
  let firstInvalid = 0
  for (let failures = 0; ; failures++) {
    if (signal.aborted) throw options.stopped()
    try {
      const value = await read()
      const { recovered } = tracker.succeeded()
      if (
        recovered !== null &&
        (await tryRecord(logger, "recovery", () => options.recordRecovery(recovered)))
      )
        tracker.recoveryRecorded(recovered)
      return value
    } catch (error) {
      const fault = rpcFaultOf(error)
      if (fault === undefined) throw error
      const { stalled } = tracker.failed(fault)
      if (stalled !== null && (await tryRecord(logger, "stall", () => options.recordStall(stalled))))
        tracker.stallRecorded(stalled)
      if (fault.reason === "rpc-invalid") {
        if (invalid === 0) firstInvalid = Date.now()
        invalid++
        if (invalid >= options.invalidAttempts) throw new RpcAnswerInvalidError(fault, firstInvalid, invalid)
        await abortableSleep(options.pollIntervalMs, signal)
        continue
      }
      const started = Date.now()
      await abortableSleep(Math.min(backoffMs(options.pollIntervalMs, failures), MAX_RETRY_MS), signal)
      options.onOutage?.(Date.now() - started)
    }
  }
}
