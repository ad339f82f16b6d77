/**
 * Readiness check for `scripts/kafka-local start`: waits until the broker
 * really answers a client (see ./probe.ts), instead of sleeping and hoping.
 *
 * Usage: node scripts/kafka/wait-ready.ts --brokers 127.0.0.1:9092 [--timeout-ms 120000] [--pid 1234]
 *
 * With `--pid`, gives up as soon as that process exits.
 * Exit codes: 0 ready, 1 not ready before the deadline or the process died, 2 bad arguments.
 */
import { parseArgs } from "node:util"
import { waitForKafka } from "./probe.ts"

interface Options {
  readonly brokers: string[]
  readonly timeoutMs: number
  readonly pid: number | undefined
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      brokers: { type: "string" },
      "timeout-ms": { type: "string", default: "120000" },
      pid: { type: "string" },
    },
    strict: true,
  })
  const brokers = (values.brokers ?? "")
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b.length > 0)
  if (brokers.length === 0) throw new Error("--brokers is required, e.g. --brokers 127.0.0.1:9092")
  const timeoutMs = Number(values["timeout-ms"])
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new Error(`--timeout-ms must be a positive integer, got '${values["timeout-ms"]}'`)
  }
  let pid: number | undefined
  if (values.pid !== undefined) {
    pid = Number(values.pid)
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`--pid must be a process id, got '${values.pid}'`)
  }
  return { brokers, timeoutMs, pid }
}

async function main(): Promise<number> {
  let options: Options
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (error) {
    console.error(`wait-ready: ${(error as Error).message}`)
    return 2
  }
  const result = await waitForKafka(options)
  if (result.ok) {
    console.error(`wait-ready: ready after ${result.elapsedMs} ms (${result.description})`)
    return 0
  }
  console.error(`wait-ready: ${result.reason}`)
  return 1
}

process.exitCode = await main()
