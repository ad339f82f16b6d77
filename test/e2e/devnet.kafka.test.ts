/**
 * The relay end to end on Kafka, with every service in its own process as
 * in a cluster: each one is killed with SIGKILL mid-run and started again,
 * and second consumer-group members join mid-run. Every message must reach
 * its recipient exactly once, with the payload that was sent.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { deleteChorusLog } from "../../bus/kafka/index.ts"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { quietLogger } from "../../services/runtime/index.ts"
import { type ChorusProcess, spawnChorus } from "../fixtures/chorus-process.ts"
import { receivedPayloads } from "./recipients.ts"

const MESSAGES = 30
const SERVICES = ["chain-watcher", "proof-builder", "operator", "attestation-collector", "submitter"] as const
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("devnet on Kafka, services as processes", () => {
  const brokers = inject("kafkaBrokers")
  let devnet: Devnet
  const processes = new Map<string, ChorusProcess>()
  const extra: ChorusProcess[] = []
  const run = (service: string) =>
    spawnChorus(["run", service, "--config", devnet.configPath, "--log-level", "warn"])

  beforeAll(async () => {
    // Other files of this run never touch Chorus topics; an earlier local run may have.
    await deleteChorusLog(brokers.split(","))
    devnet = await startDevnet({ bus: { kind: "kafka", brokers: brokers.split(",") }, runServices: false, logger: quietLogger() })
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

    const deadline = Date.now() + 240_000
    for (;;) {
      await devnet.poll()
      const { counts } = devnet.tracker.progress()
      if (counts.delivered + counts.failed >= MESSAGES || Date.now() > deadline) break
      await sleep(1_000)
    }
    const progress = devnet.tracker.progress()
    const logs = [...processes.entries()].map(([name, p]) => `--- ${name}\n${p.stderr().slice(-2_000)}`).join("\n")
    expect(progress.counts, logs).toMatchObject({ sent: MESSAGES, delivered: MESSAGES, failed: 0 })
    expect(progress.duplicates).toBe(0)

    const received = await receivedPayloads(devnet.world)
    const key = (m: { srcChainId: number; dstChainId: number; body: string }) =>
      `${m.srcChainId}->${m.dstChainId}:${m.body.toLowerCase()}`
    expect(received.map(key).sort()).toEqual(sent.map(key).sort())
  }, 420_000)
})
