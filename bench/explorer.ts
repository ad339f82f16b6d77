/**
 * How fast the explorer answers on a big log: `npm run bench:explorer` (`-- --messages 100000` by default;
 * `--json` leaves out the lines for people). It ends with one JSON line of its figures.
 *
 * It writes a synthetic relay log (`synthetic-relay-log.ts`: six lanes, checkpoints of 10 messages, every
 * record a real envelope) to a fresh embedded bus, starts the explorer on it as `chorus explorer --data-dir`
 * does (the index built from offset zero at start), and asks it over HTTP, one request at a time:
 * - a random message's timeline (`GET /api/messages/{id}`), goal p99 ≤ 50 ms;
 * - a filtered list page (`GET /api/messages?…&limit=50`), goal p99 ≤ 100 ms, cycling through the filters
 *   a user takes: a status, a source, a destination, a lane, a time window, and a page 20 pages deep
 *   (by cursor).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { openEmbeddedBus } from "../bus/embedded/index.ts"
import { percentile } from "../cli/devnet/tracker.ts"
import { runExplorer } from "../explorer/run-explorer.ts"
import { ALL_TOPICS } from "../topology/index.ts"
import { announce } from "./announce.ts"
import { positiveFlag } from "./positive-flag.ts"
import { LANES, writeRelayLog } from "./synthetic-relay-log.ts"

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    requests: { type: "string", default: "300" },
    json: { type: "boolean", default: false },
  },
})
announce(
  "bench:explorer",
  `writes a ${Number(values.messages).toLocaleString("en")}-message log, serves the explorer on it and times its API`,
  values.messages === "100000" ? "about 2 minutes" : "about 2 minutes per 100,000 messages",
)
const MESSAGES = positiveFlag("bench:explorer", "messages", values.messages)
const REQUESTS = positiveFlag("bench:explorer", "requests", values.requests)
const log = (line: string) => {
  if (!values.json) console.log(line)
}

const dir = mkdtempSync(join(tmpdir(), "chorus-bench-explorer-"))
const t0 = Date.now() - 3_600_000
const writer = await openEmbeddedBus({ dataDir: join(dir, "log"), serve: false })
await writer.ensureTopics(ALL_TOPICS)
const written = await writeRelayLog(writer, {
  from: 0,
  to: Math.ceil(MESSAGES / LANES.length),
  perLane: Math.ceil(MESSAGES / LANES.length),
  t0,
})
await writer.close()
log(
  `wrote ${written.records.toLocaleString("en")} records (${written.ids.length.toLocaleString("en")} messages)`,
)

const started = performance.now()
const explorer = await runExplorer(
  { "data-dir": join(dir, "log") },
  { host: "127.0.0.1", port: 0 },
  () => undefined,
)
const indexBuildS = (performance.now() - started) / 1000
log(`explorer on ${explorer.url}; index built in ${indexBuildS.toFixed(1)} s`)

const timed = async (path: string): Promise<{ ms: number; body: Record<string, unknown> }> => {
  const start = performance.now()
  const response = await fetch(new URL(path, explorer.url))
  const body = (await response.json()) as Record<string, unknown>
  const ms = performance.now() - start
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 200)}`)
  return { ms, body }
}

try {
  // Warm-up: the first answers pay for the statements' preparation and the page cache.
  for (let i = 0; i < 10; i++) await timed(`/api/messages/${written.ids[i]}`)
  const random = (n: number) => Math.floor(Math.random() * n)

  const timelineMs: number[] = []
  for (let i = 0; i < REQUESTS; i++)
    timelineMs.push((await timed(`/api/messages/${written.ids[random(written.ids.length)]}`)).ms)

  // A cursor 20 pages deep, found by paging as a user would.
  let cursor: string | null = null
  for (let page = 0; page < 20; page++) {
    const { body } = await timed(`/api/messages?limit=50${cursor === null ? "" : `&cursor=${cursor}`}`)
    cursor = body.next as string | null
  }
  const { body: first } = await timed("/api/messages?limit=1")
  const lane = (first.messages as Array<{ lane: string }>)[0]!.lane
  const filters = [
    "status=delivered",
    "source=902",
    "destination=903",
    `lane=${lane}`,
    "since=30m",
    "status=stuck",
    `cursor=${cursor}`,
    "source=901&destination=902&status=all",
  ]
  const listMs: number[] = []
  const byFilter = new Map<string, number[]>()
  for (let i = 0; i < REQUESTS; i++) {
    const filter = filters[i % filters.length]!
    const { ms } = await timed(`/api/messages?${filter}&limit=50`)
    listMs.push(ms)
    const name = filter.startsWith("cursor=") ? "cursor (20 pages deep)" : filter
    byFilter.set(name, [...(byFilter.get(name) ?? []), ms])
  }
  const { body: summary } = await timed("/api/summary")
  const round = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100)
  const figures = {
    messages: written.ids.length,
    records: written.records,
    indexedMessages: (summary.counts as Record<string, number>).all,
    indexBuildS: round(indexBuildS),
    requests: REQUESTS,
    timelineP50Ms: round(percentile(timelineMs, 0.5)),
    timelineP99Ms: round(percentile(timelineMs, 0.99)),
    listP50Ms: round(percentile(listMs, 0.5)),
    listP99Ms: round(percentile(listMs, 0.99)),
    listP99MsByFilter: Object.fromEntries(
      [...byFilter].map(([name, ms]) => [name, round(percentile(ms, 0.99))]),
    ),
    timelineGoalMs: 50,
    listGoalMs: 100,
  }
  log(
    `timeline p50 ${figures.timelineP50Ms} ms, p99 ${figures.timelineP99Ms} ms (goal ≤ 50); list page p50 ${figures.listP50Ms} ms, p99 ${figures.listP99Ms} ms (goal ≤ 100)`,
  )
  console.log(JSON.stringify(figures))
} finally {
  await explorer.close()
  rmSync(dir, { recursive: true, force: true })
}
