/**
 * The relay end to end on Kafka, with every service in its own process as
 * in a cluster: each one is killed with SIGKILL mid-run and started again,
 * and second consumer-group members join mid-run — a second submitter too,
 * which stands by while the first holds the destinations. Then the first
 * submitter is paused (SIGSTOP) past its session: the standby takes over,
 * and the paused one, running again, is fenced rather than sending on its
 * stale view. Every message must reach its recipient exactly once, with the
 * payload that was sent.
 *
 * To investigate a failure, keep every child's log:
 * `CHORUS_E2E_LOGS=/tmp/e2e CHORUS_E2E_LOG_LEVEL=info npx vitest run --project e2e test/e2e/devnet.kafka.test.ts`.
 */

import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { type Devnet, KAFKA_CONSUMER_TUNING } from "../../cli/devnet/devnet.ts"
import { runExplorer } from "../../explorer/run-explorer.ts"
import { type ChorusProcess, spawnChorus } from "../fixtures/chorus-process.ts"
import { runCli } from "../fixtures/run-cli.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"
import { startKafkaDevnet } from "./kafka-devnet.ts"

const MESSAGES = 45
const SERVICES = ["chain-watcher", "proof-builder", "operator", "attestation-collector", "submitter"] as const
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const cli = runCli

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
    devnet = await startKafkaDevnet(brokers)
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
    // Scale out: a second member of the lane services' consumer groups, and a standby submitter.
    extra.push(run("proof-builder"), run("attestation-collector"), run("submitter"))
    // A zombie: the active submitter frozen past its session (devnet: 10 s), then running again.
    await sleep(3_000)
    const frozen = processes.get("submitter")!
    frozen.child.kill("SIGSTOP")
    await sleep(KAFKA_CONSUMER_TUNING.sessionTimeoutMs + 5_000)
    frozen.child.kill("SIGCONT")
    const sent = await sending

    const diagnostics = () =>
      [...processes.entries()].map(([name, p]) => `--- ${name}\n${p.stderr().slice(-2_000)}`).join("\n")
    await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 240_000, diagnostics })
  }, 420_000)

  it("the incident tools read the same log from Kafka: trace, messages, and replay with an empty diff", async () => {
    const flags = [
      "--brokers",
      brokers,
      "--index",
      join(devnet.dataDir, "kafka-audit.sqlite"),
      "--config",
      devnet.configPath,
    ]
    const id = devnet.tracker.messages()[0]!.messageId!
    const traced = await cli(["trace", id, ...flags, "--json"])
    expect(traced.code, traced.text).toBe(0)
    const stages = JSON.parse(traced.out.join("")).steps.map((s: { stage: string }) => s.stage)
    for (const stage of ["observed", "proposed", "signed", "attested", "delivered"])
      expect(stages).toContain(stage)
    const listed = await cli(["messages", ...flags, "--status", "delivered"])
    expect(listed.out.at(-1)).toBe(`${MESSAGES} message(s) match`)
    // The explorer over the same log from Kafka: its API counts and traces what the CLI does.
    const explorer = await runExplorer(
      { brokers, index: join(devnet.dataDir, "kafka-audit.sqlite"), config: devnet.configPath },
      { host: "127.0.0.1", port: 0 },
      () => undefined,
    )
    try {
      const summary = (await (await fetch(new URL("/api/summary", explorer.url))).json()) as {
        counts: { delivered: number }
        freshness: { error: string | null }
      }
      expect(summary.counts.delivered).toBe(MESSAGES)
      expect(summary.freshness.error).toBeNull()
      const timeline = (await (await fetch(new URL(`/api/messages/${id}`, explorer.url))).json()) as {
        steps: Array<{ stage: string }>
        retry: { command: string }
      }
      expect(timeline.steps.map((s) => s.stage)).toEqual(stages)
      expect(timeline.retry.command).toBe(
        `chorus retry ${id.toLowerCase()} --brokers ${brokers} --config ${devnet.configPath}`,
      )
    } finally {
      await explorer.close()
    }
    const replayed = await cli([
      "replay",
      "proof-builder",
      "--config",
      devnet.configPath,
      "--brokers",
      brokers,
      "--from",
      "0",
    ])
    expect(replayed.code, replayed.text).toBe(0)
    const diffs = replayed.out
      .filter((line) => line.trim().startsWith("chorus diff "))
      .map((line) => line.trim().split(/\s+/).slice(1))
    expect(diffs.length).toBeGreaterThan(0)
    for (const args of diffs) {
      const compared = await cli(args)
      expect(compared.code, compared.text).toBe(0)
      expect(compared.text).toMatch(/0 changed · 0 missing · 0 extra/)
    }
  }, 120_000)
})
