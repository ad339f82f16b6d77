/**
 * The state `tick()` plans from: the lane runtime's shards, merged.
 *
 * Two gaps of the runtime are closed here:
 * - "Caught up": planning waits until the consumer group has folded every
 *   input record that existed at start (so a restart sees every flight it
 *   left in the air), and every record the submitter published since (so
 *   it never plans from a state that lacks its own last outcome). Both are
 *   offsets the group's committed offsets must reach.
 * - Shards are rebuilt only when a record of their partition arrives. A
 *   partition whose records were all consumed before a restart gets none,
 *   so its state is folded here from the log instead (the same fold, order
 *   and de-duplication as the runtime's rebuild), and used until the
 *   runtime holds a shard for it. A partition whose shard the runtime
 *   dropped (a rebuild, a rebalance) is folded from the log afresh until the
 *   shard is back, since new records may have arrived.
 *
 * @module
 */
import { readEvents } from "../../../bus/events/index.ts"
import type { BusPort, RecordPosition } from "../../../bus/port.ts"
import type { Envelope } from "../../../schemas/index.ts"
import type { TopicName } from "../../../topology/index.ts"
import type { LaneCore } from "../../runtime/index.ts"
import { mergeStates, type SubmitterState } from "../core/index.ts"

export interface StateViews {
  /** True once the group's committed offsets reached every expected offset. */
  caughtUp(): Promise<boolean>
  /** Expects the group to fold records up to these positions (the submitter's own). */
  expect(positions: ReadonlyArray<RecordPosition>): void
  /** The merged state of every partition. */
  current(): Promise<SubmitterState>
}

export interface StateViewsOptions {
  readonly bus: BusPort
  readonly groupId: string
  readonly inputs: ReadonlyArray<TopicName>
  readonly core: LaneCore<SubmitterState>
  readonly chainId: number
  /** The runtime's shard of a partition, if it holds one. */
  readonly shardState: (partition: number) => SubmitterState | undefined
}

/**
 * Makes the views; call before the lane service starts consuming, so that
 * "caught up" covers everything that was in the log at start.
 *
 * @example
 * ```ts
 * const views = await makeStateViews({ bus, groupId, inputs, core, chainId: 902, shardState: (p) => service?.shardState(p) })
 * if (await views.caughtUp()) planActions(await views.current(), Date.now(), settings)
 * ```
 */
export const makeStateViews = async (options: StateViewsOptions): Promise<StateViews> => {
  const { bus, groupId, inputs, core } = options
  const partitions = await bus.partitions(inputs[0]!)
  const key = (topic: string, partition: number) => `${topic}#${partition}`
  /** topic#partition → the committed offset to reach. */
  const targets = new Map<string, { topic: string; partition: number; offset: number }>()
  const expect = (topic: string, partition: number, offset: number) => {
    const existing = targets.get(key(topic, partition))
    if (existing === undefined || existing.offset < offset) {
      targets.set(key(topic, partition), { topic, partition, offset })
    }
  }
  for (const topic of inputs) {
    for (const w of await bus.watermarks(topic)) if (w.high > w.low) expect(topic, w.partition, w.high)
  }
  const held = new Set<number>()
  const folded = new Map<number, SubmitterState>()

  const foldFromLog = async (partition: number): Promise<SubmitterState> => {
    const records: Array<{ envelope: Envelope; timestamp: number; order: number; offset: number }> = []
    for (const [order, topic] of inputs.entries()) {
      for await (const read of readEvents(bus, { topic, partitions: [partition], from: "earliest" })) {
        if (read.ok) {
          records.push({
            envelope: read.envelope,
            timestamp: read.record.timestamp,
            order,
            offset: read.record.offset,
          })
        }
      }
    }
    // The runtime's rebuild order: record time, then input order, then offset.
    records.sort((a, b) => a.timestamp - b.timestamp || a.order - b.order || a.offset - b.offset)
    const seen = new Set<string>()
    let state = core.initial
    for (const { envelope } of records) {
      if (seen.has(envelope.id)) continue
      seen.add(envelope.id)
      state = core.decide(state, envelope, []).state
    }
    return state
  }

  return {
    caughtUp: async () => {
      if (targets.size === 0) return true
      for (const topic of new Set([...targets.values()].map((t) => t.topic))) {
        const committed = await bus.committedOffsets(groupId, topic)
        for (const c of committed) {
          const target = targets.get(key(topic, c.partition))
          if (target !== undefined && c.offset >= target.offset) targets.delete(key(topic, c.partition))
        }
      }
      return targets.size === 0
    },
    expect: (positions) => {
      for (const p of positions) expect(p.topic, p.partition, p.offset + 1)
    },
    current: async () => {
      const states: SubmitterState[] = []
      for (let partition = 0; partition < partitions; partition++) {
        const shard = options.shardState(partition)
        if (shard !== undefined) {
          held.add(partition)
          folded.delete(partition)
          states.push(shard)
          continue
        }
        // A partition the runtime held moves on without us: fold it afresh each time until the shard is back.
        let state = held.has(partition) ? undefined : folded.get(partition)
        if (state === undefined) {
          state = await foldFromLog(partition)
          if (!held.has(partition)) folded.set(partition, state)
        }
        states.push(state)
      }
      return mergeStates(options.chainId, states)
    },
  }
}
