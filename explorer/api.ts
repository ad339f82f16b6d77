/**
 * The explorer's read-only JSON API over the audit index (`docs/api.md`, `explorer/openapi.json`).
 *
 * Routes (GET only; nothing here can write to the bus or the index):
 * - `/api/summary`: messages by status, and how fresh the index is;
 * - `/api/messages?status=&lane=&source=&destination=&since=&cursor=&limit=`: newest first, a page at a time;
 * - `/api/messages/{id}`: one message's whole timeline (`chorus trace --json`'s), with the exact
 *   `chorus retry` command and why it would be refused, if it would;
 * - `/api/lanes`, `/api/lanes/{lane}`: lanes, their checkpoints, committed roots and stalls;
 * - `/api/operators`: signatures, refusals, verdicts and evidence per operator;
 * - `/api/dead-letters?limit=`: the newest dead letters;
 * - `/api/latency?window=&lane=&buckets=`: per-hop latency percentiles per lane over a window.
 *
 * Invariants: a parameter the route cannot take is answered 400 naming it (`query.ts`); an unknown id or
 * lane is 404; every answer is JSON.
 *
 * @module
 */
import { Schema } from "effect"
import type { BusPort } from "../bus/port.ts"
import { DeadLetter } from "../schemas/index.ts"
import {
  type AuditStore,
  DEFAULT_STUCK_AFTER_MS,
  listMessages,
  parseDuration,
  retryVerdict,
  STATUS_FILTERS,
  type StatusFilter,
  timeOrAgo,
  traceMessage,
} from "../services/auditor/index.ts"
import { TOPICS } from "../topology/index.ts"
import { laneCheckpoints, lanes } from "./lanes.ts"
import { latency } from "./latency.ts"
import { Query, QueryError } from "./query.ts"

/** How current the index is: what the explorer's catch-up last did. */
export interface Freshness {
  /** When the index last caught up with the log (ms), or null before the first catch-up ended. */
  readonly caughtUpAt: number | null
  /** The records that catch-up indexed. */
  readonly records: number
  /** Why the last catch-up failed, if it did; the index still answers as of `caughtUpAt`. */
  readonly error: string | null
}

export interface ApiContext {
  readonly store: AuditStore
  /** Read-only: the dead letters are read from it. */
  readonly bus: BusPort
  readonly freshness: () => Freshness
  readonly now: () => number
  readonly stuckAfterMs?: number
  /** How the CLI reaches this log, for the retry command shown: `--data-dir <dir>` or `--brokers <list>`. */
  readonly busFlags: string
}

export interface ApiAnswer {
  readonly status: number
  readonly body: unknown
}

const MESSAGE_ID = /^0x[0-9a-fA-F]{64}$/
const LANE = /^\d+:0x[0-9a-fA-F]{40}:\d+$/
const CHAIN_ID = /^\d{1,15}$/
const MAX_PAGE = 500

const notFound = (message: string, hint: string): ApiAnswer => ({
  status: 404,
  body: { error: { message, hint } },
})

/** A page's last row, opaque to clients: where the next page starts. */
const encodeCursor = (row: { readonly observedAt: number; readonly id: string }): string =>
  Buffer.from(JSON.stringify([row.observedAt, row.id])).toString("base64url")

const decodeCursor = (text: string): { observedAt: number; id: string } => {
  try {
    const [observedAt, id] = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as [unknown, unknown]
    if (
      typeof observedAt === "number" &&
      Number.isSafeInteger(observedAt) &&
      typeof id === "string" &&
      MESSAGE_ID.test(id)
    )
      return { observedAt, id }
  } catch {
    // Answered below.
  }
  throw new QueryError(
    "cursor",
    "is not a cursor this API gave (take `next` from the previous page as it is)",
  )
}

const chainOf = (query: Query, name: string): number | undefined => {
  const text = query.matching(name, CHAIN_ID, "a chain id")
  return text === undefined ? undefined : Number(text)
}

const messagesPage = (context: ApiContext, query: Query): ApiAnswer => {
  const now = context.now()
  const status = query.choice<StatusFilter>("status", STATUS_FILTERS) ?? "all"
  const lane = query.matching("lane", LANE, "a lane (<source chain>:<outbox>:<destination chain>)")
  const source = chainOf(query, "source")
  const destination = chainOf(query, "destination")
  const sinceText = query.text("since")
  const since = sinceText === undefined ? undefined : timeOrAgo(sinceText, now)
  if (sinceText !== undefined && since === undefined)
    throw new QueryError(
      "since",
      `${JSON.stringify(sinceText)} is neither an ISO time nor a duration such as 1h`,
    )
  const cursorText = query.text("cursor", 400)
  const after = cursorText === undefined ? undefined : decodeCursor(cursorText)
  const limit = query.integer("limit", 1, MAX_PAGE) ?? 50
  query.done()
  const { rows, total } = listMessages(context.store, {
    status,
    now,
    stuckAfterMs: context.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS,
    limit: limit + 1,
    newestFirst: true,
    ...(lane === undefined ? {} : { lane: lane.toLowerCase() }),
    ...(source === undefined ? {} : { srcChainId: source }),
    ...(destination === undefined ? {} : { dstChainId: destination }),
    ...(since === undefined ? {} : { since }),
    ...(after === undefined ? {} : { after }),
  })
  const page = rows.slice(0, limit)
  return {
    status: 200,
    body: { messages: page, next: rows.length > limit ? encodeCursor(page.at(-1)!) : null, total },
  }
}

const oneMessage = (context: ApiContext, id: string, query: Query): ApiAnswer => {
  query.done()
  if (!MESSAGE_ID.test(id))
    return {
      status: 400,
      body: {
        error: {
          parameter: "id",
          message: `id: ${JSON.stringify(id.slice(0, 80))} is not a message id (0x + 64 hex digits)`,
        },
      },
    }
  const options = { now: context.now(), stuckAfterMs: context.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS }
  const trace = traceMessage(context.store, id, options)
  if (trace === undefined)
    return notFound(
      `message ${id.toLowerCase()} is not in the index`,
      "no chain-watcher observed it, or the index has not caught up yet (see freshness in /api/summary)",
    )
  const verdict = retryVerdict(context.store, id, options)
  return {
    status: 200,
    body: {
      ...trace,
      retry: {
        command: `chorus retry ${trace.message.id} ${context.busFlags}`,
        refused: verdict.kind === "refused" ? verdict.reason : null,
      },
    },
  }
}

const summary = (context: ApiContext, query: Query): ApiAnswer => {
  query.done()
  const now = context.now()
  const counts = Object.fromEntries(
    STATUS_FILTERS.map((status) => [
      status,
      listMessages(context.store, {
        status,
        now,
        stuckAfterMs: context.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS,
        limit: 1,
      }).total,
    ]),
  )
  return { status: 200, body: { counts, freshness: context.freshness(), now } }
}

const deadLetters = async (context: ApiContext, query: Query): Promise<ApiAnswer> => {
  const limit = query.integer("limit", 1, MAX_PAGE) ?? 50
  query.done()
  const topic = TOPICS.deadLetters.name
  // Only each partition's last `limit` records are read: a request costs the same however long the topic is.
  const letters: Array<{ partition: number; offset: number; at: number; letter: unknown }> = []
  let total = 0
  for (const { partition, low, high } of await context.bus.watermarks(topic)) {
    total += high - low
    if (high <= low) continue
    const from = Math.max(low, high - limit)
    for await (const record of context.bus.read({ topic, partitions: [partition], from: { offset: from } })) {
      let letter: unknown
      try {
        letter = Schema.decodeUnknownSync(DeadLetter)(JSON.parse(new TextDecoder().decode(record.value)))
      } catch (error) {
        letter = { problem: `not a dead letter: ${(error as Error).message.slice(0, 200)}` }
      }
      letters.push({ partition, offset: record.offset, at: record.timestamp, letter })
    }
  }
  const newest = letters.sort((a, b) => b.at - a.at).slice(0, limit)
  return { status: 200, body: { deadLetters: newest, total } }
}

/**
 * Answers one request to `/api/…`.
 *
 * @example
 * ```ts
 * const { status, body } = await answerApi(context, "GET", new URL("http://x/api/messages?status=failed"))
 * ```
 */
export const answerApi = async (context: ApiContext, method: string, url: URL): Promise<ApiAnswer> => {
  if (method !== "GET" && method !== "HEAD")
    return { status: 405, body: { error: { message: `${method} is not allowed: the API only reads (GET)` } } }
  const query = new Query(url.searchParams)
  let parts: string[]
  try {
    parts = url.pathname
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent)
  } catch {
    return {
      status: 400,
      body: {
        error: { parameter: "path", message: `path: ${url.pathname.slice(0, 200)} has a bad %-escape` },
      },
    }
  }
  try {
    switch (parts[1]) {
      case "summary":
        if (parts.length === 2) return summary(context, query)
        break
      case "messages":
        if (parts.length === 2) return messagesPage(context, query)
        if (parts.length === 3) return oneMessage(context, parts[2]!, query)
        break
      case "lanes": {
        if (parts.length === 2) {
          query.done()
          return { status: 200, body: { lanes: lanes(context.store) } }
        }
        if (parts.length === 3) {
          const limit = query.integer("limit", 1, MAX_PAGE) ?? 50
          query.done()
          if (!LANE.test(parts[2]!))
            throw new QueryError(
              "lane",
              `${JSON.stringify(parts[2]!.slice(0, 80))} is not a lane (<source chain>:<outbox>:<destination chain>)`,
            )
          const [lane] = lanes(context.store, parts[2]!.toLowerCase())
          if (lane === undefined)
            return notFound(`lane ${parts[2]} has no message in the index`, "list them at /api/lanes")
          return {
            status: 200,
            body: { ...lane, checkpoints: laneCheckpoints(context.store, lane.lane, limit) },
          }
        }
        break
      }
      case "operators":
        if (parts.length === 2) {
          query.done()
          return { status: 200, body: { operators: context.store.operatorRecords() } }
        }
        break
      case "dead-letters":
        if (parts.length === 2) return await deadLetters(context, query)
        break
      case "latency":
        if (parts.length === 2) {
          const windowText = query.text("window") ?? "1h"
          const windowMs = parseDuration(windowText)
          // Bounded: every message of the window is read, and a request holds the index while it does.
          if (windowMs === undefined || windowMs < 1_000 || windowMs > 7 * 86_400_000)
            throw new QueryError(
              "window",
              `${JSON.stringify(windowText)} is not a duration from 1s to 7d, such as 1h`,
            )
          const lane = query.matching("lane", LANE, "a lane (<source chain>:<outbox>:<destination chain>)")
          const buckets = query.integer("buckets", 1, 200) ?? 24
          query.done()
          const to = context.now()
          return {
            status: 200,
            body: {
              from: to - windowMs,
              to,
              buckets,
              lanes: latency(context.store, {
                from: to - windowMs,
                to,
                buckets,
                ...(lane === undefined ? {} : { lane: lane.toLowerCase() }),
              }),
            },
          }
        }
        break
    }
  } catch (error) {
    if (error instanceof QueryError)
      return { status: 400, body: { error: { parameter: error.parameter, message: error.message } } }
    throw error
  }
  return notFound(`no route ${url.pathname}`, "the routes are listed in docs/api.md")
}
