/**
 * Is memory flat? `npm run soak [-- --minutes 30 --rate 50 --sample-s 60 --warmup-minutes 5 --kafka <brokers>|local
 * --heap-mb <n> --json]` (issue 13). Ends with one JSON line of its figures.
 *
 * It runs the relay as it is deployed, each service process on its own (`chorus run all` on the embedded log,
 * one `chorus run <service>` process per instance on Kafka), through the chaos harness with no fault
 * (`bench/chaos/main.ts --faults none`): the devnet's chains and operators, `minutes` of traffic at `rate`
 * messages per second, and the verdict from the chains (every message delivered once, nothing lost). Every
 * `sample-s` seconds it reads each service process's resident set size (`/proc/<pid>/status`, VmRSS) and
 * prints it. At the end it fits a line through each process's samples after the warm-up and while the traffic
 * runs (least squares) and gives its slope in MB per minute, and the slope of the last half of those samples
 * alone: flat memory is a slope near 0 however long the run; a leak is a slope that stays positive in both
 * halves. `--heap-mb` runs each service process with `node --max-old-space-size=<n>`, the budget the runbook
 * tells an operator to give it: V8 then collects before its heap passes n MB, rather than when it likes. The samples after the traffic (the harness then reads the whole log and the chains for its
 * verdict, through the services' process) are printed and kept, and not fitted. The harness's own process, which keeps the tally of every message, is not a service and is
 * not measured.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { announce } from "./announce.ts"
import { positiveFlag } from "./positive-flag.ts"

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    rate: { type: "string", default: "50" },
    "sample-s": { type: "string", default: "60" },
    "warmup-minutes": { type: "string" },
    kafka: { type: "string" },
    "heap-mb": { type: "string" },
    json: { type: "boolean", default: false },
  },
})
announce(
  "soak",
  `runs a devnet with traffic for ${values.minutes} minute(s) and samples each service's memory`,
  `about ${values.minutes} minutes, plus 1 to start`,
)
const MINUTES = positiveFlag("soak", "minutes", values.minutes)
const RATE = positiveFlag("soak", "rate", values.rate)
const SAMPLE_S = positiveFlag("soak", "sample-s", values["sample-s"])
const WARMUP_MINUTES =
  values["warmup-minutes"] === undefined
    ? Math.min(5, Math.floor(MINUTES / 3))
    : positiveFlag("soak", "warmup-minutes", values["warmup-minutes"])
const HEAP_MB =
  values["heap-mb"] === undefined ? undefined : positiveFlag("soak", "heap-mb", values["heap-mb"])
const MESSAGES = MINUTES * 60 * RATE
const CHAOS = fileURLToPath(new URL("./chaos/main.ts", import.meta.url))
const log = (line: string) => process.stderr.write(`${line}\n`)

/** The resident set size of a process in MB, or null once it is gone. */
const rssMbOf = (pid: number): number | null => {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return match === null ? null : Math.round((Number(match[1]) / 1024) * 10) / 10
  } catch {
    return null
  }
}

/** The service processes of the run in `dir`, by what they run (`run all`, `run operator --instance …`). */
const serviceProcesses = (dir: string): Map<string, number> => {
  const found = new Map<string, number>()
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    let argv: string[]
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")
    } catch {
      continue
    }
    const run = argv.indexOf("run")
    if (
      run < 0 ||
      !argv.some((arg) => arg.includes("bin/chorus.js")) ||
      !argv.some((arg) => arg.startsWith(dir))
    ) {
      continue
    }
    const instance = argv.indexOf("--instance")
    const label = `${argv[run + 1]}${instance < 0 ? "" : `/${argv[instance + 1]}`}`
    // A service runs under a small launcher that ties it to the harness, with the same arguments: the service
    // is the one holding memory.
    const known = found.get(label)
    if (known === undefined || (rssMbOf(Number(entry)) ?? 0) > (rssMbOf(known) ?? 0))
      found.set(label, Number(entry))
  }
  return found
}

/** Least-squares slope of y over x. */
const slope = (points: ReadonlyArray<readonly [number, number]>): number | null => {
  if (points.length < 2) return null
  const n = points.length
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0)
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0)
  return sxx === 0 ? null : sxy / sxx
}

const main = async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "chorus-soak-"))
  const runDir = join(dataDir, "run")
  const args = [
    CHAOS,
    "--messages",
    String(MESSAGES),
    "--rate",
    String(RATE),
    "--faults",
    "none",
    "--seed",
    "1",
    "--data-dir",
    runDir,
    "--json",
    ...(values.kafka === undefined ? [] : ["--kafka", values.kafka]),
    ...(HEAP_MB === undefined ? [] : ["--heap-mb", String(HEAP_MB)]),
  ]
  log(
    `soak: ${MINUTES} min at ${RATE} msg/s (${MESSAGES} messages) on ${values.kafka === undefined ? "the embedded log" : `Kafka ${values.kafka}`}, RSS every ${SAMPLE_S} s, warm-up ${WARMUP_MINUTES} min`,
  )
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  let tail = ""
  child.stderr.on("data", (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000)
  })
  const started = Date.now()
  const samples = new Map<string, Array<readonly [number, number]>>()
  const sample = () => {
    const minute = Math.round(((Date.now() - started) / 60_000) * 100) / 100
    const line: string[] = []
    for (const [label, pid] of serviceProcesses(runDir)) {
      const rssMb = rssMbOf(pid)
      if (rssMb === null) continue
      const list = samples.get(label) ?? []
      list.push([minute, rssMb])
      samples.set(label, list)
      line.push(`${label} ${rssMb.toFixed(1)} MB`)
    }
    log(
      `  minute ${minute.toFixed(2).padStart(6)}  ${line.length === 0 ? "(no service process yet)" : line.join(" · ")}`,
    )
  }
  const timer = setInterval(sample, SAMPLE_S * 1000)
  const code = await new Promise<number | null>((done) => child.on("close", done))
  clearInterval(timer)
  const verdict = (() => {
    try {
      return JSON.parse(stdout.trim().split("\n").pop() ?? "") as Record<string, unknown>
    } catch {
      return undefined
    }
  })()
  if (verdict === undefined)
    log(`soak: the run printed no verdict (exit ${code}); its output ended:\n${tail}`)
  else rmSync(dataDir, { recursive: true, force: true })
  const processes = Object.fromEntries(
    [...samples].map(([label, points]) => {
      const steady = points.filter(([minute]) => minute >= WARMUP_MINUTES && minute <= MINUTES)
      const fitted = slope(steady)
      const lastHalf = slope(steady.slice(Math.floor(steady.length / 2)))
      const rounded = (value: number | null) => (value === null ? null : Math.round(value * 1000) / 1000)
      return [
        label,
        {
          rssAfterWarmupMb: steady[0]?.[1] ?? null,
          rssEndOfTrafficMb: steady.at(-1)?.[1] ?? null,
          rssEndMb: points.at(-1)?.[1] ?? null,
          rssMaxMb: Math.max(...points.map(([, rss]) => rss)),
          rssSlopeMbPerMinute: rounded(fitted),
          rssSlopeLastHalfMbPerMinute: rounded(lastHalf),
          samples: points,
        },
      ]
    }),
  )
  const slopes = Object.values(processes).flatMap((p) =>
    p.rssSlopeMbPerMinute === null ? [] : [p.rssSlopeMbPerMinute],
  )
  const figures = {
    minutes: MINUTES,
    rate: RATE,
    heapMb: HEAP_MB ?? null,
    sent: verdict?.sent ?? null,
    delivered: verdict?.delivered ?? null,
    lost: verdict?.lost ?? null,
    duplicated: verdict?.duplicated ?? null,
    stranded: verdict?.stranded ?? null,
    runOk: code === 0,
    maxRssSlopeMbPerMinute: slopes.length === 0 ? null : Math.max(...slopes),
    processes,
  }
  if (!values.json) {
    for (const [label, p] of Object.entries(processes)) {
      log(
        `soak: ${label}: RSS ${p.rssAfterWarmupMb} MB after warm-up, ${p.rssEndOfTrafficMb} MB at the end of the traffic (${p.rssEndMb} MB at the end), slope ${p.rssSlopeMbPerMinute} MB/min (last half ${p.rssSlopeLastHalfMbPerMinute})`,
      )
    }
    log(`soak: the run ${figures.runOk ? "passed" : `failed (exit ${code})`}`)
  }
  console.log(JSON.stringify(figures))
  process.exitCode = figures.runOk ? 0 : 1
}

await main()
