import { createHash } from "node:crypto"
import { Worker } from "node:worker_threads"
import { assertDeclared } from "../../bus/events/assert-declared.ts"
import type { BusPort, BusRecord, PartitionWatermarks } from "../../bus/port.ts"
import type { Envelope } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { AUDITED_TOPICS, AUDITED_TYPES } from "./definition.ts"
import type { AuditStore } from "./index-store.ts"
import type { IndexChunk, IndexSink, IndexWrite } from "./index-writer.ts"
import type { WriterReply, WriterRequest } from "./index-writer-thread.ts"

/**
 * Records per chunk, the unit a position is committed in, or fewer if their writes reach `CHUNK_WRITES`
 * (a confirmation of 10 messages is 20 steps). A chunk holds the index for some 50 ms (the writer thread
 * may join a few in one transaction, `GROUP_MS`), so another process catching the index up (`chorus
 * trace`) gets its turn within a fraction of a second (SQLite retries a busy lock after pauses of up to
 * 100 ms; `bench:trace` reports the longest wait), and a reader never waits (WAL). A commit rewrites every
 * page its transaction touched, so chunks much smaller than this write the same pages over and over.
 */
const CHUNK = 2000
/** Writes per chunk at most: what a chunk costs to write, and the memory it holds on its way, some 7 MB. */
const CHUNK_WRITES = 10_000

/**
 * Chunks the reading thread may have sent on beyond the one the writer thread is applying: enough to ride
 * over stretches where writing costs more than decoding (a confirmation names 10 messages, each a step), and
 * few enough to keep memory small.
 */
const AHEAD = 4

/**
 * A backlog, in records, from which a catch-up applies its writes in a writer thread
 * (`index-writer-thread.ts`) while this one reads and decodes the next chunk: below it, starting the thread
 * costs more than it saves.
 */
export const THREAD_BACKLOG = 20_000

export interface CatchUpOptions {
  /** Records per chunk, each applied in one transaction (default 2000). */
  readonly chunk?: number
  /**
   * Where the writes are applied: `here`, or `thread` (a writer thread, for an index in a file; `here` for one
   * in memory). Default: `thread` from a backlog of `THREAD_BACKLOG` records.
   */
  readonly writer?: "here" | "thread"
}

export interface CatchUpResult {
  /** Records read and indexed in this round. */
  readonly records: number
  /** Records that were not Chorus events (kept in the index's `unreadable` table). */
  readonly unreadable: number
  /** The index was found to belong to another log (it was reset and rebuilt). */
  readonly rebuilt: boolean
  /** Audited topics the log does not have (a log from an older Chorus); `chorus topics create` adds them. */
  readonly missing: ReadonlyArray<string>
}

const isMissingTopic = (error: unknown): boolean =>
  error instanceof Error &&
  (["TopicNotFoundError", "KafkaTopicNotFoundError"].includes(error.name) ||
    (error as { _tag?: string })._tag === "TopicNotFoundError")

/** A record as the index takes it: an event, a record that is none (why), or one it does not index. */
type Audited = { readonly envelope: Envelope } | { readonly unreadable: string } | { readonly skipped: true }

/** Takes one record as the index takes it (`loadDecoding`). */
type Audit = (bus: BusPort, types: ReadonlySet<string> | undefined, record: BusRecord) => Audited

/**
 * What reading records takes: the bus's decode edge and the record-to-writes mapping, with the schema catalog
 * behind them, most of what a catch-up would load. Imported only when there is a record to decode, so a
 * catch-up that finds nothing new (`chorus trace` on a log at rest, issue 13) does without.
 */
const loadDecoding = async () => {
  const [{ decodeAuthenticated }, { HEADERS }, { indexEvent }] = await Promise.all([
    import("../../bus/events/decode-authenticated.ts"),
    import("../../schemas/index.ts"),
    import("./index-event.ts"),
  ])
  /**
   * One record as the index takes it, decoded through the bus's decode edge. Of a topic the index takes only
   * some types of (`types`, from `AUDITED_TYPES`), the others are skipped by their type header, undecoded:
   * what they are does not matter here, and most of that topic is not for the index.
   */
  const audited: Audit = (bus, types, record) => {
    if (types !== undefined) {
      const type = record.headers[HEADERS.type]
      if (type === undefined || !types.has(type)) return { skipped: true }
    }
    const decoded = decodeAuthenticated(bus, record)
    return decoded.ok ? { envelope: decoded.value } : { unreadable: decoded.error.message }
  }
  return { audited, indexEvent }
}

/** The first record of the first non-empty observations partition: the log's anchor event, undecoded. */
const anchorRecordOf = async (
  bus: BusPort,
  marks: ReadonlyArray<PartitionWatermarks>,
): Promise<BusRecord | null> => {
  const first = marks.find((mark) => mark.high > mark.low)
  if (first === undefined) return null
  assertDeclared(TOPICS.messagesObserved.name)
  for await (const record of bus.read({
    topic: TOPICS.messagesObserved.name,
    partitions: [first.partition],
    from: { offset: first.low },
    to: { offset: first.low + 1 },
  }))
    return record
  return null
}

/** The anchor of a log: the id of its anchor event, decoded through the bus's decode edge as any record is. */
const anchorOf = (audited: Audit, bus: BusPort, record: BusRecord): string => {
  const read = audited(bus, undefined, record)
  return "envelope" in read ? read.envelope.id : `unreadable@${record.partition}:${record.offset}`
}

/**
 * Meta key: the anchor as last computed, after the digest of the record it was decoded from, when the bus
 * checked no producer (the decode of the same bytes then gives the same anchor); else empty.
 */
const ANCHOR_RECORD = "anchor-record"

/** The anchor record's bytes and place, digested (its headers in name order): equal digests, the same record. */
const recordDigest = (record: BusRecord): string => {
  const headers = Object.entries(record.headers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return createHash("sha256")
    .update(JSON.stringify([record.partition, record.offset, record.timestamp, record.key, headers]))
    .update(record.value)
    .digest("hex")
}

/**
 * Whether this round has nothing to do: no audited partition has a record past the index's position, none
 * is shorter than it, and the anchor is provably the one the index was built for, without decoding it:
 * its record is byte for byte the one the stored anchor was decoded from, on a bus that checks no producer
 * (as then). Otherwise (a producer policy, another record, an index from before the digest) the full round
 * decides, decoding the anchor as it always did.
 */
const nothingNew = (
  bus: BusPort,
  store: AuditStore,
  marks: ReadonlyMap<string, ReadonlyArray<PartitionWatermarks>>,
  anchorRecord: BusRecord | null,
): boolean => {
  for (const [topic, partitions] of marks)
    for (const mark of partitions) {
      const next = store.position(topic, mark.partition)?.next
      if ((next ?? 0) > mark.high || Math.max(next ?? 0, mark.low) < mark.high) return false
    }
  const known = store.meta("anchor")
  if (anchorRecord === null) return known === ""
  return (
    bus.authenticate === undefined &&
    known !== undefined &&
    store.meta(ANCHOR_RECORD) === `${recordDigest(anchorRecord)} ${known}`
  )
}

/** Where the chunks of a catch-up are applied, in the order they are sent. */
interface Applier {
  /** Chunks sent on before the oldest is known applied: 0 here, `AHEAD` to a thread, which applies them meanwhile. */
  readonly ahead: number
  /** Applies a chunk after every chunk sent before it; resolves to whether it was applied (`IndexWriter.applyChunk`). */
  apply(chunk: IndexChunk): Promise<boolean>
  /** Once every chunk is answered. */
  close(): Promise<void>
}

const applyHere = (store: AuditStore): Applier => ({
  ahead: 0,
  apply: async (chunk) => store.applyChunk(chunk),
  close: async () => {},
})

const applyInThread = (path: string): Applier => {
  const worker = new Worker(new URL("./index-writer-thread.ts", import.meta.url), { workerData: { path } })
  const waiting = new Map<number, { resolve: (applied: boolean) => void; reject: (error: Error) => void }>()
  let failed: Error | undefined
  const fail = (error: Error) => {
    failed ??= error
    for (const waiter of waiting.values()) waiter.reject(error)
    waiting.clear()
  }
  worker.on("message", (reply: WriterReply) => {
    const waiter = waiting.get(reply.id)
    waiting.delete(reply.id)
    if ("error" in reply) waiter?.reject(reply.error)
    else waiter?.resolve(reply.applied)
  })
  worker.on("error", fail)
  const exited = new Promise<void>((resolve) =>
    worker.once("exit", (code) => {
      fail(new Error(`the audit index's writer thread stopped (exit code ${code})`))
      resolve()
    }),
  )
  let next = 0
  const send = (request: WriterRequest) => worker.postMessage(request)
  return {
    ahead: AHEAD,
    apply: (chunk) => {
      if (failed !== undefined) return Promise.reject(failed)
      const id = next++
      return new Promise<boolean>((resolve, reject) => {
        waiting.set(id, { resolve, reject })
        send({ id, chunk })
      })
    },
    close: async () => {
      send({ close: true })
      await exited
    },
  }
}

/**
 * Brings the index up to the log: reads every audited partition from where
 * the index stopped to the high watermark and indexes each record, with the
 * partition's new position in the same transaction.
 *
 * - Watermarks are taken downstream-first and observations last, so every
 *   event read in a round has its message's observation in the same round.
 * - Another process may catch the same index up at the same time: a chunk is
 *   applied only if the partition's position is still where this round
 *   left it and the index still belongs to the same log, so no record is
 *   indexed twice and none is skipped.
 * - An index that belongs to another log (its anchor differs, or a partition
 *   is shorter than the index's position) is emptied and rebuilt.
 * - Of a topic the index takes only some event types of (`AUDITED_TYPES`),
 *   the other records are skipped by their type header, never decoded, and
 *   their position is committed like any other.
 * - A round that finds nothing new (every partition at the index's position,
 *   the anchor record the one the stored anchor came from: `nothingNew`)
 *   ends there, having decoded nothing and written nothing; the decoding
 *   side is loaded only for a round with records to read.
 * - A long catch-up (a cold build) applies its chunks in a writer thread,
 *   one chunk while the next is read and decoded here; chunks are applied in
 *   the order they are read, each checked as above, so the index is the same
 *   in any chunking and on either thread.
 *
 * @example
 * ```ts
 * const { records } = await catchUp(bus, AuditStore.open(path))
 * ```
 */
export const catchUp = async (
  bus: BusPort,
  store: AuditStore,
  options: CatchUpOptions = {},
): Promise<CatchUpResult> => {
  const marks = new Map<string, ReadonlyArray<PartitionWatermarks>>()
  const missing: string[] = []
  for (const topic of [...AUDITED_TOPICS].reverse()) {
    try {
      marks.set(topic, await bus.watermarks(topic))
    } catch (error) {
      // A log from an older Chorus lacks the topics added since: nothing to index there.
      if (!isMissingTopic(error)) throw error
      missing.push(topic)
      marks.set(topic, [])
    }
  }

  const anchorRecord = await anchorRecordOf(bus, marks.get(TOPICS.messagesObserved.name) ?? [])
  if (nothingNew(bus, store, marks, anchorRecord))
    return { records: 0, unreadable: 0, rebuilt: false, missing }

  const { audited, indexEvent } = await loadDecoding()
  let rebuilt = false
  const anchor = anchorRecord === null ? null : anchorOf(audited, bus, anchorRecord)
  const known = store.meta("anchor")
  const shrunk = [...marks.entries()].some(([topic, partitions]) =>
    partitions.some((mark) => (store.position(topic, mark.partition)?.next ?? 0) > mark.high),
  )
  if ((known !== undefined && known !== (anchor ?? "")) || shrunk) {
    store.transaction(() => store.reset())
    rebuilt = true
  }
  store.setMeta("anchor", anchor ?? "")
  store.setMeta(
    ANCHOR_RECORD,
    anchorRecord !== null && bus.authenticate === undefined ? `${recordDigest(anchorRecord)} ${anchor}` : "",
  )

  const chunkSize = options.chunk ?? CHUNK
  let backlog = 0
  for (const [topic, partitions] of marks)
    for (const mark of partitions)
      backlog += Math.max(0, mark.high - Math.max(store.position(topic, mark.partition)?.next ?? 0, mark.low))
  const threaded =
    store.path !== ":memory:" &&
    (options.writer ?? (backlog >= THREAD_BACKLOG ? "thread" : "here")) === "thread"
  const applier = threaded ? applyInThread(store.path) : applyHere(store)
  /** Chunks sent and not yet known applied, oldest first, with the partition they are of. */
  const inFlight: Array<{ readonly partition: PartitionWatermarks; readonly applied: Promise<boolean> }> = []

  let records = 0
  let unreadable = 0
  try {
    for (const topic of AUDITED_TOPICS) {
      assertDeclared(topic)
      const types: ReadonlySet<string> | undefined = AUDITED_TYPES.get(topic)
      for (const mark of marks.get(topic) ?? []) {
        // What this round saw as the partition's position: a chunk is applied only if it is still so.
        let expected = store.position(topic, mark.partition)?.next
        const from = Math.max(expected ?? 0, mark.low)
        if (from >= mark.high) continue
        // The chunk being read: its records' writes, how many records, and where the next one starts.
        let writes: IndexWrite[] = []
        let chunked = 0
        let next = from
        const sink: IndexSink = { write: (write) => writes.push(write) }
        // Sends the chunk on; false: this partition's position moved under it (another process indexed this
        // range, or reset the index for another log, since this round began), and no later chunk of it applies.
        const submit = async (): Promise<boolean> => {
          const applied = applier.apply({
            topic,
            partition: mark.partition,
            expected,
            anchor: anchor ?? "",
            writes,
            next,
          })
          // Awaited below, or in the end; never an unhandled rejection meanwhile.
          applied.catch(() => undefined)
          inFlight.push({ partition: mark, applied })
          expected = next
          writes = []
          chunked = 0
          while (inFlight.length > applier.ahead) {
            const oldest = inFlight.shift()!
            if (!(await oldest.applied) && oldest.partition === mark) return false
          }
          return true
        }
        let raced = false
        for await (const record of bus.read({
          topic,
          partitions: [mark.partition],
          from: { offset: from },
          to: { offset: mark.high },
        })) {
          const item = audited(bus, types, record)
          if ("unreadable" in item) {
            unreadable++
            writes.push({
              op: "unreadable",
              topic,
              partition: mark.partition,
              offset: record.offset,
              error: item.unreadable,
            })
          } else if ("envelope" in item)
            indexEvent(sink, item.envelope, {
              topic,
              partition: mark.partition,
              offset: record.offset,
              eventId: item.envelope.id,
              type: item.envelope.type,
              at: record.timestamp,
            })
          records++
          chunked++
          // Skipped records move the position too: they were read, and are not for the index.
          next = record.offset + 1
          if ((chunked >= chunkSize || writes.length >= CHUNK_WRITES) && !(await submit())) {
            raced = true
            break
          }
        }
        if (!raced && chunked > 0) await submit()
      }
    }
    while (inFlight.length > 0) await inFlight.shift()!.applied
  } finally {
    await Promise.allSettled(inFlight.map((sent) => sent.applied))
    await applier.close()
  }
  return { records, unreadable, rebuilt, missing }
}
