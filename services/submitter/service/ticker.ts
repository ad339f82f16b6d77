/**
 * The submitter's writer: one step per `tick()`, up to `maxInFlight`
 * transactions in the air at consecutive nonces.
 *
 * A destination with blocks every second and a batch of a few dozen
 * messages per transaction cannot carry hundreds of messages a second one
 * transaction per block round trip, so the next batch goes out while the
 * earlier ones wait for their block. The batches in the air are disjoint
 * (the planner passes over messages and roots in flight) and independent
 * on chain (each carries its own checkpoint or proves against a committed
 * root), so one reverting does not make a later one revert. Nonces are
 * still used strictly in order: only the lowest flight is looked at each
 * tick, since a later nonce cannot land before it; a stuck or dropped one
 * is replaced at its own nonce, and the ones behind it land after it.
 *
 * A tick, in order:
 *   0. Stands by while another member of the group holds the partitions.
 *   1. Publishes records left over from a tick whose publish failed.
 *   2. Once, after the state caught up with the log at start: every flight
 *      the log shows without an outcome (a `DeliverySubmitted` not followed
 *      by a `DeliveryConfirmed`/`DeliveryFailed`/`DeliverySkipped`) is in
 *      the air again, to be finished in nonce order.
 *   3. With flights: looks up the receipts of the lowest one's transactions (the first
 *      and every replacement). Included → waits for `confirmations`, then
 *      records `DeliveryConfirmed` with each message's outcome from the
 *      Inbox logs (and `RootCommitted` if the root was stored), or, if it
 *      reverted, `DeliveryFailed` with the reason re-simulated at that block.
 *      Not included and the account's nonce moved past it → records what
 *      the Inbox shows. Not included after `stuckAfterMs` → sends a
 *      replacement at the same nonce with fees bumped by `feeBumpBps` (at
 *      least 10%) and records it (`replaces` = the previous hash).
 *   3b. An operator-set update of the destination in the air, or due
 *      (`set-update.ts`): its step is the tick's, and no lane work is
 *      planned behind it; a due one is sent once no lane flight is in the air.
 *   4. When that flight is only pending or confirming and fewer than
 *      `maxInFlight` are in the air (or none is), once the state holds the
 *      submitter's own last records:
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
 * moved on without sends nothing and leaves its flights to the one that
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
import { makeSetUpdater } from "./set-update.ts"
import type { TickResult } from "./tick-result.ts"
import { makeWriter, type TickerDeps } from "./writer.ts"

export type { TickerDeps, TickerSettings } from "./writer.ts"

/** What a flight's step reports while it only waits for its block or its confirmations. */
const WAITING: ReadonlySet<TickResult["kind"]> = new Set(["pending", "confirming"])

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
  const sets = makeSetUpdater(w)
  /** The group epoch at which the log's flights were last taken into the air; -1: not yet. */
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
   * A graceful stop follows the transactions in the air until their outcomes are recorded, for `stopDrainMs`
   * at most: a message the chain delivered is not left on the log as in flight. What is still in the air after
   * that is on the log as `DeliverySubmitted`, and the next start finishes it.
   */
  const drain = async () => {
    const deadline = Date.now() + settings.stopDrainMs
    while (w.flights.length > 0 && Date.now() < deadline) {
      const lowest = w.flights[0]!
      try {
        await w.flush()
        await advanceFlight(w, lowest)
      } catch (error) {
        logger.warn("following the transactions in the air while stopping failed", {
          error: describeError(error),
        })
      }
      if (w.flights[0] === lowest)
        await new Promise((resolve) => setTimeout(resolve, settings.pollIntervalMs))
    }
    try {
      await w.flush()
    } catch (error) {
      logger.warn("records of the last step could not be published while stopping", {
        error: describeError(error),
      })
    }
    for (const left of w.flights) {
      logger.warn("stopped with a transaction in the air; the next start finishes it", {
        nonce: left.nonce,
        action: left.action,
        messages: left.messageIds.length,
        transactions: left.transactions.map((t) => t.hash),
        waitedMs: settings.stopDrainMs,
      })
    }
  }

  /**
   * Another member holds the partitions (standby, or fenced before a broadcast): it follows the flights from the
   * log and may use nonces meanwhile, so this one forgets both; if the partitions come back, the log says where
   * the flights are and the chain which nonce comes next.
   */
  const letGo = () => {
    w.flights = []
    sets.letGo()
    w.nonces.resync()
    recoveredAt = -1
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
        letGo()
        return {
          kind: "standby",
          reason:
            "another member of the submitter's group holds its partitions; this one takes over if it goes",
        }
      }
      // Partitions that moved away and back may carry flights another member sent or closed meanwhile: the
      // log, not this member's memory, says which are in the air.
      if (recoveredAt !== views.epoch()) {
        if (!(await views.caughtUp())) return catchingUp("folding the log up to where it was at start")
        const state = await views.current()
        recoveredAt = views.epoch()
        const mine = new Map(w.flights.map((f) => [f.nonce, f]))
        w.flights = []
        // Another member may have used nonces meanwhile: the chain says which come next.
        w.nonces.resync()
        const recovered: number[] = []
        for (const flight of state.flights.values()) {
          const known = mine.get(flight.nonce)
          const same =
            known !== undefined &&
            flight.transactions.every((t) => known.transactions.some((k) => k.hash === t.hash))
          if (!same) recovered.push(flight.nonce)
          w.launched(same ? known : recoveredFlight(state, flight))
        }
        // Outcomes are stamped after the submissions they close, even if those were stamped ahead of this clock.
        for (const flight of state.flights.values()) for (const t of flight.transactions) w.notBefore(t.time)
        if (recovered.length > 0) {
          logger.info("resuming flights left in the air", { nonces: recovered.sort((x, y) => x - y) })
        }
      }
      const lowest = w.flights[0]
      const inTheAir = lowest === undefined ? null : await advanceFlight(w, lowest)
      // Behind a flight that only waits for its block, the next batch may go out at the next nonce.
      if (inTheAir !== null && (!WAITING.has(inTheAir.kind) || w.flights.length >= settings.maxInFlight))
        return inTheAir
      const wait = w.retryAt - Date.now()
      if (wait > 0) return { kind: "backing-off", reason: `after ${w.failures} failure(s)`, retryInMs: wait }
      // The halts are read again before anything is planned, so nothing of a chain halted a moment ago goes out.
      const halts = deps.halts
      await halts?.refresh()
      if (!(await views.caughtUp())) return catchingUp("folding the submitter's own records")
      behindSince = null
      const state = await views.current()
      // A flight on the log but not in the air here: one another member recorded after this one took the
      // partitions (its record was held up). It is followed too, and its nonce is not taken again.
      const followed = new Set(w.flights.map((f) => f.nonce))
      for (const flight of state.flights.values()) {
        if (followed.has(flight.nonce)) continue
        logger.warn("following a flight the log shows in the air that this member did not send", {
          nonce: flight.nonce,
          transactions: flight.transactions.map((t) => t.hash),
        })
        w.launched(recoveredFlight(state, flight))
      }
      // An operator-set update goes before any lane work: the checkpoints the new set signs need it.
      const setStep = await sets.step(state)
      if (setStep !== null) return setStep
      const haltOf = (chainId: number) => halts?.haltOf(chainId) ?? null
      const resumeOf = (chainId: number) => halts?.resumeOf(chainId) ?? null
      const request = pendingRetries(state).find((r) => haltOf(r.lane.srcChainId) === null)
      if (request !== undefined) return await answerRetry(w, state, request)
      const plan = planActions(state, Date.now(), settings, haltOf, resumeOf)
      const next = plan.actions[0]
      if (next !== undefined) {
        const shortBefore = state.lanes.get(next.laneId)?.shortOfGas
        const worstCaseGas =
          next.kind !== "commit" && next.messageIds.some((id) => shortBefore?.has(id) === true)
        return await sendAction(w, next, { worstCaseGas })
      }
      return inTheAir ?? waitingResult(plan.waiting)
    } catch (error) {
      if (error instanceof MemberFencedError) {
        letGo()
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
