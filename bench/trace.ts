/**
 * How fast the incident tools answer on a big log: `npm run bench:trace`
 * (`-- --messages 100000` by default; `--json` leaves out the lines for
 * people). It ends with one JSON line of its figures.
 *
 * It writes a synthetic relay log to a fresh embedded bus — per lane, per
 * checkpoint of 10 messages: 10 observations, a proposal, a range proof, 3
 * signatures with their verdicts, the attestation, a submitted and a
 * confirmed `commitAndDeliver` — in two halves (every lane's first half of
 * messages, then every lane's second half), then measures:
 * - linearity: the index built from offset zero when only the first half is
 *   written (`indexRecordsPerSFirstHalf`: a log half as long), then caught
 *   up over the second half once it is (`indexRecordsPerSSecondHalf`: into
 *   an index already holding the first). A build linear in the log runs at
 *   the same rate on either, and on the whole log below;
 * - the cold build of the audit index over the whole log from offset zero
 *   (`indexRecordsPerS`, goal ≥ 20,000 on 2 cores); then another, during
 *   which another writer of the index (`chorus trace` catching it up too)
 *   takes its turn every 20 ms: how long it waits at most
 *   (`writerWaitMaxMs`; readers never wait);
 * - a question as `chorus trace` asks it: open the index, catch it up to the
 *   log (nothing new), trace one random message; p50/p99 over 50 ids;
 * - the same for `chorus messages --status stuck` (a full-table filter).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Worker } from "node:worker_threads"
import { openEmbeddedBus } from "../bus/embedded/index.ts"
import { percentile } from "../cli/devnet/tracker.ts"
import { AuditStore, catchUp, listMessages, traceMessage } from "../services/auditor/index.ts"
import { ALL_TOPICS } from "../topology/index.ts"
import { announce } from "./announce.ts"
import { positiveFlag } from "./positive-flag.ts"
import { LANES, PER_CHECKPOINT, writeRelayLog } from "./synthetic-relay-log.ts"

const { values } = parseArgs({
  options: { messages: { type: "string", default: "100000" }, json: { type: "boolean", default: false } },
})
announce(
  "bench:trace",
  `writes a ${Number(values.messages).toLocaleString("en")}-message log, builds its audit index and times traces and lists on it`,
  values.messages === "100000" ? "about 3 minutes" : "about 3 minutes per 100,000 messages",
)
const MESSAGES = positiveFlag("bench:trace", "messages", values.messages)
const log = (line: string) => {
  if (!values.json) console.log(line)
}
const dir = mkdtempSync(join(tmpdir(), "chorus-bench-trace-"))
const bus = await openEmbeddedBus({ dataDir: join(dir, "log"), serve: false })
await bus.ensureTopics(ALL_TOPICS)

const ids: string[] = []
const t0 = Date.now()
let written = 0
let writeMs = 0
const perLane = Math.ceil(MESSAGES / LANES.length)
/** Where each lane's second half of messages starts: a checkpoint's first nonce. */
const halfway = Math.ceil(perLane / 2 / PER_CHECKPOINT) * PER_CHECKPOINT
/** Writes every lane's messages of nonces `[from, to)`, checkpoint by checkpoint; returns the records written. */
const writeLog = async (from: number, to: number): Promise<number> => {
  const started = Date.now()
  const part = await writeRelayLog(bus, { from, to, perLane, t0 })
  ids.push(...part.ids)
  written += part.records
  writeMs += Date.now() - started
  return part.records
}

/**
 * Runs `during` while another thread takes the index's write lock every 20 ms, as a second catch-up would
 * (`chorus trace` while the auditor builds), and says the longest it waited for it.
 */
const withWriterProbe = async <T>(
  path: string,
  during: () => Promise<T>,
): Promise<{ result: T; longestWaitMs: number }> => {
  const stop = new Int32Array(new SharedArrayBuffer(4))
  const probe = new Worker(
    `const { DatabaseSync } = require("node:sqlite")
     const { parentPort, workerData } = require("node:worker_threads")
     const db = new DatabaseSync(workerData.path)
     db.exec("PRAGMA busy_timeout = 60000")
     let longest = 0
     while (Atomics.load(workerData.stop, 0) === 0) {
       const started = performance.now()
       db.exec("BEGIN IMMEDIATE")
       longest = Math.max(longest, performance.now() - started)
       db.exec("ROLLBACK")
       Atomics.wait(workerData.stop, 0, 0, 20)
     }
     db.close()
     parentPort.postMessage(longest)`,
    { eval: true, workerData: { path, stop } },
  )
  const longest = new Promise<number>((resolve, reject) => {
    probe.once("message", resolve)
    probe.once("error", reject)
  })
  let result: T
  try {
    result = await during()
  } finally {
    Atomics.store(stop, 0, 1)
    Atomics.notify(stop, 0)
  }
  return { result, longestWaitMs: await longest }
}

/** Catches the index at `path` up to the log (from offset zero if it is new): records, and how long it took. */
const build = async (path: string, probe = false) => {
  const started = performance.now()
  const store = AuditStore.open(path)
  try {
    const caughtUp = probe
      ? await withWriterProbe(path, () => catchUp(bus, store))
      : { result: await catchUp(bus, store), longestWaitMs: null }
    const ms = performance.now() - started
    return { records: caughtUp.result.records, ms, perS: (caughtUp.result.records / ms) * 1000, ...caughtUp }
  } finally {
    store.close()
  }
}

// Linearity: the first half built from offset zero, then the second half caught up into the same index.
const halfPath = join(dir, "audit", "half.sqlite")
const firstWritten = await writeLog(0, halfway)
const firstHalf = await build(halfPath)
const secondWritten = await writeLog(halfway, perLane)
const secondHalf = await build(halfPath)
if (firstHalf.records !== firstWritten || secondHalf.records !== secondWritten)
  throw new Error(
    `bench: indexed ${firstHalf.records} + ${secondHalf.records} records of ${firstWritten} + ${secondWritten}`,
  )

// The cold build of the whole log, from offset zero.
const indexPath = join(dir, "audit", "index.sqlite")
const cold = await build(indexPath)
// Once more, while another writer takes the index's write lock every 20 ms: how long it waits for its turn.
// (Not the figure above: the probe's turns hold the build up a little.)
const probed = await build(join(dir, "audit", "probed.sqlite"), true)

const timed = async (question: (store: AuditStore) => unknown): Promise<number> => {
  const started = performance.now()
  const opened = AuditStore.open(indexPath)
  await catchUp(bus, opened)
  question(opened)
  opened.close()
  return performance.now() - started
}
const traceMs: number[] = []
for (let i = 0; i < 50; i++) {
  const id = ids[Math.floor(Math.random() * ids.length)]!
  traceMs.push(
    await timed((s) => {
      const trace = traceMessage(s, id, { now: Date.now(), stuckAfterMs: 120_000 })
      if (trace?.status !== "delivered") throw new Error(`bench: ${id} is not delivered in the index`)
    }),
  )
}
const listMs: number[] = []
for (let i = 0; i < 10; i++)
  listMs.push(
    await timed((s) =>
      listMessages(s, { status: "stuck", now: Date.now(), stuckAfterMs: 120_000, limit: 100 }),
    ),
  )

await bus.close()
rmSync(dir, { recursive: true, force: true })

const round = (n: number | null) => (n === null ? null : Math.round(n))
const result = {
  messages: ids.length,
  records: written,
  writeMs,
  indexBuildMs: round(cold.ms),
  indexRecordsPerS: round(cold.perS),
  indexRecordsPerSFirstHalf: round(firstHalf.perS),
  indexRecordsPerSSecondHalf: round(secondHalf.perS),
  writerWaitMaxMs: round(probed.longestWaitMs),
  traceP50Ms: round(percentile(traceMs, 0.5)),
  traceP99Ms: round(percentile(traceMs, 0.99)),
  stuckListP50Ms: round(percentile(listMs, 0.5)),
}
log(`log: ${result.messages} messages, ${result.records} records (written in ${writeMs} ms)`)
log(
  `audit index cold build: ${result.indexBuildMs} ms (${result.indexRecordsPerS} records/s; goal ≥ 20,000), ` +
    `another writer waited at most ${result.writerWaitMaxMs} ms`,
)
log(
  `linearity: first half built from zero at ${result.indexRecordsPerSFirstHalf} records/s, ` +
    `second half caught up at ${result.indexRecordsPerSSecondHalf} records/s`,
)
log(
  `trace (open index + catch up + answer), 50 random ids: p50 ${result.traceP50Ms} ms, p99 ${result.traceP99Ms} ms`,
)
log(`messages --status stuck, 10 runs: p50 ${result.stuckListP50Ms} ms`)
console.log(JSON.stringify(result))
