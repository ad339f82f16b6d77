/**
 * The bus as a process serving metrics sees it: every subscription it makes
 * is timed and followed, and nothing else changes (records, offsets and
 * errors pass through untouched).
 *
 * Pipeline: `subscribe` → each record handled → `chorus_hop_latency_seconds`
 * (its append time to the end of its handling) and the partition's handled
 * position; each assignment → the partitions' high watermarks then, which
 * the member must reach to be caught up (`behind`, for `/readyz`); each
 * scrape → the consumer lag of every partition the process owns.
 *
 * Invariants:
 * - A partition is caught up once the member handled everything up to the
 *   high watermark it had when it was assigned (or its group had already
 *   committed that far): a busy lane never reads as not ready, a member
 *   rebuilding or replaying its backlog does.
 * - Only the partitions this process owns are reported, so the members of a
 *   group never report one partition twice.
 *
 * @module
 */
import type { BusPort, Subscription, TopicPartition } from "../bus/port.ts"
import type { ChorusMetrics } from "./chorus-metrics.ts"

export interface MeteredBus extends BusPort {
  /** Each owned partition not caught up yet, in words (empty: every subscription is caught up). */
  readonly behind: () => ReadonlyArray<string>
}

interface Followed {
  readonly groupId: string
  subscription: Subscription | undefined
  /** `topic:partition` → the offset to reach; absent while it is being read. */
  readonly targets: Map<string, number>
  /** `topic:partition` → the next offset after the last record handled (or committed at assignment). */
  readonly reached: Map<string, number>
  generation: number
  /** Whether the targets are being read now. */
  reading: boolean
}

const place = (topic: string, partition: number) => `${topic}:${partition}`

const topicsOf = (assignment: ReadonlyArray<TopicPartition>) => [...new Set(assignment.map((a) => a.topic))]

/**
 * Wraps `bus` so its subscriptions report to `metrics`.
 *
 * @example
 * ```ts
 * const bus = meteredBus(await openBus(…), metrics)
 * await startServices({ bus, … })
 * bus.behind() // ["chorus.submitter.902 chorus.attestations[1]: at offset 10 of 52"]
 * ```
 */
export const meteredBus = (inner: BusPort, metrics: ChorusMetrics): MeteredBus => {
  const followed = new Set<Followed>()

  /** Each partition of `topic`: its watermarks, and the group's committed offset (undefined: never committed). */
  const positionsOf = async (groupId: string, topic: string) => {
    const [watermarks, committed] = await Promise.all([
      inner.watermarks(topic),
      inner.committedOffsets(groupId, topic),
    ])
    return watermarks.map((marks) => ({
      ...marks,
      committed: committed.find((c) => c.partition === marks.partition)?.offset,
    }))
  }

  const readTargets = async (entry: Followed, assignment: ReadonlyArray<TopicPartition>) => {
    const generation = ++entry.generation
    entry.targets.clear()
    for (const topic of topicsOf(assignment)) {
      const positions = await positionsOf(entry.groupId, topic)
      if (generation !== entry.generation) return
      for (const { partition, high, committed } of positions) {
        const key = place(topic, partition)
        entry.reached.set(key, Math.max(entry.reached.get(key) ?? 0, committed ?? 0))
        entry.targets.set(key, high)
      }
    }
  }

  const follow = (entry: Followed, assignment: ReadonlyArray<TopicPartition>) => {
    entry.reading = true
    readTargets(entry, assignment)
      .catch(() => {
        // Unread targets leave the member "not caught up"; the next `behind` reads them again.
        entry.generation++
      })
      .finally(() => {
        entry.reading = false
      })
  }

  metrics.onScrape(async () => {
    const rows: Array<[Record<string, string>, number]> = []
    for (const entry of followed) {
      const assignment = entry.subscription?.assignment() ?? []
      for (const topic of topicsOf(assignment)) {
        const positions = await positionsOf(entry.groupId, topic)
        for (const { partition } of assignment.filter((a) => a.topic === topic)) {
          const marks = positions.find((p) => p.partition === partition)
          if (marks === undefined) continue
          rows.push([
            { group: entry.groupId, topic, partition: String(partition) },
            Math.max(0, marks.high - (marks.committed ?? marks.low)),
          ])
        }
      }
    }
    metrics.replaceGauge("consumerLag", rows)
  })

  return {
    kind: inner.kind,
    ...(inner.authenticate === undefined ? {} : { authenticate: inner.authenticate }),
    ensureTopics: (topics) => inner.ensureTopics(topics),
    partitions: (topic) => inner.partitions(topic),
    publish: (records) => inner.publish(records),
    read: (options) => inner.read(options),
    watermarks: (topic) => inner.watermarks(topic),
    offsetsForTimestamp: (topic, timestamp) => inner.offsetsForTimestamp(topic, timestamp),
    committedOffsets: (groupId, topic) => inner.committedOffsets(groupId, topic),
    close: () => inner.close(),

    subscribe: async (options) => {
      const entry: Followed = {
        groupId: options.groupId,
        subscription: undefined,
        targets: new Map(),
        reached: new Map(),
        generation: 0,
        reading: false,
      }
      followed.add(entry)
      let subscription: Subscription
      try {
        subscription = await inner.subscribe({
          ...options,
          handler: async (record, context) => {
            await options.handler(record, context)
            metrics.handled(
              options.groupId,
              record.topic,
              record.key,
              (Date.now() - record.timestamp) / 1_000,
            )
            const key = place(record.topic, record.partition)
            entry.reached.set(key, Math.max(entry.reached.get(key) ?? 0, record.offset + 1))
          },
          onAssignment: (assignment) => {
            options.onAssignment?.(assignment)
            follow(entry, assignment)
          },
        })
      } catch (error) {
        followed.delete(entry)
        throw error
      }
      entry.subscription = subscription
      follow(entry, subscription.assignment())
      return {
        groupId: subscription.groupId,
        get memberId() {
          return subscription.memberId
        },
        assignment: () => subscription.assignment(),
        seek: (topic, partition, position) => subscription.seek(topic, partition, position),
        fence: () => subscription.fence(),
        stop: async () => {
          followed.delete(entry)
          await subscription.stop()
        },
      }
    },

    behind: () => {
      const behind: string[] = []
      for (const entry of followed) {
        const assignment = entry.subscription?.assignment() ?? []
        if (!entry.reading && assignment.some((a) => !entry.targets.has(place(a.topic, a.partition)))) {
          follow(entry, assignment)
        }
        for (const { topic, partition } of assignment) {
          const key = place(topic, partition)
          const target = entry.targets.get(key)
          const reached = entry.reached.get(key) ?? 0
          if (target === undefined) {
            behind.push(`${entry.groupId} ${topic}[${partition}]: its end offset is not read yet`)
          } else if (reached < target) {
            behind.push(`${entry.groupId} ${topic}[${partition}]: at offset ${reached} of ${target}`)
          }
        }
      }
      return behind
    },
  }
}
