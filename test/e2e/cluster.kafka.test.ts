/**
 * The cluster as an operator runs it on one machine: `chorus cluster up`
 * starts one `chorus run` process per unit of the plan (every chain-watcher,
 * two proof-builders in one group, every operator, the collector, the
 * set-watcher, a submitter per destination, the auditor) on Kafka, each
 * serving its metrics. Traffic must reach its recipients exactly once, the
 * submitters' `/metrics` must count what the recipients received, and
 * `chorus cluster down` must stop every process gracefully.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { alive, readClusterState } from "../../cli/cluster/cluster-state.ts"
import type { Devnet } from "../../cli/devnet/devnet.ts"
import { receivedPayloads } from "../../cli/devnet/recipients.ts"
import { runCli } from "../fixtures/run-cli.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"
import { startKafkaDevnet } from "./kafka-devnet.ts"

const MESSAGES = 18

describe("chorus cluster up and down, on Kafka", () => {
  const brokers = inject("kafkaBrokers")
  const stateDir = mkdtempSync(join(tmpdir(), "chorus-cluster-"))
  let devnet: Devnet

  beforeAll(async () => {
    devnet = await startKafkaDevnet(brokers)
  }, 180_000)

  afterAll(async () => {
    // Whatever the test left up goes down, then the chains.
    if (readClusterState(stateDir) !== undefined) await runCli(["cluster", "down", "--state-dir", stateDir])
    await devnet?.stop()
    rmSync(stateDir, { recursive: true, force: true })
  }, 90_000)

  it("runs every unit as a process, relays exactly once, counts it in /metrics, and stops every process", async () => {
    const up = await runCli([
      "cluster",
      "up",
      "--config",
      devnet.configPath,
      "--state-dir",
      stateDir,
      "--metrics-port",
      "19464",
    ])
    expect(up.code, up.text).toBe(0)
    const state = readClusterState(stateDir)!
    const names = state.processes.map((p) => p.name)
    expect(names).toEqual(
      expect.arrayContaining(["proof-builder", "proof-builder-2", "attestation-collector", "auditor"]),
    )
    expect(names.filter((n) => n.startsWith("submitter-"))).toHaveLength(3)
    expect(names.filter((n) => n.startsWith("operator-"))).toHaveLength(4)
    expect(state.processes.every((p) => alive(p.pid))).toBe(true)

    const sent = await devnet.send({ messages: MESSAGES, rate: 6 })
    await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 180_000 })

    let delivered = 0
    for (const p of state.processes.filter((q) => q.name.startsWith("submitter-"))) {
      const body = await (await fetch(`http://${p.metrics}/metrics`)).text()
      for (const line of body.split("\n")) {
        if (line.startsWith("chorus_messages_delivered_total{")) delivered += Number(line.split(" ")[1])
      }
    }
    expect(delivered).toBe((await receivedPayloads(devnet.world)).length)

    const down = await runCli(["cluster", "down", "--state-dir", stateDir])
    expect(down.code, down.text).toBe(0)
    expect(down.text).toContain(
      `stopped ${state.processes.length} of ${state.processes.length} process(es) gracefully`,
    )
    expect(state.processes.filter((p) => alive(p.pid)).map((p) => p.name)).toEqual([])
  }, 420_000)
})
