/**
 * How services report what they do: one JSON object per line, so an operator
 * can grep it and a log shipper can parse it. Tests and the devnet's live view
 * use a quieter logger.
 *
 * @module
 */

export type LogLevel = "debug" | "info" | "warn" | "error"

export type LogFields = Readonly<Record<string, unknown>>

export interface ServiceLogger {
  readonly debug: (message: string, fields?: LogFields) => void
  readonly info: (message: string, fields?: LogFields) => void
  readonly warn: (message: string, fields?: LogFields) => void
  readonly error: (message: string, fields?: LogFields) => void
  /** A logger whose lines carry these fields too. */
  readonly child: (fields: LogFields) => ServiceLogger
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

const replacer = (_key: string, value: unknown) =>
  typeof value === "bigint" ? value.toString() : value instanceof Error ? value.message : value

/**
 * A logger that writes JSON lines (`{"level","time","msg",…fields}`).
 *
 * @example
 * ```ts
 * const log = jsonLogger({ write: (line) => process.stderr.write(line) }, "info")
 * log.child({ service: "operator" }).info("signed", { lane: "901-902", count: 12 })
 * ```
 */
export const jsonLogger = (
  sink: { readonly write: (line: string) => unknown },
  level: LogLevel = "info",
  base: LogFields = {},
): ServiceLogger => {
  const emit =
    (at: LogLevel) =>
    (message: string, fields: LogFields = {}) => {
      if (ORDER[at] < ORDER[level]) return
      sink.write(
        `${JSON.stringify({ level: at, time: new Date().toISOString(), msg: message, ...base, ...fields }, replacer)}\n`,
      )
    }
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => jsonLogger(sink, level, { ...base, ...fields }),
  }
}

/**
 * A logger that drops everything below `error` (tests, the devnet's live view).
 *
 * @example
 * ```ts
 * const log = quietLogger()
 * ```
 */
export const quietLogger = (
  sink: { readonly write: (line: string) => unknown } = process.stderr,
): ServiceLogger => jsonLogger(sink, "error")
