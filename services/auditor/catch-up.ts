import { decodeAuthenticated } from "../../bus/events/decode-authenticated.ts"
import { assertDeclared, readEvents } from "../../bus/events/index.ts"
import type { BusPort, PartitionWatermarks } from "../../bus/port.ts"
import { type Envelope, HEADERS } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { AUDITED_TOPICS, AUDITED_TYPES } from "./definition.ts"
import { indexEvent } from "./index-event.ts"
import type { AuditStore } from "./index-store.ts"

/** Records applied per transaction: small enough that a concurrent reader never waits long. */
const CHUNK = 500

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

/** One record of a range as the index takes it: an event, a record that is none, or one it does not index. */
type Audited =
  | { readonly offset: number; readonly at: number; readonly envelope: Envelope }
  | { readonly offset: number; readonly at: number; readonly unreadable: string }
  | { readonly offset: number; readonly at: number; readonly skipped: true }

/**
 * The records of one partition's range, decoded through the bus's decode edge. On a topic the index takes
 * only some types of (`AUDITED_TYPES`), the others are skipped by their type header, undecoded: what they
 * are does not matter here, and most of that topic is not for the index.
 */
async function* auditedRange(
  bus: BusPort,
  range: { readonly topic: string; readonly partition: number; readonly from: number; readonly to: number },
): AsyncIterable<Audited> {
  const types = AUDITED_TYPES.get(range.topic)
  const options = {
    topic: range.topic,
    partitions: [range.partition],
    from: { offset: range.from },
    to: { offset: range.to },
  }
  if (types === undefined) {
    for await (const read of readEvents(bus, options)) {
      const at = { offset: read.record.offset, at: read.record.timestamp }
      yield read.ok ? { ...at, envelope: read.envelope } : { ...at, unreadable: read.error.message }
    }
    return
  }
  assertDeclared(range.topic)
  for await (const record of bus.read(options)) {
    const at = { offset: record.offset, at: record.timestamp }
    const type = record.headers[HEADERS.type]
    if (type === undefined || !(types as ReadonlySet<string>).has(type)) {
      yield { ...at, skipped: true }
      continue
    }
    const decoded = decodeAuthenticated(bus, record)
    yield decoded.ok ? { ...at, envelope: decoded.value } : { ...at, unreadable: decoded.error.message }
  }
}

/** The anchor of a log: the id of the first event of the first non-empty observations partition. */
const anchorOf = async (bus: BusPort, marks: ReadonlyArray<PartitionWatermarks>): Promise<string | null> => {
  const first = marks.find((mark) => mark.high > mark.low)
  if (first === undefined) return null
  for await (const read of readEvents(bus, {
    topic: TOPICS.messagesObserved.name,
    partitions: [first.partition],
    from: { offset: first.low },
    to: { offset: first.low + 1 },
  })) {
    return read.ok ? read.envelope.id : `unreadable@${first.partition}:${first.low}`
  }
  return null
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
 *
 * @example
 * ```ts
 * const { records } = await catchUp(bus, AuditStore.open(path))
 * ```
 */
export const catchUp = async (bus: BusPort, store: AuditStore): Promise<CatchUpResult> => {
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

  let rebuilt = false
  const observed = marks.get(TOPICS.messagesObserved.name) ?? []
  const anchor = await anchorOf(bus, observed)
  const known = store.meta("anchor")
  const shrunk = [...marks.entries()].some(([topic, partitions]) =>
    partitions.some((mark) => (store.position(topic, mark.partition)?.next ?? 0) > mark.high),
  )
  if ((known !== undefined && known !== (anchor ?? "")) || shrunk) {
    store.transaction(() => store.reset())
    rebuilt = true
  }
  store.setMeta("anchor", anchor ?? "")

  let records = 0
  let unreadable = 0
  for (const topic of AUDITED_TOPICS) {
    for (const mark of marks.get(topic) ?? []) {
      // What this round saw as the partition's position: a chunk is applied only if it is still so.
      let expected = store.position(topic, mark.partition)?.next
      let next = Math.max(expected ?? 0, mark.low)
      if (next >= mark.high) continue
      let chunk: Audited[] = []
      const flush = (): boolean => {
        const applied = store.transaction(() => {
          // Another process indexed this range, or reset the index for another log, since this round began.
          if (store.position(topic, mark.partition)?.next !== expected) return false
          if (store.meta("anchor") !== (anchor ?? "")) return false
          for (const item of chunk) {
            if ("unreadable" in item) store.addUnreadable(topic, mark.partition, item.offset, item.unreadable)
            else if ("envelope" in item)
              indexEvent(store, item.envelope, {
                topic,
                partition: mark.partition,
                offset: item.offset,
                eventId: item.envelope.id,
                type: item.envelope.type,
                at: item.at,
              })
          }
          // Skipped records move the position too: they were read, and are not for the index.
          next = chunk[chunk.length - 1]!.offset + 1
          store.setPosition(topic, mark.partition, next, null)
          expected = next
          return true
        })
        chunk = []
        return applied
      }
      let raced = false
      for await (const item of auditedRange(bus, {
        topic,
        partition: mark.partition,
        from: next,
        to: mark.high,
      })) {
        chunk.push(item)
        if ("unreadable" in item) unreadable++
        records++
        if (chunk.length >= CHUNK && !flush()) {
          raced = true
          break
        }
      }
      if (!raced && chunk.length > 0) flush()
    }
  }
  return { records, unreadable, rebuilt, missing }
}
