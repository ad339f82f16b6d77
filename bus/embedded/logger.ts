/**
 * Where the embedded log reports what it repaired or could not do. Warnings
 * are things an operator should know about (a truncated torn tail); errors
 * are failures nobody awaits (a handler that threw and will be retried).
 *
 * @module
 */

export interface EmbeddedBusLogger {
  readonly warn: (message: string) => void
  readonly error: (message: string) => void
}

/**
 * The default logger: one line per event on stderr.
 *
 * @example
 * ```ts
 * stderrLogger.warn("truncated torn tail") // "[chorus/bus/embedded] WARN truncated torn tail"
 * ```
 */
export const stderrLogger: EmbeddedBusLogger = {
  warn: (message) => process.stderr.write(`[chorus/bus/embedded] WARN ${message}\n`),
  error: (message) => process.stderr.write(`[chorus/bus/embedded] ERROR ${message}\n`),
}
