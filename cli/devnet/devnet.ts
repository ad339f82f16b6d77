/**
 * The devnet: chains, contracts, every service on one bus, demo traffic and
 * a tracker that follows each message through the log.
 *
 * `startDevnet` gives the pieces to tests (restart one service, read the
 * tracker); `chorus devnet` drives it from the command line.
 *
 * @module
 */

import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { authenticatedBus } from "../../bus/authentication/index.ts"
import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { ChorusError } from "../../errors/index.ts"
import type { ProcessEndpoint } from "../../metrics/process-endpoint.ts"
import type { ListenAddress } from "../../metrics/server.ts"
import { type ChorusConfig, decodeConfig } from "../../services/config/index.ts"
import { clusterPlan, consumerPolicy, type ServiceSelection, startServices } from "../../services/registry.ts"
import { jsonLogger, type RunningService, type ServiceLogger } from "../../services/runtime/index.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { openMetricsEndpoint } from "../metrics-flag.ts"
import { describeDevnet, writeDevnetFile } from "./devnet-file.ts"
import { tailTopics, type UnreadableRecord } from "./tail-topics.ts"
import { Tracker } from "./tracker.ts"
import { type SentMessage, sendTraffic } from "./traffic.ts"
import { DEVNET_CHAIN_IDS, type DevnetWorld, startDevnetWorld } from "./world.ts"

export type DevnetBus =
  | { readonly kind: "embedded"; readonly dataDir?: string }
  | { readonly kind: "kafka"; readonly brokers: ReadonlyArray<string>; readonly dataDir?: string }

export interface DevnetOptions {
  readonly bus: DevnetBus
  /** Start every service in this process (default). Tests that run services as child processes pass false. */
  readonly runServices?: boolean
  /** Where services log (JSON lines); default `<data dir>/services.log`. */
  readonly logger?: ServiceLogger
  readonly blockTime?: number
  /** Operators that run but are not in the registry at start, for a rotation to add (`DevnetWorldOptions`). */
  readonly standby?: number
  /** Serve the metrics and health of the services it runs here (opened before the chains start). */
  readonly metrics?: ListenAddress
}

/** One started service instance the devnet can stop and start again. */
export interface DevnetUnit {
  readonly service: Exclude<ServiceSelection, "all">
  readonly instance: string | undefined
  running: RunningService | undefined
}

export interface Devnet {
  readonly world: DevnetWorld
  readonly bus: BusPort
  readonly config: ChorusConfig
  /** The config file every service of this devnet can run from. */
  readonly configPath: string
  /** `<dataDir>/devnet.json`: chains, contracts and the GatedRecipients' owner (see devnet-file.ts). */
  readonly devnetPath: string
  readonly dataDir: string
  /** `host:port` of `/metrics`, `/healthz` and `/readyz`, when asked for. */
  readonly metricsAddress?: string
  readonly tracker: Tracker
  readonly units: ReadonlyArray<DevnetUnit>
  /**
   * Reads what the log gained since the last call into the tracker, and
   * returns the records it met that are not Chorus events (reported once each).
   */
  poll(): Promise<ReadonlyArray<UnreadableRecord>>
  /** Sends demo traffic; `reverting` percent of it goes to the (closed) GatedRecipients. */
  send(options: {
    messages: number
    rate: number
    reverting?: number
    /** Past the messages sent before on this devnet (see `TrafficOptions.firstIndex`). */
    firstIndex?: number
    signal?: AbortSignal
  }): Promise<SentMessage[]>
  /** Stops one unit (as a crash would leave it: no more work) and starts it again from the log. */
  restart(unit: DevnetUnit): Promise<void>
  stop(): Promise<void>
}

/** The lane topics the tracker follows. */
const TRACKED = [
  TOPICS.messagesObserved.name,
  TOPICS.checkpointsProposed.name,
  TOPICS.messagesProven.name,
  TOPICS.checkpointsAttested.name,
  TOPICS.deliveries.name,
]

/**
 * The devnet refuses a log that already holds events: its chains are new,
 * and an old log (same chain ids, another history) would contradict them.
 */
export class DevnetLogNotEmptyError extends ChorusError {
  override readonly name = "DevnetLogNotEmptyError"
  constructor(where: string, topic: string, records: number) {
    super(
      `${where} already holds a Chorus log (${topic} has ${records} record(s)), from an earlier devnet or a real deployment`,
      {
        details: { where, topic, records },
        metaMessages: ["A devnet starts new chains, which that log would contradict."],
        hint: "Use an empty --data-dir, or a fresh Kafka (`npm run kafka -- start --fresh`).",
      },
    )
  }
}

const openBus = async (bus: DevnetBus, dataDir: string): Promise<BusPort> => {
  if (bus.kind === "kafka") {
    const { openKafkaBus } = await import("../../bus/kafka/index.ts")
    await resetEarlierDevnet(bus.brokers)
    return openKafkaBus({
      brokers: [...bus.brokers],
      clientId: "chorus-devnet",
      consumer: KAFKA_CONSUMER_TUNING,
    })
  }
  const { openEmbeddedBus } = await import("../../bus/embedded/index.ts")
  return openEmbeddedBus({ dataDir: join(dataDir, "log") })
}

/** A member that vanishes (kill -9) hands its partitions over after 10 s rather than kafkajs's 30 s. */
export const KAFKA_CONSUMER_TUNING = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 } as const

/**
 * A Kafka whose Chorus log came from an earlier devnet (every watcher cursor
 * is for a devnet chain) is wiped, so `chorus devnet --kafka` can run again
 * on the same broker. Anything else is left alone and refused below.
 */
const resetEarlierDevnet = async (brokers: ReadonlyArray<string>) => {
  const { openKafkaBus, deleteChorusLog } = await import("../../bus/kafka/index.ts")
  const probe = await openKafkaBus({ brokers: [...brokers], clientId: "chorus-devnet-probe" })
  let earlierDevnet = false
  try {
    const exists = await probe.partitions(TOPICS.watcherCursors.name).then(
      () => true,
      () => false,
    )
    if (!exists) return
    const chains = new Set<number>()
    for await (const read of readEvents(probe, { topic: TOPICS.watcherCursors.name, from: "earliest" })) {
      if (read.ok && read.envelope.event._tag === "WatcherCursor") chains.add(read.envelope.event.chainId)
    }
    earlierDevnet = chains.size > 0 && [...chains].every((id) => DEVNET_CHAIN_IDS.includes(id))
  } finally {
    await probe.close()
  }
  if (earlierDevnet) await deleteChorusLog(brokers)
}

const assertEmptyLog = async (bus: BusPort, where: string) => {
  for (const topic of [TOPICS.watcherReads.name, TOPICS.messagesObserved.name, TOPICS.deliveries.name]) {
    const records = (await bus.watermarks(topic)).reduce((sum, p) => sum + (p.high - p.low), 0)
    if (records > 0) throw new DevnetLogNotEmptyError(where, topic, records)
  }
}

/**
 * Starts chains, deploys, writes the config (`config.json`) and the devnet's
 * description (`devnet.json`), and (by default) starts every service.
 *
 * @example
 * ```ts
 * const devnet = await startDevnet({ bus: { kind: "embedded" } })
 * await devnet.send({ messages: 12, rate: 6, reverting: 25 }) // messages #3, #7, #11 fail at a GatedRecipient
 * await devnet.stop()
 * ```
 */
export const startDevnet = async (options: DevnetOptions): Promise<Devnet> => {
  const ownDir = options.bus.dataDir === undefined
  const dataDir = options.bus.dataDir ?? mkdtempSync(join(tmpdir(), "chorus-devnet-"))
  mkdirSync(dataDir, { recursive: true })
  const opened = await openBus(options.bus, dataDir)
  let endpoint: ProcessEndpoint | undefined
  try {
    endpoint =
      options.metrics === undefined
        ? undefined
        : await openMetricsEndpoint(options.metrics, "--metrics", { bus: opened })
  } catch (error) {
    await opened.close().catch(() => undefined)
    throw error
  }
  const bus: BusPort = endpoint?.bus ?? opened
  let world: DevnetWorld | undefined
  const units: DevnetUnit[] = []
  const logStream =
    options.logger === undefined
      ? createWriteStream(join(dataDir, "services.log"), { flags: "a" })
      : undefined
  try {
    await bus.ensureTopics(ALL_TOPICS)
    await assertEmptyLog(
      bus,
      options.bus.kind === "kafka" ? `Kafka at ${options.bus.brokers.join(",")}` : dataDir,
    )
    world = await startDevnetWorld({
      ...(options.blockTime === undefined ? {} : { blockTime: options.blockTime }),
      ...(options.standby === undefined ? {} : { standby: options.standby }),
    })
    const configJson = world.configJson(
      options.bus.kind === "kafka" ? { brokers: options.bus.brokers } : { dataDir: join(dataDir, "log") },
    )
    const configPath = join(dataDir, "config.json")
    writeFileSync(configPath, `${JSON.stringify(configJson, null, 2)}\n`)
    const config = decodeConfig(configJson, configPath)
    endpoint?.watchChains(config)
    const devnetPath = writeDevnetFile(
      dataDir,
      describeDevnet(
        world,
        options.bus.kind === "kafka"
          ? { kind: "kafka", brokers: options.bus.brokers }
          : { kind: "embedded", dataDir: join(dataDir, "log") },
      ),
    )
    const logger = options.logger ?? jsonLogger(logStream!, "info")
    const start = async (unit: DevnetUnit) => {
      const [running] = await startServices({
        bus,
        config,
        logger,
        service: unit.service,
        ...(unit.instance === undefined ? {} : { instance: unit.instance }),
      })
      unit.running = running
    }
    if (options.runServices !== false) {
      // One unit per instance of every service that writes to the bus, so each can be restarted alone;
      // the devnet's tools index the log themselves.
      const plan: DevnetUnit[] = clusterPlan(config).map((unit) => ({
        service: unit.service,
        instance: unit.instance,
        running: undefined,
      }))
      for (const unit of plan) {
        await start(unit)
        units.push(unit)
      }
    }
    endpoint?.markStarted()
    const tracker = new Tracker()
    // The devnet's own tally trusts what its services would: a forged DeliveryConfirmed is not a delivery.
    const policy = await consumerPolicy(config, bus)
    const tail = tailTopics(policy === undefined ? bus : authenticatedBus(bus, { policy }), TRACKED)
    const started = world
    let stopped = false
    return {
      world: started,
      bus,
      config,
      configPath,
      devnetPath,
      dataDir,
      ...(endpoint === undefined ? {} : { metricsAddress: endpoint.address }),
      tracker,
      units,
      poll: async () => {
        const { envelopes, appendedAt, unreadable } = await tail.poll()
        tracker.apply(envelopes, appendedAt)
        return unreadable
      },
      send: (traffic) => sendTraffic(started, { ...traffic, onSent: (m) => tracker.sent(m) }),
      restart: async (unit) => {
        await unit.running?.stop()
        unit.running = undefined
        await start(unit)
      },
      stop: async () => {
        if (stopped) return
        stopped = true
        await Promise.allSettled(units.map((u) => u.running?.stop()))
        await endpoint?.close()
        await bus.close()
        await started.stop()
        logStream?.end()
        if (ownDir) rmSync(dataDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await Promise.allSettled(units.map((u) => u.running?.stop()))
    await endpoint?.close()
    await bus.close().catch(() => undefined)
    await world?.stop()
    logStream?.end()
    if (ownDir) rmSync(dataDir, { recursive: true, force: true })
    throw error
  }
}
