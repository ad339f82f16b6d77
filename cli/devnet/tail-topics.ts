import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { ChorusError } from "../../errors/index.ts"
import type { Envelope } from "../../schemas/index.ts"

/** A record on a followed topic that is not a Chorus event: the log is not what the devnet wrote. */
export class UnreadableRecordError extends ChorusError {
  override readonly name = "UnreadableRecordError"
  declare readonly details: {
    readonly topic: string
    readonly partition: number
    readonly offset: number
    readonly reason: string
  }
  constructor(topic: string, partition: number, offset: number, reason: string) {
    super(`${topic} partition ${partition} offset ${offset} is not a Chorus event: ${reason}`, {
      details: { topic, partition, offset, reason },
      hint: "The devnet only follows logs its own services wrote; start it on an empty data dir or broker.",
    })
  }
}

/**
 * Follows topics without a consumer group: each `poll()` reads what was
 * written since the last one, partition by partition. Watching never moves
 * a service's offsets, so it can point at a production log.
 *
 * A partition's position moves only past records actually read, and a
 * record that does not decode stops the poll with its topic, partition and
 * offset: nothing is skipped silently.
 *
 * @example
 * ```ts
 * const tail = tailTopics(bus, ["chorus.deliveries"])
 * for (const envelope of await tail.poll()) console.log(envelope.type)
 * ```
 */
export const tailTopics = (bus: BusPort, topics: ReadonlyArray<string>) => {
  const next = new Map<string, number>()
  return {
    async poll(): Promise<Envelope[]> {
      const out: Envelope[] = []
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
            if (!read.ok)
              throw new UnreadableRecordError(
                topic,
                partition,
                read.record.offset,
                read.error.issues.map((i) => `${i.path || "(record)"}: ${i.message}`).join("; "),
              )
            out.push(read.envelope)
            next.set(key, read.record.offset + 1)
          }
        }
      }
      return out
    },
  }
}
