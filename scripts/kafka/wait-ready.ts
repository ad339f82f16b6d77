/**
 * Readiness probe for `scripts/kafka-local start`: waits until a Kafka broker
 * really answers a client, instead of sleeping and hoping.
 *
 * Ready means a kafkajs admin client can connect and `describeCluster` returns
 * at least one broker and a controller, i.e. the KRaft quorum has elected
 * itself and the broker has opened its client listener.
 *
 * Usage: node scripts/kafka/wait-ready.ts --brokers 127.0.0.1:9092 [--timeout-ms 120000] [--pid 1234]
 *
 * With `--pid`, gives up as soon as that process exits (a broker that crashed
 * on start will never become ready; no point waiting out the deadline).
 * Exit codes: 0 ready, 1 not ready before the deadline or the process died, 2 bad arguments.
 */
import { parseArgs } from "node:util"
import { Kafka, logLevel } from "kafkajs"

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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM means it exists but belongs to someone else: still alive.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** One connection attempt; resolves to a description of the cluster or throws. */
async function probe(brokers: string[], budgetMs: number): Promise<string> {
  const kafka = new Kafka({
    clientId: "chorus-kafka-local-probe",
    brokers,
    // Our loop owns retries and the deadline; kafkajs' own retry would
    // overshoot it and flood the console while the JVM boots.
    retry: { retries: 0 },
    connectionTimeout: Math.min(3_000, budgetMs),
    requestTimeout: Math.min(10_000, budgetMs),
    logLevel: logLevel.NOTHING,
  })
  const admin = kafka.admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    if (cluster.brokers.length === 0) throw new Error("describeCluster returned no brokers yet")
    if (cluster.controller === null || cluster.controller < 0) throw new Error("no active controller yet")
    return `cluster ${cluster.clusterId}, brokers ${cluster.brokers.map((b) => `${b.host}:${b.port}`).join(",")}`
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

async function main(): Promise<number> {
  let options: Options
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (error) {
    console.error(`wait-ready: ${(error as Error).message}`)
    return 2
  }
  const started = Date.now()
  const deadline = started + options.timeoutMs
  let lastError = "no attempt made"
  let delayMs = 200
  for (let attempt = 1; ; attempt++) {
    if (options.pid !== undefined && !isAlive(options.pid)) {
      console.error(
        `wait-ready: broker process ${options.pid} exited before becoming ready (last error: ${lastError})`,
      )
      return 1
    }
    const remaining = deadline - Date.now()
    if (remaining <= 0) {
      console.error(
        `wait-ready: ${options.brokers.join(",")} not ready after ${options.timeoutMs} ms and ${attempt - 1} attempts (last error: ${lastError})`,
      )
      return 1
    }
    try {
      const description = await probe(options.brokers, remaining)
      console.error(`wait-ready: ready after ${Date.now() - started} ms (${description})`)
      return 0
    } catch (error) {
      lastError = (error as Error).message
    }
    // Short back-off between attempts: the broker usually needs a few seconds
    // of JVM start-up, and polling faster only steals CPU from it.
    await sleep(Math.min(delayMs, Math.max(0, deadline - Date.now())))
    delayMs = Math.min(delayMs * 2, 1_000)
  }
}

process.exitCode = await main()
