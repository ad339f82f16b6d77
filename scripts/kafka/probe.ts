/**
 * Is a Kafka broker really there? Shared by `scripts/kafka/wait-ready.ts`
 * (readiness after `scripts/kafka-local start`) and the test fixture (checking
 * a `KAFKA_BROKERS` it was handed).
 *
 * Ready means a kafkajs admin client connects, `describeCluster` returns at
 * least one broker and a controller (the KRaft quorum has elected itself and
 * the broker has opened its client listener), and the group coordinator
 * answers. The last part creates and loads `__consumer_offsets` on a fresh
 * broker, which otherwise happens on the first test's group join and makes it
 * fail with GROUP_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE.
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs"
import { isAlive } from "../../bus/embedded/lock.ts"
import { type KafkaSecurity, kafkaSecurityFromEnv, toKafkaJS } from "../../bus/kafka/security.ts"

/** Options for {@link waitForKafka}. */
export interface WaitForKafkaOptions {
  /** Bootstrap addresses, `host:port`. */
  readonly brokers: readonly string[]
  /** Give up after this long, in milliseconds. */
  readonly timeoutMs: number
  /** Give up as soon as this process exits: a broker that crashed will never answer. */
  readonly pid?: number
  /** TLS and SASL; default from the environment (`CHORUS_KAFKA_*`), as every Chorus client. */
  readonly security?: KafkaSecurity
}

/** The outcome of {@link waitForKafka}; `ok: false` says why in `reason`. */
export type KafkaProbeResult =
  | { readonly ok: true; readonly elapsedMs: number; readonly description: string }
  | { readonly ok: false; readonly elapsedMs: number; readonly reason: string }

/**
 * Polls the brokers until they answer or the deadline passes. Never throws:
 * the caller decides how to report a broker that is not there.
 *
 * @example
 * ```ts
 * const result = await waitForKafka({ brokers: ["127.0.0.1:9092"], timeoutMs: 10_000 })
 * if (!result.ok) throw new Error(`Kafka is not answering: ${result.reason}`)
 * ```
 */
export async function waitForKafka(options: WaitForKafkaOptions): Promise<KafkaProbeResult> {
  const started = Date.now()
  const deadline = started + options.timeoutMs
  let lastError = "no attempt made"
  let delayMs = 200
  let security: KafkaSecurity | undefined
  try {
    security = options.security ?? kafkaSecurityFromEnv()
  } catch (error) {
    return { ok: false, elapsedMs: 0, reason: (error as Error).message }
  }
  for (let attempt = 1; ; attempt++) {
    if (options.pid !== undefined && !isAlive(options.pid)) {
      return {
        ok: false,
        elapsedMs: Date.now() - started,
        reason: `broker process ${options.pid} exited before becoming ready (last error: ${lastError})`,
      }
    }
    const remaining = deadline - Date.now()
    if (remaining <= 0) {
      return {
        ok: false,
        elapsedMs: Date.now() - started,
        reason: `${options.brokers.join(",")} not ready after ${options.timeoutMs} ms and ${attempt - 1} attempts (last error: ${lastError})`,
      }
    }
    try {
      const description = await probeOnce(options.brokers, remaining, security)
      return { ok: true, elapsedMs: Date.now() - started, description }
    } catch (error) {
      lastError = (error as Error).message
    }
    // Short back-off: the broker usually needs a few seconds of JVM start-up,
    // and polling faster only steals CPU from it.
    await sleep(Math.min(delayMs, Math.max(0, deadline - Date.now())))
    delayMs = Math.min(delayMs * 2, 1_000)
  }
}

async function probeOnce(
  brokers: readonly string[],
  budgetMs: number,
  security: KafkaSecurity | undefined,
): Promise<string> {
  const kafka = new Kafka({
    clientId: "chorus-kafka-probe",
    brokers: [...brokers],
    ...toKafkaJS(security),
    // The loop above owns retries and the deadline; kafkajs' own retry would
    // overshoot it and flood the console while the JVM boots.
    retry: { retries: 0 },
    connectionTimeout: Math.max(1, Math.min(3_000, budgetMs)),
    requestTimeout: Math.max(1, Math.min(10_000, budgetMs)),
    logLevel: logLevel.NOTHING,
  })
  const admin = kafka.admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    if (cluster.brokers.length === 0) throw new Error("describeCluster returned no brokers yet")
    if (cluster.controller === null || cluster.controller < 0) throw new Error("no active controller yet")
    // An unknown group is fine (state "Dead"); what matters is that a
    // coordinator was found and answered.
    await admin.describeGroups(["chorus-readiness-probe"])
    return `cluster ${cluster.clusterId}, brokers ${cluster.brokers.map((b) => `${b.host}:${b.port}`).join(",")}`
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
