import { existsSync } from "node:fs"
import { join } from "node:path"
import type { BusPort } from "../bus/port.ts"
import type { ChorusConfig } from "../services/config/index.ts"
import { type Command, type CommandInput, flags, type Options, UsageError } from "./command.ts"

/** The flags every command that touches the bus takes. */
export const busOptions: Options = flags({ values: ["brokers", "data-dir"] })

export const BUS_USAGE = "(--brokers <host:port,…> | --data-dir <dir>)"
export const BUS_DETAILS = [
  "  --brokers <host:port,…>  Kafka bootstrap brokers, comma-separated",
  "  --data-dir <dir>         an embedded log's data directory, or the directory `chorus devnet --data-dir`",
  "                           keeps (its log/ is used); works while the devnet runs",
].join("\n")

/**
 * Parses `--brokers host:port,host:port`, naming the entry that is wrong.
 *
 * @example
 * ```ts
 * parseBrokers("127.0.0.1:9092,kafka:9093") // ["127.0.0.1:9092", "kafka:9093"]
 * ```
 */
export const parseBrokers = (raw: string): string[] => {
  const brokers = raw.split(",").map((b) => b.trim())
  for (const broker of brokers) {
    const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(broker)
    if (match === null || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new UsageError(`--brokers: ${JSON.stringify(broker)} is not host:port (e.g. 127.0.0.1:9092)`)
    }
  }
  return brokers
}

/**
 * The embedded log's data directory for `--data-dir`: the directory itself,
 * or its `log/` when it is what `chorus devnet --data-dir` keeps (a devnet's
 * `config.json` beside a `log/` that holds topics).
 *
 * @example
 * ```ts
 * embeddedDataDir(".devnet") // => ".devnet/log" after `chorus devnet --data-dir .devnet`
 * embeddedDataDir(".data/bus") // => ".data/bus"
 * ```
 */
export const embeddedDataDir = (dir: string): string => {
  const log = join(dir, "log")
  const isDevnetRoot =
    existsSync(join(dir, "config.json")) &&
    existsSync(join(log, "topics")) &&
    !existsSync(join(dir, "topics"))
  return isDevnetRoot ? log : dir
}

/**
 * Opens the bus a command's flags name: Kafka with `--brokers`, the embedded
 * log with `--data-dir`. Exactly one must be given.
 *
 * An embedded log that a live process owns (a running devnet) is opened as a
 * client of that process: everything but consumer groups works, and a publish
 * reaches that process's services through the log. A free one is opened (and
 * served) by this process.
 *
 * @example
 * ```ts
 * const bus = await openBusFromFlags(input.values)
 * ```
 */
export const openBusFromFlags = async (values: CommandInput["values"]): Promise<BusPort> => {
  const brokers = values.brokers
  const dataDir = values["data-dir"]
  if (typeof brokers === "string" && typeof dataDir === "string") {
    throw new UsageError("give either --brokers (Kafka) or --data-dir (embedded log), not both")
  }
  if (typeof brokers === "string") {
    const { openKafkaBus } = await import("../bus/kafka/index.ts")
    // A member that vanishes hands its partitions over after 10 s (kafkajs's default is 30 s).
    return openKafkaBus({
      brokers: parseBrokers(brokers),
      clientId: "chorus-cli",
      consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
    })
  }
  if (typeof dataDir === "string") {
    const { openEmbeddedBusShared } = await import("../bus/embedded/index.ts")
    // If this process ends up owning the log, another chorus process may be using it through this one
    // (a `chorus retry` waiting for its answer): closing lets it finish first, for up to 2 minutes.
    return openEmbeddedBusShared({ dataDir: embeddedDataDir(dataDir), drainClientsMs: 120_000 })
  }
  throw new UsageError(
    "say which bus: --brokers <host:port> for Kafka, or --data-dir <dir> for an embedded log",
  )
}

/**
 * Runs `use` on the bus the flags name and closes the bus afterwards, whether
 * `use` succeeded or not.
 *
 * @example
 * ```ts
 * return withBus(values, async (bus) => (await bus.partitions("chorus.x")) > 0 ? 0 : 1)
 * ```
 */
export const withBus = async <T>(
  values: CommandInput["values"],
  use: (bus: BusPort) => Promise<T>,
): Promise<T> => {
  const bus = await openBusFromFlags(values)
  try {
    return await use(bus)
  } finally {
    await bus.close()
  }
}

/**
 * A command that takes only the bus flags and works on that one bus.
 *
 * @example
 * ```ts
 * export const topicsCreate = busCommand(["topics", "create"], "create every declared topic", async (bus, { out }) => 0)
 * ```
 */
export const busCommand = (
  path: ReadonlyArray<string>,
  summary: string,
  run: (bus: BusPort, input: CommandInput) => Promise<number>,
): Command => ({
  path,
  summary,
  usage: `${path.join(" ")} ${BUS_USAGE}`,
  details: BUS_DETAILS,
  options: busOptions,
  run: (input) => withBus(input.values, (bus) => run(bus, input)),
})

/**
 * `--brokers`/`--data-dir` as given, else the config's `bus` section: where a
 * command that takes a config (`run`, `replay`) finds its bus.
 *
 * @example
 * ```ts
 * busFlagsOrConfig({}, config) // { brokers: "127.0.0.1:9092" } when the config names Kafka
 * ```
 */
export const busFlagsOrConfig = (
  values: CommandInput["values"],
  config: Pick<ChorusConfig, "bus">,
): Record<string, string> => {
  const given: Record<string, string> = {}
  if (typeof values.brokers === "string") given.brokers = values.brokers
  if (typeof values["data-dir"] === "string") given["data-dir"] = values["data-dir"]
  if (Object.keys(given).length > 0) return given
  if (config.bus?.brokers !== undefined) return { brokers: config.bus.brokers.join(",") }
  if (config.bus?.dataDir !== undefined) return { "data-dir": config.bus.dataDir }
  return {}
}
