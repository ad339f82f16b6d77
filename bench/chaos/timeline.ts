/**
 * Runs a chaos plan's timed faults, each at its time from the start of the
 * traffic, and records what each did: a kill (which pid, how long down), the
 * broker restart (or why the run could not), a chain fault (which blocks were
 * replaced; after a rewrite below finality, the halt and the `chorus chain
 * resume` that lifted it), a garbage burst (how many records of each kind).
 *
 * A fault that fails is recorded with its error and the run goes on: the
 * report says which faults did not happen.
 *
 * @module
 */
import type { BusIdentities } from "../../services/bus-identities.ts"
import type { ChorusConfig } from "../../services/config/index.ts"
import { replaceBlocks } from "./chain-faults.ts"
import { publishGarbage } from "./garbage.ts"
import type { RunBroker } from "./kafka-broker.ts"
import { lastCursor } from "./log-facts.ts"
import type { Supervisor } from "./processes.ts"
import { randomFor } from "./random.ts"
import { resumeAfterRewrite } from "./resume-chain.ts"
import type { HarnessBus } from "./run-bus.ts"
import type { PlannedEvent } from "./schedule.ts"
import type { Traffic } from "./traffic.ts"

export interface EventOutcome {
  readonly event: PlannedEvent
  /** When it began and ended, from the start of the traffic. */
  readonly startedMs: number
  readonly endedMs: number
  readonly ok: boolean
  readonly detail: string
}

export interface TimelineDeps {
  readonly seed: number
  readonly supervisor: Supervisor
  readonly broker: RunBroker | undefined
  readonly bus: HarnessBus
  readonly config: ChorusConfig
  readonly identities: BusIdentities
  readonly traffic: Traffic
  readonly rpcUrlOf: (chainId: number) => string
  readonly blockTime: number
  /** The `chorus` flags that reach the run's log with the tools' config, for `chorus chain resume`. */
  readonly toolFlags: ReadonlyArray<string>
  readonly onOutcome?: (outcome: EventOutcome) => void
}

/** How long the run waits for a rewritten chain's watcher to halt before it gives up on resuming it. */
const RESUME_WAIT_MS = 180_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Retries `work` every `everyMs` until it succeeds or `forMs` passed (the bus may be down a while). */
const retrying = async <T>(work: () => Promise<T>, everyMs: number, forMs: number): Promise<T> => {
  const deadline = Date.now() + forMs
  for (;;) {
    try {
      return await work()
    } catch (error) {
      if (Date.now() + everyMs > deadline) throw error
      await sleep(everyMs)
    }
  }
}

const perform = async (event: PlannedEvent, deps: TimelineDeps): Promise<string> => {
  switch (event.kind) {
    case "kill": {
      const kill = await deps.supervisor.kill9(event.unit, event.downMs)
      return kill.pid === null
        ? `${event.unit} was not running (it had exited on its own); started again after ${event.downMs} ms`
        : `kill -9 ${event.unit} pid ${kill.pid}; started again after ${event.downMs} ms`
    }
    case "broker-restart": {
      if (deps.broker === undefined) throw new Error("no Kafka broker in this run")
      if (deps.broker.notRestartable !== null) throw new Error(`not done: ${deps.broker.notRestartable}`)
      const { downMs, what } = await deps.broker.restart()
      return `${what}; down ${(downMs / 1000).toFixed(1)} s`
    }
    case "reorg":
    case "rewrite": {
      const resume = await deps.traffic.pause(event.chainId)
      try {
        // A rewrite reaches below the watcher's cursor, however far behind the chain it is, or nobody sees it.
        const cursor =
          event.kind === "rewrite"
            ? await deps.bus.use((bus) => lastCursor(bus, deps.config, event.chainId)).catch(() => undefined)
            : undefined
        const replaced = await replaceBlocks(deps.rpcUrlOf(event.chainId), event.chainId, {
          depth: event.depth,
          aboveFinality: event.kind === "reorg",
          blockTime: deps.blockTime,
          ...(cursor === undefined ? {} : { from: cursor - 1 }),
        })
        const where =
          `blocks ${replaced.from}-${replaced.to} of chain ${event.chainId} (finalized ${replaced.finalized}` +
          `${event.kind === "rewrite" ? `, its watcher's cursor ${cursor ?? "unknown"}` : ""})`
        const problems = [
          ...(replaced.lost.length > 0
            ? [`${replaced.lost.length} transaction(s) not re-included: ${replaced.lost.join(", ")}`]
            : []),
          ...(replaced.unchanged > 0 ? [`${replaced.unchanged} block(s) kept their hash`] : []),
        ]
        if (problems.length > 0) throw new Error(`${where} replaced, but ${problems.join("; ")}`)
        const done = `${where} replaced, ${replaced.transactions} transaction(s) re-included`
        if (event.kind === "reorg") return done
        // Then what the engineer on call does: lift the halt from a block below the rewrite.
        const resumed = await resumeAfterRewrite(
          {
            config: deps.config,
            useBus: (work) => deps.bus.use(work),
            rpcUrl: deps.rpcUrlOf(event.chainId),
            toolFlags: deps.toolFlags,
          },
          event.chainId,
          replaced,
          RESUME_WAIT_MS,
        ).catch((error: unknown) => {
          throw new Error(`${done}; but ${(error as Error).message}`)
        })
        return `${done}; ${resumed}`
      } finally {
        resume()
      }
    }
    case "garbage": {
      const burst = await retrying(
        () =>
          deps.bus.use(async (bus) => {
            const made = await publishGarbage(
              bus,
              deps.identities,
              randomFor(deps.seed, `garbage-${event.burst}`),
              event.records,
            )
            if (made.records === 0 && made.failed > 0) throw new Error(made.error ?? "the bus took none")
            return made
          }),
        2_000,
        90_000,
      )
      const kinds = Object.entries(burst.byKind)
        .map(([kind, n]) => `${n} ${kind}`)
        .join(", ")
      return `${burst.records} garbage record(s) written (${kinds})${burst.failed > 0 ? `; ${burst.failed} refused by the bus: ${burst.error}` : ""}`
    }
  }
}

/**
 * Runs every event at its time; resolves with every outcome once the last one ended.
 *
 * @example
 * ```ts
 * const outcomes = await runTimeline(plan.events, startedAt, deps)
 * ```
 */
export const runTimeline = async (
  events: ReadonlyArray<PlannedEvent>,
  startedAt: number,
  deps: TimelineDeps,
): Promise<EventOutcome[]> =>
  Promise.all(
    events.map(async (event) => {
      const wait = startedAt + event.atMs - Date.now()
      if (wait > 0) await sleep(wait)
      const startedMs = Date.now() - startedAt
      let outcome: EventOutcome
      try {
        const detail = await perform(event, deps)
        outcome = { event, startedMs, endedMs: Date.now() - startedAt, ok: true, detail }
      } catch (error) {
        outcome = {
          event,
          startedMs,
          endedMs: Date.now() - startedAt,
          ok: false,
          detail: (error as Error).message.split("\n")[0]!,
        }
      }
      deps.onOutcome?.(outcome)
      return outcome
    }),
  )
