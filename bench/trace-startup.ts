/**
 * How long `chorus trace` takes as an operator runs it, process start-up included (issue 13: ≤ 300 ms):
 * `node bench/trace-startup.ts [--messages 3000 --runs 20 --chorus <checkout> --baseline <checkout> --json]`.
 * Ends with one JSON line of its figures (`traceWallP50Ms`, `traceWallP99Ms`, …).
 *
 * It writes a small synthetic relay log to a fresh embedded bus (as `bench:trace` does: per lane, per
 * checkpoint of 10 messages, the observations, the proposal, the range proof, 3 signatures with their
 * verdicts, the attestation, a submitted and a confirmed `commitAndDeliver`), builds the audit index once,
 * closes the log, then runs `node bin/chorus.js trace <id> --data-dir <dir>` as a child process `--runs`
 * times, one after another, each for another delivered message, and reports the wall time of each run from
 * spawn to exit (p50, p99). A first, untimed run fills Node's compile cache (see bin/chorus.js), as any
 * earlier call would have; `traceNoCompileCacheWallP50Ms` is the same without it. `traceOwnedLogWall…` is
 * trace while another process owns the log, as while a devnet runs: it then reads the log through that
 * process's socket instead of opening it. For scale it also times `node -e 0` (Node's own start-up),
 * `chorus --help` and `--json`. Every run's output is checked: exit 0 and the message's timeline, so a fast
 * wrong answer does not count.
 *
 * `--chorus <checkout>` times that checkout's bin/chorus.js instead of this one's; `--baseline <checkout>`
 * times another one too (`baselineTraceWallP50Ms`, …), the two taking turns run by run: before and after a
 * change, in one run on one machine. Each then reads its own copy of the index (`--index`), so two checkouts
 * of different index versions do not rebuild it for each other.
 */
import { spawn, spawnSync } from "node:child_process"
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import { openEmbeddedBus } from "../bus/embedded/index.ts"
import { percentile } from "../cli/devnet/tracker.ts"
import { AuditStore, auditIndexPath, catchUp } from "../services/auditor/index.ts"
import { ALL_TOPICS } from "../topology/index.ts"
import { announce } from "./announce.ts"
import { positiveFlag } from "./positive-flag.ts"
import { LANES, writeRelayLog } from "./synthetic-relay-log.ts"

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "3000" },
    runs: { type: "string", default: "20" },
    chorus: { type: "string" },
    baseline: { type: "string" },
    json: { type: "boolean", default: false },
  },
})
announce(
  "bench:trace-startup",
  "times `chorus trace` as a process, start-up included, on a synthetic log",
  "about 1 minute",
)
const MESSAGES = positiveFlag("bench:trace-startup", "messages", values.messages)
const RUNS = positiveFlag("bench:trace-startup", "runs", values.runs)
const GOAL_MS = 300
const log = (line: string) => {
  if (!values.json) process.stderr.write(`${line}\n`)
}

const dir = mkdtempSync(join(tmpdir(), "chorus-bench-trace-startup-"))
const dataDir = join(dir, "log")
const binOf = (checkout: string) => resolve(checkout, "bin/chorus.js")
const CHORUS = binOf(values.chorus ?? join(import.meta.dirname, ".."))
const BASELINE = values.baseline === undefined ? undefined : binOf(values.baseline)
for (const bin of [CHORUS, ...(BASELINE === undefined ? [] : [BASELINE])]) {
  if (!existsSync(bin)) {
    console.error(`bench:trace-startup: no ${bin}: --chorus and --baseline name a Chorus checkout`)
    process.exit(2)
  }
}

/** Writes the log; returns every message id in it, all delivered. */
const writeLog = async (): Promise<{ ids: string[]; records: number }> => {
  const bus = await openEmbeddedBus({ dataDir, serve: false })
  try {
    await bus.ensureTopics(ALL_TOPICS)
    const perLane = Math.ceil(MESSAGES / LANES.length)
    const { ids, records } = await writeRelayLog(bus, { from: 0, to: perLane, perLane, t0: Date.now() })
    // The index, built once here, as `chorus trace --data-dir` finds it: every timed run only catches up.
    const store = AuditStore.open(auditIndexPath({ dataDir }))
    try {
      await catchUp(bus, store)
    } finally {
      store.close()
    }
    return { ids, records }
  } finally {
    await bus.close()
  }
}

/** Another process that opens the log and serves it, as a running devnet does, until `stop`. */
const holdLog = async (): Promise<{ stop: () => Promise<void> }> => {
  const embedded = pathToFileURL(join(import.meta.dirname, "..", "bus", "embedded", "index.ts")).href
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const { openEmbeddedBus } = await import(${JSON.stringify(embedded)})
       const bus = await openEmbeddedBus({ dataDir: ${JSON.stringify(dataDir)} })
       process.stdin.on("end", async () => { await bus.close(); process.exit(0) }).resume()
       console.log("ready")`,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  )
  const exited = new Promise<void>((done) => child.once("exit", () => done()))
  await new Promise<void>((ready, failed) => {
    child.stdout.once("data", () => ready())
    child.once("exit", (code) => failed(new Error(`bench:trace-startup: the log's owner exited (${code})`)))
  })
  return {
    stop: async () => {
      child.stdin.end()
      await exited
    },
  }
}

type Check = (stdout: string, status: number | null) => void

/** Runs one command to its exit; its wall time in ms, after checking what it said. */
const timeRun = (args: ReadonlyArray<string>, check: Check, env?: NodeJS.ProcessEnv): number => {
  const started = performance.now()
  const run = spawnSync(process.execPath, args, {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, ...env },
  })
  const wallMs = performance.now() - started
  if (run.error !== undefined) throw run.error
  try {
    check(run.stdout, run.status)
  } catch (error) {
    throw new Error(`bench:trace-startup: ${args.join(" ")}: ${(error as Error).message}\n${run.stderr}`)
  }
  return wallMs
}

const p50p99 = (label: string, ms: ReadonlyArray<number>) => {
  const p50 = Math.round(percentile(ms, 0.5)!)
  const p99 = Math.round(percentile(ms, 0.99)!)
  log(`${label}, ${ms.length} runs: p50 ${p50} ms, p99 ${p99} ms`)
  return { p50, p99 }
}

const isTimeline: Check = (stdout, status) => {
  if (status !== 0) throw new Error(`exit ${status}, expected 0 (delivered)`)
  if (!/^message 0x[0-9a-f]{64}\n/.test(stdout) || !stdout.includes("status delivered"))
    throw new Error(`not a delivered message's timeline:\n${stdout}`)
}
const isJsonTimeline: Check = (stdout, status) => {
  const parsed = JSON.parse(stdout) as { found?: boolean; status?: string }
  if (status !== 0 || parsed.found !== true || parsed.status !== "delivered")
    throw new Error(`exit ${status}: ${stdout}`)
}
const isHelp: Check = (stdout, status) => {
  if (status !== 0 || !stdout.includes("Usage: chorus <command>")) throw new Error(`exit ${status}`)
}

try {
  const writeStarted = Date.now()
  const { ids, records } = await writeLog()
  log(
    `log: ${ids.length} messages, ${records} records, written and indexed in ${Date.now() - writeStarted} ms`,
  )
  // Spread over the log, the same ids every run of the bench.
  const idOf = (i: number) => ids[Math.floor(((i + 0.5) * ids.length) / RUNS) % ids.length]!
  // Two checkouts may index the log differently (another INDEX_VERSION): each then keeps its own copy of
  // the index, or every run would rebuild it for the other. One checkout uses the one built above.
  const indexOf = new Map<string, string>()
  if (values.chorus !== undefined || BASELINE !== undefined) {
    for (const [name, bin] of [
      ["chorus", CHORUS],
      ["baseline", BASELINE],
    ] as const) {
      if (bin === undefined) continue
      const copy = join(dir, `index-${name}.sqlite`)
      copyFileSync(auditIndexPath({ dataDir }), copy)
      indexOf.set(bin, copy)
    }
  }
  const traceArgs = (bin: string, i: number, ...more: string[]) => {
    const index = indexOf.get(bin)
    return [
      bin,
      "trace",
      idOf(i),
      "--data-dir",
      dataDir,
      ...(index === undefined ? [] : ["--index", index]),
      ...more,
    ]
  }
  const SHORT = Math.min(RUNS, 10)
  const node = p50p99(
    "node -e 0",
    Array.from({ length: SHORT }, () => timeRun(["-e", "0"], () => {})),
  )

  // One untimed run per checkout first: it fills Node's compile cache, as any earlier call would have (and
  // rebuilds the index copy of a checkout that indexes otherwise).
  for (const bin of [CHORUS, ...(BASELINE === undefined ? [] : [BASELINE])])
    timeRun(traceArgs(bin, 0), isTimeline)
  // The checkouts take turns run by run, so a machine that gets busier part-way slows both alike.
  const alternate = (label: string, count: number) => {
    const runs = { chorus: [] as number[], baseline: [] as number[] }
    for (let i = 0; i < count; i++) {
      runs.chorus.push(timeRun(traceArgs(CHORUS, i), isTimeline))
      if (BASELINE !== undefined) runs.baseline.push(timeRun(traceArgs(BASELINE, i), isTimeline))
    }
    return {
      chorus: p50p99(`${label} (${CHORUS})`, runs.chorus),
      baseline: BASELINE === undefined ? undefined : p50p99(`${label} (${BASELINE})`, runs.baseline),
    }
  }
  const { chorus: trace, baseline } = alternate("chorus trace <id> --data-dir <dir>", RUNS)
  // While a devnet (or `chorus run`) owns the log, trace reads it through the owner's socket instead of
  // opening (and checking) every segment itself.
  const owner = await holdLog()
  const owned = await (async () => {
    try {
      return alternate("the same, while another process owns the log", SHORT)
    } finally {
      await owner.stop()
    }
  })()
  const traceJson = p50p99(
    "chorus trace <id> --data-dir <dir> --json",
    Array.from({ length: SHORT }, (_, i) => timeRun(traceArgs(CHORUS, i, "--json"), isJsonTimeline)),
  )
  const noCache = p50p99(
    "chorus trace, NODE_DISABLE_COMPILE_CACHE=1",
    Array.from({ length: SHORT }, (_, i) =>
      timeRun(traceArgs(CHORUS, i), isTimeline, { NODE_DISABLE_COMPILE_CACHE: "1" }),
    ),
  )
  const help = p50p99(
    "chorus --help",
    Array.from({ length: SHORT }, () => timeRun([CHORUS, "--help"], isHelp)),
  )
  const figures = {
    messages: ids.length,
    records,
    runs: RUNS,
    traceWallP50Ms: trace.p50,
    traceWallP99Ms: trace.p99,
    ...(baseline === undefined
      ? {}
      : { baselineTraceWallP50Ms: baseline.p50, baselineTraceWallP99Ms: baseline.p99 }),
    traceOwnedLogWallP50Ms: owned.chorus.p50,
    traceOwnedLogWallP99Ms: owned.chorus.p99,
    ...(owned.baseline === undefined
      ? {}
      : {
          baselineTraceOwnedLogWallP50Ms: owned.baseline.p50,
          baselineTraceOwnedLogWallP99Ms: owned.baseline.p99,
        }),
    traceJsonWallP50Ms: traceJson.p50,
    traceNoCompileCacheWallP50Ms: noCache.p50,
    helpWallP50Ms: help.p50,
    nodeStartupP50Ms: node.p50,
    goalMs: GOAL_MS,
  }
  log(
    `goal: trace ≤ ${GOAL_MS} ms, start-up included: p50 ${trace.p50 <= GOAL_MS ? "met" : "not met"}, p99 ${trace.p99 <= GOAL_MS ? "met" : "not met"}`,
  )
  console.log(JSON.stringify(figures))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
