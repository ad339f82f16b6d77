/**
 * The submitter's writer: one step per `tick()`, one transaction in flight
 * at a time.
 *
 * One flight at a time is the simplest correct single writer: nonces are
 * used strictly in order, a stuck transaction is replaced at its own nonce
 * without anything queued behind it, and a restart has at most one flight to
 * find. Throughput comes from batching (up to `batchSize` messages per
 * transaction), not from parallel nonces.
 *
 * A tick, in order:
 *   0. Stands by while another member of the group holds the partitions.
 *   1. Publishes records left over from a tick whose publish failed.
 *   2. Once, after the state caught up with the log at start: every flight
 *      the log shows without an outcome (a `DeliverySubmitted` not followed
 *      by a `DeliveryConfirmed`/`DeliveryFailed`/`DeliverySkipped`) becomes
 *      the flight to finish, lowest nonce first.
 *   3. With a flight: looks up the receipts of its transactions (the first
 *      and every replacement). Included → waits for `confirmations`, then
 *      records `DeliveryConfirmed` with each message's outcome from the
 *      Inbox logs (and `RootCommitted` if the root was stored), or, if it
 *      reverted, `DeliveryFailed` with the reason re-simulated at that block.
 *      Not included and the account's nonce moved past it → records what
 *      the Inbox shows. Not included after `stuckAfterMs` → sends a
 *      replacement at the same nonce with fees bumped by `feeBumpBps` (at
 *      least 10%) and records it (`replaces` = the previous hash).
 *   4. Without one, once the state holds the submitter's own last records:
 *      answers the oldest pending retry request (`retry.ts`: `RetryRefused`,
 *      or an `Inbox.retry` / one-message `deliver` sent as below), one per
 *      tick, before any new delivery.
 *   5. Otherwise: plans (`planActions`, with the halts topic read again just
 *      before: a halted source's lanes wait, quarantined; a resumed one's
 *      use only checkpoints it still trusts, see the planner), then for the
 *      first action checks the
 *      Inbox — a committed root, attempted messages — and records
 *      `DeliverySkipped` for what is done instead of sending it; estimates gas
 *      — when the chain refuses a batch for its messages' fault, the longest
 *      leading part that estimates is sent instead and the rest planned again
 *      (`send.ts`), so one message never strands its neighbours; a revert of
 *      the first message alone, or the checkpoint's fault, records
 *      `DeliveryFailed` with the decoded custom error and nothing is sent —
 *      except a "not now" refusal such as a paused Inbox, which records
 *      nothing and backs off), adds `gasMarginBps`, signs with
 *      EIP-1559 fees and the local nonce, broadcasts, and records
 *      `DeliverySubmitted` before waiting for anything.
 *
 * One writer: every broadcast is preceded by the group's word that this
 * member still holds its partitions (`views.fence`); a member the group
 * moved on without sends nothing and leaves its flight to the one that
 * holds them.
 *
 * Never twice: a message is planned only while the log shows it neither
 * settled nor in flight, the Inbox is read before every send, and the Inbox
 * itself skips attempted messages — so a resubmitted batch costs gas at
 * worst, never a second execution. A retry request is answered once: its
 * answer is recorded (caused by it) before the next tick, which plans only
 * from a state that folded it.
 *
 * @module
 */
import { MemberFencedError } from "../../../bus/member-fenced.ts"
import { describeError } from "../../../chains/index.ts"
import { type LaneWait, pendingRetries, planActions } from "../core/index.ts"
import { advanceFlight, recoveredFlight } from "./flight.ts"
import { answerRetry } from "./retry.ts"
import { sendAction } from "./send.ts"
import type { TickResult } from "./tick-result.ts"
import { type ActiveFlight, makeWriter, type TickerDeps } from "./writer.ts"

export type { TickerDeps, TickerSettings } from "./writer.ts"

export interface Ticker {
  /** One step (see the module doc). Ticks never overlap: a call waits for the one running. */
  tick(): Promise<TickResult>
  /** Waits for the running tick; later ticks return `stopped`. */
  stop(): Promise<void>
}

/**
 * Makes the ticker.
 *
 * @example
 * ```ts
 * const ticker = makeTicker({ settings, chain: writer, reader, views, publish, stamp, logger })
 * const result = await ticker.tick() // { kind: "submitted", … }
 * ```
 */
export const makeTicker = (deps: TickerDeps): Ticker => {
  const { settings, views, logger } = deps
  const w = makeWriter(deps)
  let recovering: ActiveFlight[] | null = null
  let recoveredAt = -1
  let chainChecked = false
  let misconfigured: string | null = null
  let stopped = false
  let queue: Promise<unknown> = Promise.resolve()

  const waitingResult = (waits: ReadonlyArray<LaneWait>): TickResult => {
    if (waits.length === 0) return { kind: "idle", reason: "nothing to commit or deliver" }
    const now = Date.now()
    const first = [...waits].sort(
      (a, b) => (a.kind === "window" ? a.closesAt : Infinity) - (b.kind === "window" ? b.closesAt : Infinity),
    )[0]!
    switch (first.kind) {
      case "window":
        return {
          kind: "waiting",
          reason: `batch window open: ${first.messages} message(s) ready, closes in ${Math.max(0, first.closesAt - now)} ms`,
          laneId: first.laneId,
          closesInMs: Math.max(0, first.closesAt - now),
        }
      case "unattested":
        return {
          kind: "waiting",
          reason: `${first.messages} proven message(s) wait for an attested checkpoint`,
          laneId: first.laneId,
          closesInMs: null,
        }
      case "root-refused":
        return {
          kind: "waiting",
          reason: `the Inbox refused to commit root ${first.root} (${first.reason}); waiting for a new attestation`,
          laneId: first.laneId,
          closesInMs: null,
        }
      case "root-in-flight":
        return {
          kind: "waiting",
          reason: `waiting for the commit of root ${first.root} to land`,
          laneId: first.laneId,
          closesInMs: null,
        }
      case "attested-before-resume":
        return {
          kind: "waiting",
          reason: first.reason,
          laneId: first.laneId,
          closesInMs: null,
        }
      case "quarantined":
        return {
          kind: "waiting",
          reason:
            `source chain ${first.srcChainId} is halted (rewritten at block ${first.blockNumber}): ` +
            "its messages are quarantined until the halt is lifted",
          laneId: first.laneId,
          closesInMs: null,
        }
    }
  }

  // -- The tick ----------------------------------------------------------------------------------------------

  let behindSince: number | null = null
  let warnedAt = 0
  /** Catching up is normal for a moment; for long, it means the lane runtime is stuck on a record. */
  const catchingUp = (reason: string): TickResult => {
    const now = Date.now()
    behindSince ??= now
    if (now - behindSince > 30_000 && now - warnedAt > 60_000) {
      warnedAt = now
      logger.warn("the state has been behind the log for a while; is the lane runtime failing on a record?", {
        behindMs: now - behindSince,
      })
    }
    return { kind: "catching-up", reason }
  }

  /**
   * A graceful stop follows the transaction in the air until its outcome is recorded, for `stopDrainMs` at
   * most: a message the chain delivered is not left on the log as in flight. What is still in the air after
   * that is on the log as `DeliverySubmitted`, and the next start finishes it.
   */
  const drain = async () => {
    const deadline = Date.now() + settings.stopDrainMs
    while (w.active !== null && Date.now() < deadline) {
      try {
        await w.flush()
        await advanceFlight(w, w.active)
      } catch (error) {
        logger.warn("following the transaction in the air while stopping failed", {
          error: describeError(error),
        })
      }
      if (w.active !== null) await new Promise((resolve) => setTimeout(resolve, settings.pollIntervalMs))
    }
    try {
      await w.flush()
    } catch (error) {
      logger.warn("records of the last step could not be published while stopping", {
        error: describeError(error),
      })
    }
    const left = w.active
    if (left !== null) {
      logger.warn("stopped with a transaction in the air; the next start finishes it", {
        nonce: left.nonce,
        action: left.action,
        messages: left.messageIds.length,
        transactions: left.transactions.map((t) => t.hash),
        waitedMs: settings.stopDrainMs,
      })
    }
  }

  const step = async (): Promise<TickResult> => {
    if (stopped) return { kind: "stopped", reason: "the submitter was stopped" }
    try {
      await w.flush()
    } catch (error) {
      return { kind: "bus-error", reason: `publishing earlier records failed: ${describeError(error)}` }
    }
    try {
      if (!chainChecked) {
        misconfigured = await deps.chain.misconfiguration()
        chainChecked = true
        if (misconfigured !== null) {
          logger.error("submitter misconfigured; it will not send anything", { reason: misconfigured })
        }
      }
      if (misconfigured !== null) return { kind: "misconfigured", reason: misconfigured }
      if (views.standby()) {
        behindSince = null
        return {
          kind: "standby",
          reason:
            "another member of the submitter's group holds its partitions; this one takes over if it goes",
        }
      }
      // Partitions that moved away and back may carry flights another member left in the air.
      if (recovering !== null && views.epoch() !== recoveredAt) recovering = null
      if (recovering === null) {
        if (!(await views.caughtUp())) return catchingUp("folding the log up to where it was at start")
        const state = await views.current()
        recoveredAt = views.epoch()
        recovering = [...state.flights.values()]
          .filter((flight) => w.active === null || flight.nonce !== w.active.nonce)
          .sort((a, b) => a.nonce - b.nonce)
          .map((flight) => recoveredFlight(state, flight))
        // Outcomes are stamped after the submissions they close, even if those were stamped ahead of this clock.
        for (const flight of state.flights.values()) for (const t of flight.transactions) w.notBefore(t.time)
        if (recovering.length > 0) {
          logger.info("resuming flights left in the air", { nonces: recovering.map((f) => f.nonce) })
        }
      }
      if (w.active === null && recovering.length > 0) w.active = recovering.shift()!
      if (w.active !== null) return await advanceFlight(w, w.active)
      const wait = w.retryAt - Date.now()
      if (wait > 0) return { kind: "backing-off", reason: `after ${w.failures} failure(s)`, retryInMs: wait }
      // The halts are read again before anything is planned, so nothing of a chain halted a moment ago goes out.
      const halts = deps.halts
      await halts?.refresh()
      if (!(await views.caughtUp())) return catchingUp("folding the submitter's own records")
      behindSince = null
      const state = await views.current()
      const haltOf = (chainId: number) => halts?.haltOf(chainId) ?? null
      const resumeOf = (chainId: number) => halts?.resumeOf(chainId) ?? null
      const request = pendingRetries(state).find((r) => haltOf(r.lane.srcChainId) === null)
      if (request !== undefined) return await answerRetry(w, state, request)
      const plan = planActions(state, Date.now(), settings, haltOf, resumeOf)
      const next = plan.actions[0]
      return next === undefined ? waitingResult(plan.waiting) : await sendAction(w, next)
    } catch (error) {
      if (error instanceof MemberFencedError) {
        // Whoever holds the partitions now finishes the flight from the log; if they come back, so will this one.
        w.active = null
        recovering = null
        return { kind: "fenced", reason: error.shortMessage }
      }
      w.backOff()
      return { kind: "rpc-error", reason: describeError(error) }
    }
  }

  return {
    tick: () => {
      const run = queue.then(step)
      queue = run.catch(() => undefined)
      return run
    },
    stop: async () => {
      stopped = true
      await queue
      await drain()
    },
  }
}
