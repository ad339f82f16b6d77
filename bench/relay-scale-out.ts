/**
 * `bench:relay --scale-out`: throughput with one member per lane service, then with more, on a 3-broker
 * Kafka cluster with a broker killed mid-run (issue 13, part 4).
 *
 * Each run is the chaos harness (`bench/chaos/main.ts`) with only its broker fault: every service as its own
 * `chorus run` process, the run's own cluster (`--kafka local --kafka-brokers 3`: replication factor 3,
 * `min.insync.replicas` 2), and broker 2 killed with SIGKILL while the traffic runs, held down 10 s, started
 * again. The runs differ only in `--members`: each instance of the proof-builder, every operator, the
 * attestation-collector and every submitter runs as that many processes in its consumer group (a
 * submitter's extra members stand by, fenced). Same seed, same traffic.
 *
 * Throughput comes from the chains, not the log: the messages the Inboxes settled (delivered, or failed at
 * their recipient) over the time from the first message's block to the last settle's block. The traffic is
 * sent faster than one member per service relays (`--rate`), so the figure is the relay's capacity, not the
 * rate asked. Each run's verdict (lost, duplicated, stranded: from the chains) shows the killed broker lost
 * nothing.
 *
 * @module
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const CHAOS = fileURLToPath(new URL("./chaos/main.ts", import.meta.url))

export interface ScaleOutRun {
  readonly members: number
  readonly sent: number
  readonly settled: number
  readonly settledPerS: number | null
  readonly settleSeconds: number | null
  readonly lost: number
  readonly duplicated: number
  readonly stranded: number
  /** What the broker fault did (empty when it was not done). */
  readonly brokerFault: string
  readonly passed: boolean
}

interface ChaosLine {
  readonly sent: number
  readonly delivered: number
  readonly failedAtRecipient: number
  readonly lost: number
  readonly duplicated: number
  readonly stranded: number
  readonly settledPerS: number | null
  readonly settleSeconds: number | null
  readonly faultsDoneDetail: ReadonlyArray<string>
}

/** One chaos run on the run's own 3-broker cluster, with only the broker fault; resolves with its figures. */
const runOnce = async (
  options: {
    readonly messages: number
    readonly rate: number
    readonly seed: number
    readonly members: number
    readonly scaled: string | undefined
  },
  log: (line: string) => void,
): Promise<ScaleOutRun> => {
  const args = [
    CHAOS,
    "--messages",
    String(options.messages),
    "--rate",
    String(options.rate),
    "--seed",
    String(options.seed),
    "--kafka",
    "local",
    "--kafka-brokers",
    "3",
    "--members",
    String(options.members),
    ...(options.scaled !== undefined && options.members > 1 ? ["--scaled", options.scaled] : []),
    "--faults",
    "broker",
    "--log-level",
    "warn",
    "--json",
  ]
  const label = `${options.members} member(s)`
  log(`${label}: node bench/chaos/main.ts ${args.slice(1).join(" ")}`)
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let partial = ""
  child.stdout.on("data", (chunk: Buffer) => {
    const text = chunk.toString()
    stdout += text
    const lines = (partial + text).split("\n")
    partial = lines.pop()!
    for (const line of lines) if (line.trim() !== "" && !line.startsWith("{")) log(`  ${label}: ${line}`)
  })
  child.stderr.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim() !== "") log(`  ${label}: ${line}`)
  })
  const code = await new Promise<number | null>((done) => child.on("close", done))
  const last = stdout.trim().split("\n").pop() ?? ""
  let line: ChaosLine
  try {
    line = JSON.parse(last) as ChaosLine
  } catch {
    throw new Error(
      `${label}: the chaos run (exit ${code}) printed no summary line; its output ended: ${last}`,
    )
  }
  return {
    members: options.members,
    sent: line.sent,
    settled: line.delivered + line.failedAtRecipient,
    settledPerS: line.settledPerS,
    settleSeconds: line.settleSeconds,
    lost: line.lost,
    duplicated: line.duplicated,
    stranded: line.stranded,
    brokerFault: line.faultsDoneDetail.find((d) => d.includes("broker")) ?? "",
    passed: code === 0,
  }
}

/**
 * Runs the relay with each member count in turn, on the same seed; resolves with every run's figures.
 *
 * @example
 * ```ts
 * const [one, two] = await runScaleOut({ messages: 6000, rate: 200, seed: 7, members: [1, 2] }, console.error)
 * two.settledPerS / one.settledPerS // the scale-out ratio
 * ```
 */
export const runScaleOut = async (
  options: {
    readonly messages: number
    readonly rate: number
    readonly seed: number
    readonly members: ReadonlyArray<number>
    /** The services that run several members (`--scaled` of the chaos run); all four when undefined. */
    readonly scaled?: string
  },
  log: (line: string) => void,
): Promise<ScaleOutRun[]> => {
  const runs: ScaleOutRun[] = []
  for (const members of options.members)
    runs.push(await runOnce({ ...options, members, scaled: options.scaled }, log))
  return runs
}
