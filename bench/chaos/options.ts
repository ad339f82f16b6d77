/**
 * `npm run chaos -- …`: the flags, their checks and `--help`. A bad value is
 * refused with a message naming its flag, before anything starts.
 *
 * @module
 */
import { existsSync, readdirSync, statSync } from "node:fs"
import { parseArgs } from "node:util"
import {
  describeFaults,
  FAULT_GROUPS,
  FAULTS,
  type FaultName,
  parseFaults,
  UnknownFaultError,
} from "./faults.ts"

export type KafkaChoice =
  | { readonly kind: "none" }
  /** The run's own broker, or its own cluster of three (`--kafka-brokers 3`). */
  | { readonly kind: "local"; readonly brokers: 1 | 3 }
  | { readonly kind: "brokers"; readonly brokers: ReadonlyArray<string> }

/** The services that run in consumer groups, so several processes can share an instance's work. */
export const SCALABLE_SERVICES = ["proof-builder", "operator", "attestation-collector", "submitter"] as const
export type ScaledService = (typeof SCALABLE_SERVICES)[number]

export type LogLevel = "debug" | "info" | "warn" | "error"

export interface ChaosOptions {
  readonly messages: number
  readonly seed: number
  /** False when no --seed was given and one was drawn. */
  readonly seedGiven: boolean
  /** Messages per second; undefined: chosen from --messages (see `rateFor`). */
  readonly rate: number | undefined
  readonly kafka: KafkaChoice
  readonly kafkaNodeDir: string | undefined
  /** Processes per instance of each lane service in `scaled` (proof-builder, operators, collector, submitters). */
  readonly members: number
  /** The lane services `members` applies to (all four when --scaled is absent). */
  readonly scaled: ReadonlyArray<ScaledService>
  readonly faults: ReadonlySet<FaultName>
  readonly drainMs: number
  readonly dataDir: string | undefined
  readonly keep: boolean
  readonly traces: number
  readonly logLevel: LogLevel
  /** Each service process's V8 old-space budget in MB (`node --max-old-space-size`); undefined: V8's own. */
  readonly heapMb: number | undefined
  readonly json: boolean
}

/** A command line the chaos run refuses; the message names the flag. */
export class ChaosUsageError extends Error {
  override readonly name = "ChaosUsageError"
}

export const USAGE =
  "npm run chaos -- [--messages <n>] [--seed <n>] [--kafka <host:port,…|local>] [--faults <list>] [--json] …"

/**
 * The traffic rate when --rate is absent: 25 messages a second, slower for a short run so its faults still
 * have two minutes of traffic to land in (at least 1 a second).
 *
 * @example
 * ```ts
 * rateFor(10_000) // 25
 * rateFor(500) // 4.17 (120 s of traffic)
 * ```
 */
export const rateFor = (messages: number): number => Math.min(25, Math.max(1, messages / 120))

/**
 * The drain when --drain is absent, in seconds: 240, or one second per 10 messages when that is longer.
 *
 * @example
 * ```ts
 * drainFor(500) // 240
 * drainFor(10_000) // 1000
 * ```
 */
export const drainFor = (messages: number): number => Math.min(3_600, Math.max(240, Math.ceil(messages / 10)))

export const HELP = [
  "chorus chaos: a seeded chaos run of the whole relay, judged from the chains",
  "",
  `usage: ${USAGE}`,
  "",
  "It starts the devnet's three anvil chains (901-903) and four operators, runs every service as its own",
  "`chorus run <service> --config … --instance …` process on Kafka (on the embedded log, whose consumer groups",
  "live in one process, one `chorus run all` process), sends seeded traffic, injects the faults below at seeded",
  "times, waits for every message to settle, and counts from the chains how each one ended.",
  "",
  "flags:",
  "  --messages <n>         messages to send (20 to 1,000,000). Default 10000",
  "  --seed <n>             the run's seed (0 to 4294967295): the same seed gives the same schedule of faults",
  "                         and traffic. Default: drawn at random, and printed",
  "  --kafka <brokers>      run on Kafka at host:port[,host:port…] (it must hold no Chorus log but a devnet's",
  "                         or an earlier chaos run's, which is deleted). The run cannot restart a broker it",
  "                         did not start unless --kafka-node-dir says how; it then reports the broker fault",
  "                         as not done",
  "  --kafka local          start the run's own broker (scripts/kafka-local, Java 17 and Maven) on a free port,",
  "                         restart it during the run, stop it at the end",
  "  --kafka-brokers 3      with --kafka local: a cluster of three brokers (replication factor 3,",
  "                         min.insync.replicas 2); the broker fault then kills one of them (kill -9), holds",
  "                         it down for 10 s while the traffic runs, and starts it again",
  "  --members <n>          with Kafka: run each lane service instance (proof-builder, every operator, the",
  "                         attestation-collector, every submitter) as n processes in its consumer group",
  "                         (1 to 4; default 1). A submitter's standby members send nothing while the active",
  "                         one holds its destination (fencing); the chain-watchers stay one per chain",
  "  --scaled <list>        with --members: only these services run several members, comma-separated, of",
  "                         proof-builder, operator, attestation-collector, submitter (default all four)",
  "  --kafka-node-dir <dir> with --kafka <brokers>: the KAFKA_DATA_DIR of the scripts/kafka-local node serving",
  "                         the first broker, so the run restarts it with that script (.ci/run's broker)",
  "                         Without --kafka: the embedded log",
  "  --faults <list>        the faults to inject, comma-separated (default all); groups: " +
    Object.keys(FAULT_GROUPS).join(", "),
  "                         `-name` removes one (--faults all,-rewrite); `none` is a clean baseline",
  "  --rate <n>             messages a second (0.1 to 200). Default 25, or fewer so the traffic lasts 120 s",
  "  --drain <seconds>      after the traffic and the last fault, how long messages get to settle (10 to",
  "                         3600); the run ends sooner once every message settled. Default 240, or one",
  "                         second per 10 messages when that is longer (a backlog of 10,000 on a 2-core",
  "                         machine is slow, not stuck: what is still unsettled at the end is stranded)",
  "  --data-dir <dir>       keep the run's files here (configs, service logs, the embedded log); an empty or",
  "                         new directory. Default: a temporary directory, removed after a run that passes",
  "  --keep                 keep the temporary directory after a run that passes",
  "  --traces <n>           `chorus trace` this many of the lost, duplicated or stranded messages (0 to 50).",
  "                         Default 3",
  "  --log-level <level>    the services' log level: debug, info, warn or error. Default info",
  "  --heap-mb <n>          run each service process with `node --max-old-space-size=<n>` (64 to 65536), the",
  "                         budget an operator gives a service in production. Default: V8's own",
  "  --json                 the last line is one JSON object: sent, delivered, failedAtRecipient, refused,",
  "                         quarantined, lost, duplicated, stranded",
  "  --help                 this text",
  "",
  "faults:",
  ...Object.entries(FAULTS).map(([name, what]) => `  ${name.padEnd(12)} ${what}`),
  "",
  "counts (every one from the chains; the log only names refusals and halts):",
  "  sent               traffic transactions with a receipt and a MessageSent log",
  "  delivered          the destination Inbox shows it delivered",
  "  failedAtRecipient  the Inbox shows it failed: its recipient reverted (retryable)",
  "  refused            not attempted; the submitter refused it alone, for a reason (DeliveryFailed, no tx)",
  "  quarantined        not attempted; its source chain's watcher halted (ChainHalted) at or before its block",
  "  lost               none of the above, and no watcher observed it",
  "  duplicated         a recipient ran it more than once (Pinged, MessageDelivered or MessageFailed twice)",
  "  stranded           none of the above, though a watcher observed it, when the drain ends",
  "",
  "exit status: 0 when lost, duplicated and stranded are all 0; 1 otherwise (the messages are listed, a few",
  "traced, with the command that replays the run); 2 for a bad command line.",
].join("\n")

const integer = (
  flag: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number => {
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw.trim()))
    throw new ChaosUsageError(`--${flag}: expected a whole number, got ${JSON.stringify(raw)}`)
  const value = Number(raw)
  if (value < min || value > max)
    throw new ChaosUsageError(`--${flag}: must be from ${min} to ${max}, got ${value}`)
  return value
}

const brokersOf = (raw: string): string[] => {
  const brokers = raw.split(",").map((b) => b.trim())
  for (const broker of brokers) {
    const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(broker)
    if (match === null || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new ChaosUsageError(
        `--kafka: ${JSON.stringify(broker)} is not host:port (e.g. 127.0.0.1:9092) nor "local"`,
      )
    }
  }
  return brokers
}

/**
 * Parses the command line; `undefined` means `--help` was asked for.
 *
 * @example
 * ```ts
 * parseChaosArgs(["--messages", "500", "--seed", "7", "--kafka", "local"])?.kafka // { kind: "local" }
 * ```
 */
export const parseChaosArgs = (argv: ReadonlyArray<string>): ChaosOptions | undefined => {
  let values: Record<string, string | boolean | undefined>
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        messages: { type: "string" },
        seed: { type: "string" },
        kafka: { type: "string" },
        "kafka-node-dir": { type: "string" },
        "kafka-brokers": { type: "string" },
        members: { type: "string" },
        scaled: { type: "string" },
        faults: { type: "string" },
        rate: { type: "string" },
        drain: { type: "string" },
        "data-dir": { type: "string" },
        keep: { type: "boolean" },
        traces: { type: "string" },
        "log-level": { type: "string" },
        "heap-mb": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }))
  } catch (error) {
    const message = (error as Error).message
    const flag = /'(-[^']*)'/.exec(message)?.[1]
    if ((error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION")
      throw new ChaosUsageError(`unknown flag ${flag ?? message}; see --help`)
    if ((error as { code?: string }).code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE")
      throw new ChaosUsageError(
        `${flag?.split(" ")[0] ?? "a flag"}: ${message.includes("argument missing") ? "needs a value" : message}`,
      )
    throw new ChaosUsageError(message)
  }
  if (values.help === true) return undefined
  if (positionals.length > 0)
    throw new ChaosUsageError(`unexpected argument ${JSON.stringify(positionals[0])}; flags only, see --help`)
  const text = (flag: string) => {
    const value = values[flag]
    if (value === "") throw new ChaosUsageError(`--${flag}: needs a value`)
    return value as string | undefined
  }
  const messages = integer("messages", text("messages"), 10_000, 20, 1_000_000)
  const seedText = text("seed")
  const seed = integer("seed", seedText, Math.floor(Math.random() * 4_294_967_296), 0, 4_294_967_295)
  const rateText = text("rate")
  let rate: number | undefined
  if (rateText !== undefined) {
    rate = Number(rateText)
    if (!/^\d+(\.\d+)?$/.test(rateText) || rate < 0.1 || rate > 200)
      throw new ChaosUsageError(
        `--rate: expected messages a second from 0.1 to 200, got ${JSON.stringify(rateText)}`,
      )
  }
  const kafkaText = text("kafka")
  const clusterText = text("kafka-brokers")
  if (clusterText !== undefined && kafkaText !== "local")
    throw new ChaosUsageError("--kafka-brokers: only with --kafka local, for the run's own brokers")
  if (clusterText !== undefined && clusterText !== "1" && clusterText !== "3")
    throw new ChaosUsageError(`--kafka-brokers: expected 1 or 3, got ${JSON.stringify(clusterText)}`)
  const kafka: KafkaChoice =
    kafkaText === undefined
      ? { kind: "none" }
      : kafkaText === "local"
        ? { kind: "local", brokers: clusterText === "3" ? 3 : 1 }
        : { kind: "brokers", brokers: brokersOf(kafkaText) }
  const membersText = text("members")
  if (membersText !== undefined && kafka.kind === "none")
    throw new ChaosUsageError(
      "--members: needs Kafka (--kafka); on the embedded log every service runs in one process",
    )
  const members = integer("members", membersText, 1, 1, 4)
  const scaledText = text("scaled")
  if (scaledText !== undefined && membersText === undefined)
    throw new ChaosUsageError("--scaled: only with --members, which says how many processes they run")
  const scaled = (scaledText?.split(",").map((s) => s.trim()) ?? [...SCALABLE_SERVICES]) as ScaledService[]
  for (const service of scaled)
    if (!SCALABLE_SERVICES.includes(service))
      throw new ChaosUsageError(
        `--scaled: ${JSON.stringify(service)} does not run in a consumer group; expected some of ${SCALABLE_SERVICES.join(", ")}`,
      )
  const kafkaNodeDir = text("kafka-node-dir")
  if (kafkaNodeDir !== undefined) {
    if (kafka.kind !== "brokers")
      throw new ChaosUsageError("--kafka-node-dir: only with --kafka <host:port>, for the broker there")
    if (!existsSync(kafkaNodeDir) || !statSync(kafkaNodeDir).isDirectory())
      throw new ChaosUsageError(`--kafka-node-dir: ${kafkaNodeDir} is not a directory`)
  }
  const faultsText = text("faults") ?? "all"
  let faults: ReadonlySet<FaultName>
  try {
    faults = parseFaults(faultsText)
  } catch (error) {
    if (error instanceof UnknownFaultError) throw new ChaosUsageError(error.message)
    throw error
  }
  if (
    kafka.kind === "none" &&
    faultsText
      .split(",")
      .map((f) => f.trim())
      .includes("broker")
  )
    throw new ChaosUsageError(
      "--faults: broker needs Kafka (--kafka); the embedded log has no broker to restart",
    )
  const dataDir = text("data-dir")
  if (
    dataDir !== undefined &&
    existsSync(dataDir) &&
    (!statSync(dataDir).isDirectory() || readdirSync(dataDir).length > 0)
  )
    throw new ChaosUsageError(`--data-dir: ${dataDir} must be a new or empty directory`)
  const level = text("log-level") ?? "info"
  if (!["debug", "info", "warn", "error"].includes(level))
    throw new ChaosUsageError(
      `--log-level: expected debug, info, warn or error, got ${JSON.stringify(level)}`,
    )
  return {
    messages,
    seed,
    seedGiven: seedText !== undefined,
    rate,
    kafka,
    kafkaNodeDir,
    members,
    scaled,
    faults,
    drainMs: integer("drain", text("drain"), drainFor(messages), 10, 3_600) * 1000,
    dataDir,
    keep: values.keep === true,
    traces: integer("traces", text("traces"), 3, 0, 50),
    logLevel: level as LogLevel,
    heapMb: text("heap-mb") === undefined ? undefined : integer("heap-mb", text("heap-mb"), 0, 64, 65_536),
    json: values.json === true,
  }
}

/** The command line that replays a run: its own flags, with the seed and the faults spelled out. */
export const replayCommand = (options: ChaosOptions, rate: number): string =>
  [
    "npm run chaos --",
    `--messages ${options.messages}`,
    `--seed ${options.seed}`,
    `--rate ${Number(rate.toFixed(3))}`,
    ...(options.kafka.kind === "local" ? ["--kafka local"] : []),
    ...(options.kafka.kind === "local" && options.kafka.brokers === 3 ? ["--kafka-brokers 3"] : []),
    ...(options.kafka.kind === "brokers" ? [`--kafka ${options.kafka.brokers.join(",")}`] : []),
    ...(options.kafkaNodeDir !== undefined ? [`--kafka-node-dir ${options.kafkaNodeDir}`] : []),
    ...(options.members > 1 ? [`--members ${options.members}`] : []),
    ...(options.members > 1 && options.scaled.length < SCALABLE_SERVICES.length
      ? [`--scaled ${options.scaled.join(",")}`]
      : []),
    ...(options.heapMb !== undefined ? [`--heap-mb ${options.heapMb}`] : []),
    `--faults ${describeFaults(options.faults)}`,
  ].join(" ")
