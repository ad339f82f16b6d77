import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import type { KafkaBusLogger } from "../bus/kafka/logger.ts"
import type { KafkaSecurity } from "../bus/kafka/security.ts"
import type { BusPort } from "../bus/port.ts"
import type { ChorusConfig } from "../services/config/index.ts"
import type { KafkaSecurityConfig } from "../services/config/kafka-security.ts"
import { type Command, type CommandInput, flags, type Options, UsageError } from "./command.ts"

/** The flags every command that touches the bus takes. */
export const busOptions: Options = flags({ values: ["brokers", "data-dir"] })

export const BUS_USAGE = "(--brokers <host:port,…> | --data-dir <dir>)"
export const BUS_DETAILS = [
  "  --brokers <host:port,…>  Kafka bootstrap brokers, comma-separated. TLS and SASL come from the environment",
  "                           (over the config's bus.kafka where the command takes --config):",
  "                             CHORUS_KAFKA_CA=<ca.pem>  trust the brokers' certificates from this CA (TLS on)",
  "                             CHORUS_KAFKA_SSL=true     TLS with the system's CAs",
  "                             CHORUS_KAFKA_SASL_USERNAME=<user> CHORUS_KAFKA_SASL_PASSWORD=<password>",
  "                                                       log in with SCRAM-SHA-512 (principal User:<user>)",
  "  --data-dir <dir>         an embedded log's data directory, or the directory `chorus devnet --data-dir`",
  "                           keeps (its log/ is used); works while the devnet runs",
].join("\n")

/** The config's `bus.kafka` behind flags that {@link busFlagsOrConfig} made from a config. */
const configSecurity = new WeakMap<object, KafkaSecurityConfig>()

/**
 * TLS and SASL for the Kafka bus the flags name: the environment's
 * `CHORUS_KAFKA_*` over the config's `bus.kafka` (when the flags came from
 * {@link busFlagsOrConfig}). Undefined: PLAINTEXT.
 *
 * @example
 * ```ts
 * // CHORUS_KAFKA_CA=ca.pem CHORUS_KAFKA_SASL_USERNAME=admin CHORUS_KAFKA_SASL_PASSWORD=… chorus topics create --brokers …
 * await kafkaSecurityFromFlags(values) // { ssl: { ca: "-----BEGIN…" }, sasl: { username: "admin", … } }
 * ```
 */
export const kafkaSecurityFromFlags = async (
  values: CommandInput["values"],
): Promise<KafkaSecurity | undefined> => {
  const { resolveKafkaSecurity } = await import("../services/config/kafka-security.ts")
  return resolveKafkaSecurity(configSecurity.get(values))
}

/**
 * Where and as whom a command reaches Kafka (`--brokers` and the security
 * above), for what the bus port does not cover (creating ACLs).
 *
 * @example
 * ```ts
 * const { brokers, security } = await kafkaConnectionFromFlags(values)
 * ```
 */
export const kafkaConnectionFromFlags = async (
  values: CommandInput["values"],
): Promise<{ brokers: string[]; security: KafkaSecurity | undefined }> => {
  if (typeof values.brokers !== "string") throw new UsageError("this needs Kafka: give --brokers <host:port>")
  return { brokers: parseBrokers(values.brokers), security: await kafkaSecurityFromFlags(values) }
}

/**
 * Parses `--brokers host:port,host:port`, naming the entry that is wrong.
 *
 * @example
 * ```ts
 * parseBrokers("127.0.0.1:9092,kafka:9093") // ["127.0.0.1:9092", "kafka:9093"]
 * parseBrokers("notahost", "--kafka")       // throws UsageError: --kafka: "notahost" is not host:port …
 * ```
 */
export const parseBrokers = (raw: string, flag = "--brokers"): string[] => {
  const brokers = raw.split(",").map((b) => b.trim())
  for (const broker of brokers) {
    const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(broker)
    if (match === null || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new UsageError(`${flag}: ${JSON.stringify(broker)} is not host:port (e.g. 127.0.0.1:9092)`)
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
 * Makes sure `dir` is a directory this process can write to, creating it if it is missing, before anything
 * else starts: a path that cannot be one fails here, naming the flag and why, not later with a bare errno.
 *
 * @example
 * ```ts
 * makeDataDir(".devnet")            // creates it (and its parents) when missing
 * makeDataDir("/etc/passwd")        // throws UsageError: --data-dir /etc/passwd: a file, not a directory
 * ```
 */
export const makeDataDir = (dir: string, flag = "--data-dir"): void => {
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new UsageError(`${flag} ${dir}: a file, not a directory`)
  }
  try {
    // One level at a time: Node's recursive mkdir loops forever under some paths (/proc/…).
    const missing: string[] = []
    for (let at = resolve(dir); !existsSync(at); at = dirname(at)) missing.unshift(at)
    for (const level of missing) mkdirSync(level)
    accessSync(dir, constants.W_OK)
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException
    const why =
      code === "EACCES" || code === "EPERM"
        ? "permission denied"
        : code === "ENOTDIR"
          ? "a part of the path is a file"
          : code === "EROFS"
            ? "a read-only file system"
            : (error as Error).message
    throw new UsageError(`${flag} ${dir}: cannot create or write to it (${why})`)
  }
}

/**
 * Opens the bus a command's flags name: Kafka with `--brokers`, the embedded
 * log with `--data-dir`. Exactly one must be given. The embedded log's
 * directory must exist unless `create` says this command may start a new log
 * (only `chorus run`): a mistyped path then names itself, instead of opening
 * an empty log that answers nothing.
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
export const openBusFromFlags = async (
  values: CommandInput["values"],
  options: {
    readonly create?: boolean
    /** Where the Kafka client's own lines go (a service's JSON logger); stderr text lines when absent. */
    readonly logger?: KafkaBusLogger
  } = {},
): Promise<BusPort> => {
  const brokers = values.brokers
  const dataDir = values["data-dir"]
  if (typeof brokers === "string" && typeof dataDir === "string") {
    throw new UsageError("give either --brokers (Kafka) or --data-dir (embedded log), not both")
  }
  if (typeof brokers === "string") {
    const { openKafkaBus } = await import("../bus/kafka/index.ts")
    const parsed = parseBrokers(brokers)
    const security = await kafkaSecurityFromFlags(values)
    // A member that vanishes hands its partitions over after 10 s (kafkajs's default is 30 s).
    return openKafkaBus({
      brokers: parsed,
      clientId: "chorus-cli",
      consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 },
      // Resolved above, environment included: nothing is read twice.
      security: security ?? {},
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    })
  }
  if (typeof dataDir === "string") {
    if (options.create === true) makeDataDir(dataDir)
    else if (!existsSync(dataDir)) {
      throw new UsageError(
        `--data-dir ${dataDir}: no such directory. Give the data directory of an existing embedded log, or the one \`chorus devnet --data-dir\` was run with`,
      )
    } else if (!statSync(dataDir).isDirectory()) {
      throw new UsageError(`--data-dir ${dataDir}: a file, not a directory`)
    }
    const { openEmbeddedBusShared } = await import("../bus/embedded/shared.ts")
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
 * command that takes a config (`run`, `replay`) finds its bus. The config's
 * `bus.kafka` (TLS, SASL) goes with the flags to {@link openBusFromFlags},
 * also when `--brokers` was given.
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
  const withSecurity = (flags: Record<string, string>): Record<string, string> => {
    if (config.bus?.kafka !== undefined) configSecurity.set(flags, config.bus.kafka)
    return flags
  }
  const given: Record<string, string> = {}
  if (typeof values.brokers === "string") given.brokers = values.brokers
  if (typeof values["data-dir"] === "string") given["data-dir"] = values["data-dir"]
  if (Object.keys(given).length > 0) return withSecurity(given)
  if (config.bus?.brokers !== undefined) return withSecurity({ brokers: config.bus.brokers.join(",") })
  if (config.bus?.dataDir !== undefined) return { "data-dir": config.bus.dataDir }
  return {}
}
