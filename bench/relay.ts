/**
 * The relay end to end on both buses (issue 13): `npm run bench:relay [-- --messages 3000 --rate 100
 * --brokers host:port --chorus <checkout> --json]`. Ends with one JSON line of its figures.
 *
 * `--scale-out [--members 1,2 --scaled <services> --seed <n>]` measures scale-out instead (`relay-scale-out.ts`): the relay's
 * throughput with 1, then 2, processes per lane service on a 3-broker cluster with a broker killed mid-run,
 * from the chains, and the ratio (goal ≥ 1.6). Its JSON line: `{"mode":"scale-out","runs":[…],
 * "oneMemberMsgPerS","twoMembersMsgPerS","scaleOutRatio","lost","duplicated","stranded","ok"}`.
 *
 * It runs `chorus devnet --exit --json` twice, one after the other: on the embedded log, then on Kafka (its
 * own single-node broker from `scripts/kafka-local` unless `--brokers` names one, which must hold no Chorus
 * log but an earlier devnet's). Each run reports what its log says: messages sent and delivered, the rate
 * actually sent, latency p50 and p99 from source finality to the destination receipt, and per hop, and the
 * destination transactions it confirmed with their gas per message delivered (what batching saves). The CPU
 * figure is the whole devnet process's user + system CPU (its services, its tracker and its traffic; not the
 * anvils), measured from outside by a hook loaded into it, so any checkout can be measured the same way:
 * `--chorus <dir>` runs the devnet of another checkout (say, the commit before a change) for a before/after.
 *
 * Goals: Kafka p50 within 1.3× of embedded, both keeping up with the rate asked (sent rate within 10%), and
 * CPU per 1,000 messages a third of what it was.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { announce } from "./announce.ts"
import { startLocalBroker } from "./chaos/kafka-broker.ts"
import { positiveFlag } from "./positive-flag.ts"
import { runScaleOut } from "./relay-scale-out.ts"

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "3000" },
    rate: { type: "string", default: "100" },
    brokers: { type: "string" },
    chorus: { type: "string" },
    only: { type: "string" },
    "scale-out": { type: "boolean", default: false },
    members: { type: "string", default: "1,2" },
    scaled: { type: "string" },
    seed: { type: "string", default: "7" },
    json: { type: "boolean", default: false },
  },
})
announce(
  "bench:relay",
  values["scale-out"]
    ? "runs the relay with 1, then 2 processes per lane service on a 3-broker cluster, and kills a broker"
    : "runs the devnet relay on the embedded log and on Kafka (its own broker) and times every hop",
  values["scale-out"] ? "about 15 to 20 minutes" : "about 3 to 5 minutes",
)
const positive = (name: string, raw: string) => positiveFlag("bench:relay", name, raw)
const MESSAGES = positive("messages", values.messages)
const RATE = positive("rate", values.rate)
if (values.only !== undefined && values.only !== "embedded" && values.only !== "kafka") {
  console.error(`bench:relay: --only must be embedded or kafka, got ${JSON.stringify(values.only)}`)
  process.exit(2)
}
const CHORUS = resolve(values.chorus ?? fileURLToPath(new URL("..", import.meta.url)))
const NODE = process.execPath
const log = (line: string) => process.stderr.write(`${line}\n`)

interface DevnetFigures {
  readonly sent: number
  readonly delivered: number
  readonly failed: number
  readonly p50Ms: number | null
  readonly p99Ms: number | null
  readonly sentPerS?: number | null
  readonly hops?: Readonly<Record<string, { p50Ms: number | null; p99Ms: number | null }>>
  /** Absent from the summary of a checkout older than these figures. */
  readonly deliveryTransactions?: number
  readonly gasPerMessage?: number | null
  readonly ok: boolean
  readonly cpuSeconds: number
}

/** Runs one devnet to its end; its summary line plus the process's CPU, read by the exit hook. */
const runDevnet = async (
  workDir: string,
  label: string,
  extra: ReadonlyArray<string>,
): Promise<DevnetFigures> => {
  const cpuFile = join(workDir, `${label}.cpu.json`)
  const hook = join(workDir, "cpu-at-exit.mjs")
  writeFileSync(
    hook,
    `import { writeFileSync } from "node:fs"\n` +
      `process.on("exit", () => writeFileSync(${JSON.stringify(cpuFile)}, JSON.stringify(process.cpuUsage())))\n`,
  )
  const args = [
    "--import",
    hook,
    join(CHORUS, "bin/chorus.js"),
    "devnet",
    "--messages",
    String(MESSAGES),
    "--rate",
    String(RATE),
    "--exit",
    "--json",
    "--data-dir",
    join(workDir, label),
    ...extra,
  ]
  log(
    `${label}: chorus devnet --messages ${MESSAGES} --rate ${RATE}${extra.length > 0 ? ` ${extra.join(" ")}` : ""}`,
  )
  const child = spawn(NODE, args, { cwd: CHORUS, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim() !== "") log(`  ${label}: ${line}`)
  })
  const code = await new Promise<number | null>((done) => child.on("close", done))
  const last = stdout.trim().split("\n").pop() ?? ""
  let summary: Omit<DevnetFigures, "cpuSeconds">
  try {
    summary = JSON.parse(last)
  } catch {
    throw new Error(`${label}: the devnet (exit ${code}) printed no summary line; its output ended: ${last}`)
  }
  const cpu = JSON.parse(readFileSync(cpuFile, "utf8")) as { user: number; system: number }
  return { ...summary, cpuSeconds: Math.round((cpu.user + cpu.system) / 10_000) / 100 }
}

const perThousand = (figures: DevnetFigures) =>
  figures.delivered === 0 ? null : Math.round((figures.cpuSeconds * 1000 * 100) / figures.delivered) / 100

const scaleOut = async () => {
  const members = values.members.split(",").map((m) => positive("members", m.trim()))
  const seed = Number(values.seed)
  if (!/^\d+$/.test(values.seed) || seed > 4_294_967_295) {
    console.error(
      `bench:relay: --seed must be a whole number up to 4294967295, got ${JSON.stringify(values.seed)}`,
    )
    process.exit(2)
  }
  const runs = await runScaleOut(
    { messages: MESSAGES, rate: RATE, seed, members, scaled: values.scaled },
    log,
  )
  const rateOf = (m: number) => runs.find((r) => r.members === m)?.settledPerS ?? null
  const one = rateOf(1)
  const two = rateOf(2)
  const sum = (key: "lost" | "duplicated" | "stranded") => runs.reduce((total, r) => total + r[key], 0)
  const figures = {
    mode: "scale-out",
    messages: MESSAGES,
    rate: RATE,
    seed,
    scaled: values.scaled ?? "proof-builder,operator,attestation-collector,submitter",
    runs,
    oneMemberMsgPerS: one,
    twoMembersMsgPerS: two,
    scaleOutRatio: one !== null && two !== null ? Math.round((two / one) * 100) / 100 : null,
    lost: sum("lost"),
    duplicated: sum("duplicated"),
    stranded: sum("stranded"),
    ok: runs.every((r) => r.passed && r.brokerFault !== ""),
  }
  if (!values.json) {
    for (const r of runs)
      log(
        `${r.members} member(s): ${r.settled}/${r.sent} settled at ${r.settledPerS} msg/s; lost ${r.lost}, duplicated ${r.duplicated}, stranded ${r.stranded}; ${r.brokerFault || "broker fault NOT done"}`,
      )
    log(`scale-out ratio ${figures.scaleOutRatio} (goal ≥ 1.6)`)
  }
  console.log(JSON.stringify(figures))
  if (!figures.ok) process.exitCode = 1
}

const main = async () => {
  const workDir = mkdtempSync(join(tmpdir(), "chorus-bench-relay-"))
  let broker: Awaited<ReturnType<typeof startLocalBroker>> | undefined
  try {
    const embedded = values.only === "kafka" ? undefined : await runDevnet(workDir, "embedded", [])
    let kafka: DevnetFigures | undefined
    if (values.only !== "embedded") {
      if (values.brokers === undefined) {
        log("starting a single-node Kafka broker (scripts/kafka-local)…")
        broker = await startLocalBroker(join(workDir, "kafka"), join(workDir, "kafka.log"))
      }
      const brokers = values.brokers ?? broker!.brokers.join(",")
      kafka = await runDevnet(workDir, "kafka", ["--kafka", brokers])
    }
    const figures = {
      messages: MESSAGES,
      rate: RATE,
      sent: (embedded ?? kafka)!.sent,
      delivered: (embedded ?? kafka)!.delivered,
      embeddedP50Ms: embedded?.p50Ms ?? null,
      embeddedP99Ms: embedded?.p99Ms ?? null,
      kafkaP50Ms: kafka?.p50Ms ?? null,
      kafkaP99Ms: kafka?.p99Ms ?? null,
      kafkaDelivered: kafka?.delivered ?? null,
      embeddedSentPerS: embedded?.sentPerS ?? null,
      kafkaSentPerS: kafka?.sentPerS ?? null,
      kafkaOverEmbeddedP50:
        embedded?.p50Ms && kafka?.p50Ms ? Math.round((kafka.p50Ms / embedded.p50Ms) * 100) / 100 : null,
      cpuSecondsPer1000: perThousand((embedded ?? kafka)!),
      embeddedCpuSecondsPer1000: embedded === undefined ? null : perThousand(embedded),
      kafkaCpuSecondsPer1000: kafka === undefined ? null : perThousand(kafka),
      embeddedDeliveryTransactions: embedded?.deliveryTransactions ?? null,
      kafkaDeliveryTransactions: kafka?.deliveryTransactions ?? null,
      embeddedGasPerMessage: embedded?.gasPerMessage ?? null,
      kafkaGasPerMessage: kafka?.gasPerMessage ?? null,
      embeddedHops: embedded?.hops ?? null,
      kafkaHops: kafka?.hops ?? null,
      ok: (embedded?.ok ?? true) && (kafka?.ok ?? true),
    }
    if (!values.json) {
      log(
        `embedded: p50 ${figures.embeddedP50Ms} ms, p99 ${figures.embeddedP99Ms} ms, sent ${figures.embeddedSentPerS}/s, ` +
          `${figures.embeddedCpuSecondsPer1000} CPU-s per 1,000, ${figures.embeddedDeliveryTransactions} delivery transactions, ` +
          `${figures.embeddedGasPerMessage} gas per message`,
      )
      log(
        `kafka:    p50 ${figures.kafkaP50Ms} ms, p99 ${figures.kafkaP99Ms} ms, sent ${figures.kafkaSentPerS}/s, ` +
          `${figures.kafkaCpuSecondsPer1000} CPU-s per 1,000, ${figures.kafkaDeliveryTransactions} delivery transactions, ` +
          `${figures.kafkaGasPerMessage} gas per message (p50 ${figures.kafkaOverEmbeddedP50}× embedded; goal ≤ 1.3)`,
      )
    }
    console.log(JSON.stringify(figures))
  } finally {
    await broker?.release()
    rmSync(workDir, { recursive: true, force: true })
  }
}

await (values["scale-out"] ? scaleOut() : main())
