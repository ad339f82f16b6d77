/**
 * The chaos harness's own way onto the run's bus, to write garbage and read
 * facts, without ever taking a service's place:
 *
 * - Kafka: one connection, kept for the run (it rides out a broker restart
 *   as any client does: a call made meanwhile fails, and is made again).
 * - Embedded log: the one service process owns the log; the harness is only
 *   ever its client (through its socket), connected for each use to the
 *   process running then. It never opens the log itself while the services
 *   run: a harness that became the owner between a kill and a restart would
 *   lock the services out of their consumer groups. After the services
 *   stopped, `finalBus` opens the log as its owner.
 *
 * It also empties a Kafka that holds an earlier devnet's or chaos run's log,
 * as `chorus devnet --kafka` does, and refuses any other Chorus log.
 *
 * @module
 */
import { EmbeddedBusClient, openEmbeddedBus } from "../../bus/embedded/index.ts"
import { readEvents } from "../../bus/events/index.ts"
import { deleteChorusLog, type KafkaBusLogger, openKafkaBus } from "../../bus/kafka/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { DEVNET_CHAIN_IDS } from "../../cli/devnet/world.ts"
import { TOPICS } from "../../topology/index.ts"
import type { RunBus } from "./world.ts"

const QUIET: KafkaBusLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

export interface HarnessBus {
  /** Runs `work` on the bus; rejects when the bus cannot be reached now. */
  use<T>(work: (bus: BusPort) => Promise<T>): Promise<T>
  close(): Promise<void>
}

const openKafka = (brokers: ReadonlyArray<string>, clientId: string) =>
  openKafkaBus({ brokers: [...brokers], clientId, logger: QUIET, logLevel: "nothing" })

/**
 * The harness's bus while the services run; `ownerPid` gives the embedded log's owner now.
 *
 * @example
 * ```ts
 * const bus = await harnessBus(runBus, () => supervisor.pidOf("all"))
 * await bus.use((b) => b.watermarks("chorus.deliveries"))
 * ```
 */
export const harnessBus = async (run: RunBus, ownerPid: () => number | undefined): Promise<HarnessBus> => {
  if (run.kind === "kafka") {
    const bus = await openKafka(run.brokers, "chorus-chaos")
    return { use: (work) => work(bus), close: () => bus.close() }
  }
  return {
    use: async (work) => {
      const pid = ownerPid()
      if (pid === undefined) throw new Error("the service process that owns the embedded log is not running")
      const attempt = await EmbeddedBusClient.connect(run.dataDir, pid)
      if (attempt.kind !== "connected")
        throw new Error(`the embedded log's owner (pid ${pid}) does not answer: ${attempt.reason}`)
      try {
        return await work(attempt.client)
      } finally {
        await attempt.client.close()
      }
    },
    close: async () => {},
  }
}

/**
 * The bus once every service stopped: Kafka, or the embedded log opened by the harness as its owner. Close
 * it before running a `chorus` tool on the embedded log.
 *
 * @example
 * ```ts
 * const bus = await finalBus(runBus)
 * ```
 */
export const finalBus = (run: RunBus): Promise<BusPort> =>
  run.kind === "kafka"
    ? openKafka(run.brokers, "chorus-chaos-count")
    : openEmbeddedBus({ dataDir: run.dataDir, serve: false })

/**
 * Empties a Kafka that holds only an earlier devnet's or chaos run's Chorus log (every watcher cursor is for
 * a devnet chain); refuses one that holds anything else.
 *
 * @example
 * ```ts
 * await resetKafkaLog(["127.0.0.1:9092"])
 * ```
 */
export const resetKafkaLog = async (brokers: ReadonlyArray<string>): Promise<void> => {
  const probe = await openKafka(brokers, "chorus-chaos-probe")
  const chains = new Set<number>()
  let records = 0
  try {
    const exists = await probe.partitions(TOPICS.watcherCursors.name).then(
      () => true,
      () => false,
    )
    if (!exists) return
    for await (const read of readEvents(probe, { topic: TOPICS.watcherCursors.name, from: "earliest" })) {
      if (read.ok && read.envelope.event._tag === "WatcherCursor") chains.add(read.envelope.event.chainId)
    }
    for (const topic of [TOPICS.messagesObserved.name, TOPICS.deliveries.name]) {
      records += (await probe.watermarks(topic).catch(() => [])).reduce((sum, p) => sum + p.high - p.low, 0)
    }
  } finally {
    await probe.close()
  }
  const ours = [...chains].every((id) => DEVNET_CHAIN_IDS.includes(id))
  if (!ours && records > 0) {
    throw new Error(
      `Kafka at ${brokers.join(",")} holds a Chorus log of chains ${[...chains].join(", ")}, not a devnet's: ` +
        "the chaos run needs an empty one (use --kafka local, or a fresh broker)",
    )
  }
  await deleteChorusLog(brokers)
}
