/**
 * Is memory flat? `npm run soak [-- --minutes 30 --rate 50 --sample-s 60 --warmup-minutes 5 --kafka <brokers>
 * --json]` (issue 13). Ends with one JSON line of its figures.
 *
 * It runs `chorus devnet --exit` for `minutes` at `rate` messages per second (every service in one process, on
 * the embedded log unless `--kafka` names brokers) and reads that process's resident set size
 * (`/proc/<pid>/status`, VmRSS) every `sample-s` seconds, printing one line per sample with what the devnet
 * reported delivered by then. At the end it fits a line through the samples after the warm-up (least squares)
 * and gives its slope in MB per minute: flat memory is a slope near 0, a leak is a slope that stays positive
 * however long the run. The devnet's own verdict (every message delivered exactly once) is part of the result.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { positiveFlag } from "./positive-flag.ts"

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    rate: { type: "string", default: "50" },
    "sample-s": { type: "string", default: "60" },
    "warmup-minutes": { type: "string" },
    kafka: { type: "string" },
    json: { type: "boolean", default: false },
  },
})
const MINUTES = positiveFlag("soak", "minutes", values.minutes)
const RATE = positiveFlag("soak", "rate", values.rate)
const SAMPLE_S = positiveFlag("soak", "sample-s", values["sample-s"])
const WARMUP_MINUTES =
  values["warmup-minutes"] === undefined
    ? Math.min(5, Math.floor(MINUTES / 3))
    : positiveFlag("soak", "warmup-minutes", values["warmup-minutes"])
const MESSAGES = MINUTES * 60 * RATE
const CHORUS = fileURLToPath(new URL("../bin/chorus.js", import.meta.url))
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
  const args = [
    CHORUS,
    "devnet",
    "--messages",
    String(MESSAGES),
    "--rate",
    String(RATE),
    "--exit",
    "--json",
    "--data-dir",
    join(dataDir, "devnet"),
    ...(values.kafka === undefined ? [] : ["--kafka", values.kafka]),
  ]
  log(
    `soak: ${MINUTES} min at ${RATE} msg/s (${MESSAGES} messages) on ${values.kafka === undefined ? "the embedded log" : `Kafka ${values.kafka}`}, RSS every ${SAMPLE_S} s, warm-up ${WARMUP_MINUTES} min`,
  )
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let delivered = 0
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    const progress = /delivered (\d+)\//g
    for (const match of chunk.toString().matchAll(progress)) delivered = Number(match[1])
  })
  const started = Date.now()
  const samples: Array<{ minute: number; rssMb: number; delivered: number }> = []
  const sample = () => {
    const rssMb = rssMbOf(child.pid!)
    if (rssMb === null) return
    const minute = Math.round(((Date.now() - started) / 60_000) * 100) / 100
    samples.push({ minute, rssMb, delivered })
    log(
      `  minute ${minute.toFixed(2).padStart(6)}  RSS ${rssMb.toFixed(1).padStart(7)} MB  delivered ${delivered}`,
    )
  }
  const timer = setInterval(sample, SAMPLE_S * 1000)
  const code = await new Promise<number | null>((done) => child.on("close", done))
  clearInterval(timer)
  rmSync(dataDir, { recursive: true, force: true })
  const summary = (() => {
    try {
      return JSON.parse(stdout.trim().split("\n").pop() ?? "") as Record<string, unknown>
    } catch {
      return undefined
    }
  })()
  const steady = samples.filter((s) => s.minute >= WARMUP_MINUTES)
  const fitted = slope(steady.map((s) => [s.minute, s.rssMb] as const))
  const figures = {
    minutes: MINUTES,
    rate: RATE,
    sent: summary?.sent ?? null,
    delivered: summary?.delivered ?? null,
    devnetOk: summary?.ok === true && code === 0,
    rssAfterWarmupMb: steady[0]?.rssMb ?? null,
    rssEndMb: samples.at(-1)?.rssMb ?? null,
    rssMaxMb: samples.length === 0 ? null : Math.max(...samples.map((s) => s.rssMb)),
    rssSlopeMbPerMinute: fitted === null ? null : Math.round(fitted * 1000) / 1000,
    samples: samples.map((s) => [s.minute, s.rssMb]),
  }
  if (!values.json) {
    log(
      `soak: RSS ${figures.rssAfterWarmupMb} MB after warm-up, ${figures.rssEndMb} MB at the end, ` +
        `slope ${figures.rssSlopeMbPerMinute} MB/min; devnet ${figures.devnetOk ? "ok" : `not ok (exit ${code})`}`,
    )
  }
  console.log(JSON.stringify(figures))
  process.exitCode = figures.devnetOk ? 0 : 1
}

await main()
