/**
 * The adapter's logger, and the bridge that routes kafkajs's own log lines
 * into it.
 *
 * Invariants:
 * - kafkajs never writes to the console by itself: its `logCreator` is
 *   always this bridge, at the level the caller chose (default `warn`).
 * - The adapter's own lines (a handler failed, a commit failed) go to the
 *   same logger, so one sink sees everything about the bus.
 *
 * @module
 */
import { type LogEntry, logLevel } from "kafkajs"

export type KafkaLogLevel = "nothing" | "error" | "warn" | "info" | "debug"

/** Where the adapter's log lines go. */
export interface KafkaBusLogger {
  readonly debug: (message: string, fields?: Readonly<Record<string, unknown>>) => void
  readonly info: (message: string, fields?: Readonly<Record<string, unknown>>) => void
  readonly warn: (message: string, fields?: Readonly<Record<string, unknown>>) => void
  readonly error: (message: string, fields?: Readonly<Record<string, unknown>>) => void
}

const RANK: Record<KafkaLogLevel, number> = { nothing: 0, error: 1, warn: 2, info: 3, debug: 4 }

/** kafkajs's numeric levels for ours. */
export const toKafkaJSLevel = (level: KafkaLogLevel): logLevel => {
  switch (level) {
    case "nothing":
      return logLevel.NOTHING
    case "error":
      return logLevel.ERROR
    case "warn":
      return logLevel.WARN
    case "info":
      return logLevel.INFO
    case "debug":
      return logLevel.DEBUG
  }
}

const stringify = (fields: Readonly<Record<string, unknown>> | undefined): string => {
  if (fields === undefined || Object.keys(fields).length === 0) return ""
  try {
    return ` ${JSON.stringify(fields, (_key, value) => (typeof value === "bigint" ? value.toString() : value))}`
  } catch {
    return ""
  }
}

/**
 * A logger writing one line per entry to stderr, dropping entries below `level`.
 *
 * @example
 * ```ts
 * const logger = stderrLogger("info")
 * logger.warn("handler failed", { topic: "t", offset: 3 })
 * // stderr: "chorus-bus warn handler failed {"topic":"t","offset":3}"
 * ```
 */
export const stderrLogger = (level: KafkaLogLevel = "warn"): KafkaBusLogger => {
  const line =
    (entryLevel: Exclude<KafkaLogLevel, "nothing">) =>
    (message: string, fields?: Readonly<Record<string, unknown>>): void => {
      if (RANK[entryLevel] > RANK[level]) return
      process.stderr.write(`chorus-bus ${entryLevel} ${message}${stringify(fields)}\n`)
    }
  return { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") }
}

/**
 * A kafkajs `logCreator` that forwards to `logger`, prefixing kafkajs's
 * namespace (`Consumer`, `Runner`, …) so the source stays visible. While
 * `muted()` holds (a client dropped on purpose), kafkajs's lines are dropped.
 *
 * @example
 * ```ts
 * new Kafka({ brokers, logLevel: toKafkaJSLevel("warn"), logCreator: kafkajsLogCreator(logger) })
 * ```
 */
export const kafkajsLogCreator =
  (
    logger: KafkaBusLogger,
    muted: () => boolean = () => false,
    options: { readonly repeatEveryMs?: number; readonly now?: () => number } = {},
  ) =>
  () => {
    const limiter = repeatLimiter(options.repeatEveryMs ?? REPEAT_EVERY_MS, options.now ?? Date.now)
    return (entry: LogEntry): void => {
      if (muted()) return
      // A stack says where in kafkajs, which no operator acts on; the message says what failed.
      const {
        message,
        timestamp: _timestamp,
        logger: _logger,
        stack: _stack,
        ...rest
      } = entry.log as LogEntry["log"] & {
        readonly stack?: unknown
      }
      const repeats = limiter(`${entry.level}:${entry.namespace}:${message}`)
      if (repeats === "drop") return
      const fields = repeats === 0 ? rest : { ...rest, repeated: repeats }
      forward(logger, entry, `kafkajs ${entry.namespace}: ${message}`, fields)
    }
  }

/** How often one kafkajs line that repeats (a broker down, retried every second) is logged again, with its count. */
export const REPEAT_EVERY_MS = 60_000

/**
 * Whether a line is logged: its first time at once, then at most once per `everyMs`, saying how many times it
 * came in between (`repeated`). Lines are told apart by their text with counts masked, addresses kept.
 */
const repeatLimiter = (everyMs: number, now: () => number) => {
  const seen = new Map<string, { at: number; dropped: number }>()
  return (line: string): number | "drop" => {
    // Counts and retry numbers masked; an address (127.0.0.1:9092) kept, so one broker's error hides no other's.
    const key = line.replace(/(?<![\d.:])\d+(?![\d.:])/g, "#")
    const at = now()
    const last = seen.get(key)
    if (last !== undefined && at - last.at < everyMs) {
      last.dropped++
      return "drop"
    }
    // Bounded: a flood of distinct lines cannot grow the map without end.
    if (seen.size >= 1_000) seen.clear()
    seen.set(key, { at, dropped: 0 })
    return last?.dropped ?? 0
  }
}

const forward = (
  logger: KafkaBusLogger,
  entry: LogEntry,
  text: string,
  fields: Readonly<Record<string, unknown>>,
): void => {
  const { message } = entry.log
  // kafkajs logs every error answer of a broker at ERROR, including the
  // retriable ones it then retries ("coordinator is loading"); failures
  // that matter surface as the adapter's errors, so these are debug.
  if (entry.namespace === "Connection" && message.startsWith("Response ")) {
    logger.debug(text, fields)
    return
  }
  switch (entry.level) {
    case logLevel.ERROR:
      logger.error(text, fields)
      return
    case logLevel.WARN:
      logger.warn(text, fields)
      return
    case logLevel.INFO:
      logger.info(text, fields)
      return
    default:
      logger.debug(text, fields)
  }
}
