import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import type { Envelope } from "../../schemas/index.ts"

/**
 * Follows topics without a consumer group: each `poll()` reads what was
 * written since the last one, partition by partition. Watching never moves
 * a service's offsets, so it can point at a production log.
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
            if (read.ok) out.push(read.envelope)
          }
          next.set(key, high)
        }
      }
      return out
    },
  }
}
