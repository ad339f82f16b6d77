/**
 * The set-watcher runtime: one per cluster, on the hub chain, a polling loop around `observation`.
 *
 * Pipeline, per tick (every `setWatcher.pollIntervalMs`):
 *   1. the hub's finalized head (the chain's finality rule: `chains/`); nothing while no block is final;
 *   2. the registry's whole set at that block (`RegistryReader`: operators, weights, threshold and epoch read
 *      at one block number, an answer that breaks the registry's own bounds refused as invalid);
 *   3. `observation`: a set other than the last recorded one is published as `OperatorSetObserved` on
 *      `chorus.operator-sets`;
 *   4. the same set once more (re-announced, at the new block) when, `setWatcher.reannounceAfterMs` after the
 *      last record, some Inbox's epoch (read then, on each configured chain) still lags it: operators sign it
 *      again and the collector counts it against the set each Inbox trusts then, so an update that failed, was
 *      refused, or went to an Inbox that moved meanwhile is carried again. An Inbox that cannot be read is
 *      logged and left for the next time.
 *
 * At start, the last `OperatorSetObserved` of the hub on its topic is what the first read is compared with, so
 * a restart records nothing twice and a set that changed while it was down is recorded once.
 *
 * Invariants:
 * - Only what the hub's RPC showed at a final block is recorded, with that block; the record is evidence of
 *   what was read, not a proof: operators read the registry again on their own RPCs before they sign.
 * - An RPC that fails or answers what does not decode is logged with its redacted URL (the first failure at
 *   once, then once a minute while it lasts, and its recovery), and the loop backs off; nothing is recorded.
 *
 * @module
 */

import { publishEvents, readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { backoffMs } from "../../chains/backoff.ts"
import { makeChainAccess } from "../../chains/index.ts"
import { makeEnvelope, type OperatorSetObserved, toAddress } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import type { ChorusConfig } from "../config/index.ts"
import { producerOf } from "../runtime/index.ts"
import type { ServiceLogger } from "../runtime/logger.ts"
import type { RunningService } from "../runtime/running-service.ts"
import { wakeableSleep } from "../runtime/wakeable-sleep.ts"
import { observation } from "./observe.ts"

/** A failing RPC is logged at most this often while it keeps failing. */
const LOG_EVERY_MS = 60_000

export interface SetWatcherDeps {
  readonly bus: BusPort
  readonly config: ChorusConfig
  readonly logger: ServiceLogger
  /** False: no loop; the caller ticks (tests). Default true. */
  readonly autoStart?: boolean
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0]!

/**
 * The last set recorded for `chainId` on `chorus.operator-sets` by the set-watcher, and when, if any (a record
 * that does not stand is skipped).
 */
export const lastObserved = async (
  bus: BusPort,
  chainId: number,
): Promise<{ readonly event: OperatorSetObserved; readonly at: number } | undefined> => {
  let last: { event: OperatorSetObserved; at: number } | undefined
  for await (const read of readEvents(bus, { topic: TOPICS.operatorSets.name, from: "earliest" })) {
    if (
      read.ok &&
      read.envelope.event._tag === "OperatorSetObserved" &&
      read.envelope.producer.service === "set-watcher" &&
      read.envelope.event.chainId === chainId
    )
      last = { event: read.envelope.event, at: Date.parse(read.envelope.time) }
  }
  return last
}

/**
 * Starts the set-watcher of the config's hub chain (`network.registryChainId`).
 *
 * @example
 * ```ts
 * const running = await startSetWatcher({ bus, config, logger })
 * await running.stop()
 * ```
 */
export const startSetWatcher = async (
  deps: SetWatcherDeps,
): Promise<RunningService & { tick(): Promise<void> }> => {
  const { bus, config, logger } = deps
  const chainId = config.network.registryChainId
  const registry = toAddress(config.network.registry)
  const access = makeChainAccess(config)
  const reader = access.reader(chainId)
  const producer = producerOf("set-watcher", String(chainId))
  const recorded = await lastObserved(bus, chainId)
  let last = recorded?.event
  let lastAt = recorded?.at ?? 0
  /** When the Inboxes were last read for a lag: at most once per `reannounceAfterMs`, not on every tick. */
  let lagCheckedAt = 0
  /** Does some Inbox lag `epoch`? Each configured chain's Inbox, read now; one that cannot be read is logged. */
  const lagging = async (epoch: number): Promise<boolean> => {
    const epochs = await Promise.all(
      config.chains.map(async (c) => {
        try {
          return (await access.reader(c.chainId).inbox(c.inbox).epoch()).epoch
        } catch (error) {
          logger.warn("could not read an Inbox's epoch to see whether it lags the hub", {
            chainId: c.chainId,
            error: firstLine(error),
          })
          return epoch
        }
      }),
    )
    return epochs.some((e) => e > 0 && e < epoch)
  }
  let failingSince: number | undefined
  let loggedAt = 0

  // One tick at a time: two reads racing could both find the set new and record it twice.
  let queue: Promise<void> = Promise.resolve()
  const tick = (): Promise<void> => {
    const run = queue.then(read, read)
    queue = run.catch(() => undefined)
    return run
  }
  const read = async (): Promise<void> => {
    const head = await reader.finalizedHead()
    if (head === null) return
    const set = await reader.registry(registry).operatorSet(head)
    const every = config.setWatcher.reannounceAfterMs
    const dueNow = Date.now() - lastAt >= every && Date.now() - lagCheckedAt >= every
    if (dueNow) lagCheckedAt = Date.now()
    const reannounce = {
      dueNow,
      lagging: dueNow && last !== undefined && last.epoch === set.epoch && (await lagging(last.epoch)),
    }
    const observed = observation(last, { chainId, registry, block: head, set }, reannounce)
    if (observed === undefined) return
    await publishEvents(bus, [makeEnvelope(observed, { producer, causationId: null, time: new Date() })])
    const again = last !== undefined && last.epoch === observed.epoch
    last = observed
    lastAt = Date.now()
    logger.info(again ? "an Inbox lags the hub's set: announced again" : "operator set observed on the hub", {
      chainId,
      epoch: observed.epoch,
      block: observed.block.number,
      operators: observed.operators.length,
      thresholdBps: observed.thresholdBps,
    })
  }

  let stopped = false
  const { sleep, wake } = wakeableSleep()
  const loop = async () => {
    let failures = 0
    while (!stopped) {
      try {
        await tick()
        if (failingSince !== undefined) {
          logger.info("the hub registry is read again", { chainId, failedForMs: Date.now() - failingSince })
          failingSince = undefined
        }
        failures = 0
      } catch (error) {
        const now = Date.now()
        failingSince ??= now
        if (now - loggedAt >= LOG_EVERY_MS || failures === 0) {
          logger.warn("could not read the hub registry's set, or record it; trying again", {
            chainId,
            error: firstLine(error),
          })
          loggedAt = now
        }
        failures += 1
      }
      if (!stopped)
        await sleep(
          failures === 0
            ? config.setWatcher.pollIntervalMs
            : backoffMs(config.setWatcher.pollIntervalMs, failures - 1),
        )
    }
  }
  const looping = deps.autoStart === false ? Promise.resolve() : loop()
  logger.info("set-watcher started", { chainId, registry, last: last?.epoch ?? null })
  let stopping: Promise<void> | undefined
  return {
    name: `set-watcher/${chainId}`,
    done: looping,
    tick,
    stop: () => {
      stopping ??= (async () => {
        stopped = true
        wake()
        await looping
        logger.info("set-watcher stopped", { last: last?.epoch ?? null })
      })()
      return stopping
    },
  }
}
