import { readEvents } from "../../bus/events/index.ts"
import type { BusPort, PartitionWatermarks } from "../../bus/port.ts"
import { TOPICS } from "../../topology/index.ts"
import { AUDITED_TOPICS } from "./definition.ts"
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
      let chunk: Array<Parameters<typeof indexEvent>[1] | { unreadable: string; offset: number }> = []
      let places: Array<{ offset: number; at: number }> = []
      const flush = (): boolean => {
        const applied = store.transaction(() => {
          // Another process indexed this range, or reset the index for another log, since this round began.
          if (store.position(topic, mark.partition)?.next !== expected) return false
          if (store.meta("anchor") !== (anchor ?? "")) return false
          chunk.forEach((item, i) => {
            const place = places[i]!
            if ("unreadable" in item) store.addUnreadable(topic, mark.partition, item.offset, item.unreadable)
            else
              indexEvent(store, item, {
                topic,
                partition: mark.partition,
                offset: place.offset,
                eventId: item.id,
                type: item.type,
                at: place.at,
              })
          })
          next = places[places.length - 1]!.offset + 1
          store.setPosition(topic, mark.partition, next, null)
          expected = next
          return true
        })
        chunk = []
        places = []
        return applied
      }
      let raced = false
      for await (const read of readEvents(bus, {
        topic,
        partitions: [mark.partition],
        from: { offset: next },
        to: { offset: mark.high },
      })) {
        if (read.ok) chunk.push(read.envelope)
        else {
          chunk.push({ unreadable: read.error.message, offset: read.record.offset })
          unreadable++
        }
        places.push({ offset: read.record.offset, at: read.record.timestamp })
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
