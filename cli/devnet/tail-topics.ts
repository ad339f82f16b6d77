/**
 * Follows topics without a consumer group: each `poll()` reads what was
 * written since the last one, partition by partition. Watching never moves
 * a service's offsets, so it can point at a production log.
 *
 * Invariants:
 * - A partition's position moves only past records actually read.
 * - A record that does not decode is never skipped silently: it is
 *   returned with its topic, partition, offset and why, once, and the poll
 *   goes on. Whoever can write a topic can write garbage to it; the devnet
 *   must survive that and say where it is.
 *
 * @module
 */
import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import type { Envelope } from "../../schemas/index.ts"

/** A record on a followed topic that is not a Chorus event. */
export interface UnreadableRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly reason: string
}

/** What one poll read. */
export interface TailPoll {
  readonly envelopes: ReadonlyArray<Envelope>
  /**
   * When each envelope's record was appended (its record timestamp), in the same order. An output carries its
   * input's time (so a replay derives the same event), so only the record says when a hop really happened.
   */
  readonly appendedAt: ReadonlyArray<number>
  readonly unreadable: ReadonlyArray<UnreadableRecord>
}

/**
 * Where an unreadable record is, for a person.
 *
 * @example
 * ```ts
 * describeUnreadable(record) // "chorus.deliveries partition 3 offset 12 is not a Chorus event: (record): …"
 * ```
 */
export const describeUnreadable = (record: UnreadableRecord): string =>
  `${record.topic} partition ${record.partition} offset ${record.offset} is not a Chorus event: ${record.reason}`

/**
 * Follows `topics` from their beginning.
 *
 * @example
 * ```ts
 * const tail = tailTopics(bus, ["chorus.deliveries"])
 * const { envelopes, unreadable } = await tail.poll()
 * ```
 */
export const tailTopics = (bus: BusPort, topics: ReadonlyArray<string>) => {
  const next = new Map<string, number>()
  return {
    async poll(): Promise<TailPoll> {
      const envelopes: Envelope[] = []
      const appendedAt: number[] = []
      const unreadable: UnreadableRecord[] = []
      for (const topic of topics) {
        for (const { partition, high } of await bus.watermarks(topic)) {
          const key = `${topic}/${partition}`
          const from = next.get(key) ?? 0
          if (from >= high) continue
          for await (const read of readEvents(bus, {
            topic,
            partitions: [partition],
            from: { offset: from },
            to: { offset: high },
          })) {
            if (read.ok) {
              envelopes.push(read.envelope)
              appendedAt.push(read.record.timestamp)
            } else {
              unreadable.push({
                topic,
                partition,
                offset: read.record.offset,
                reason: read.error.issues.map((i) => `${i.path || "(record)"}: ${i.message}`).join("; "),
              })
            }
            next.set(key, read.record.offset + 1)
          }
        }
      }
      return { envelopes, appendedAt, unreadable }
    },
  }
}
