/**
 * The relay end to end on Kafka, with every service in its own process as
 * in a cluster: each one is killed with SIGKILL mid-run and started again,
 * and second consumer-group members join mid-run. Every message must reach
 * its recipient exactly once, with the payload that was sent.
 *
 * To investigate a failure, keep every child's log:
 * `CHORUS_E2E_LOGS=/tmp/e2e CHORUS_E2E_LOG_LEVEL=info npx vitest run --project e2e test/e2e/devnet.kafka.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { deleteChorusLog } from "../../bus/kafka/index.ts"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { quietLogger } from "../../services/runtime/index.ts"
import { type ChorusProcess, spawnChorus } from "../fixtures/chorus-process.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

const MESSAGES = 30
const SERVICES = ["chain-watcher", "proof-builder", "operator", "attestation-collector", "submitter"] as const
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("devnet on Kafka, services as processes", () => {
  const brokers = inject("kafkaBrokers")
  let devnet: Devnet
  const processes = new Map<string, ChorusProcess>()
  const extra: ChorusProcess[] = []
  const run = (service: string) =>
    spawnChorus([
      "run",
      service,
      "--config",
      devnet.configPath,
      "--log-level",
      process.env.CHORUS_E2E_LOG_LEVEL ?? "warn",
    ])

  beforeAll(async () => {
    // Other files of this run never touch Chorus topics; an earlier local run may have.
    await deleteChorusLog(brokers.split(","))
    devnet = await startDevnet({
      bus: { kind: "kafka", brokers: brokers.split(",") },
      runServices: false,
      logger: quietLogger(),
    })
  }, 180_000)

  afterAll(async () => {
    await Promise.allSettled([...processes.values(), ...extra].map((p) => p.kill("SIGTERM")))
    await devnet?.stop()
  }, 60_000)

  it("delivers every message exactly once through kill -9s and new group members", async () => {
    for (const service of SERVICES) processes.set(service, run(service))
    const sending = devnet.send({ messages: MESSAGES, rate: 3 })
    for (const service of SERVICES) {
      await sleep(2_000)
      const victim = processes.get(service)!
      await victim.kill("SIGKILL")
      processes.set(service, run(service))
    }
    // Scale out: a second member of the lane services' consumer groups.
    extra.push(run("proof-builder"), run("attestation-collector"))
    const sent = await sending

    const diagnostics = () =>
      [...processes.entries()].map(([name, p]) => `--- ${name}\n${p.stderr().slice(-2_000)}`).join("\n")
    await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 240_000, diagnostics })
  }, 420_000)
})
