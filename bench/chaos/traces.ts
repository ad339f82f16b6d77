/**
 * `chorus trace` of a few messages a chaos run failed, run as an engineer
 * would run it after the run, against the run's log and its config.
 *
 * @module
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { RunBus } from "./world.ts"

export const BIN = fileURLToPath(new URL("../../bin/chorus.js", import.meta.url))

/** The arguments that point a `chorus` tool at the run's log. */
export const logFlags = (bus: RunBus, config: string, index: string): string[] => [
  ...(bus.kind === "kafka" ? ["--brokers", bus.brokers.join(",")] : ["--data-dir", bus.dataDir]),
  "--config",
  config,
  "--index",
  index,
]

/**
 * The output of `chorus trace <id>` (stdout and stderr), or why it gave none.
 *
 * @example
 * ```ts
 * const text = await traceMessage(id, logFlags(runBus, configPath, join(runDir, "audit.sqlite")))
 * ```
 */
export const traceMessage = (id: string, flags: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, "trace", id, ...flags],
      { timeout: 180_000, maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const text = `${stdout}${stderr}`.trimEnd()
        resolve(text === "" && error !== null ? `chorus trace failed: ${error.message}` : text)
      },
    )
  })
