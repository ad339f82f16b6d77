/**
 * Folding a lane core over its input log, as the log recorded it: what the
 * runtime does to rebuild a shard (`lane-service.ts`) and what a replay
 * (`services/replay/`) does to reproduce a service's outputs.
 *
 * Pipeline:
 *   1. `readRecordedReads`: the chain reads a service instance recorded on
 *      `chorus.lane.reads`, by the id of the input they were made for;
 *   2. `readLogInputs`: the input records of some topic partitions, decoded,
 *      in fold order (`compareLogInputs`);
 *   3. `foldLogInputs`: each input, once per id, through `decide` with the
 *      reads recorded for it.
 *
 * Invariants:
 * - Reads are matched to an input by the producer (service and instance)
 *   that recorded them and by their causation id, the input's id; a read
 *   recorded twice (same id) counts once.
 * - Across topics the log has no single order; record time (when the
 *   record was written to the log) is the order the inputs were first
 *   handled in, then the topic's position in the service's input list, then
 *   the offset.
 * - An input whose id was already folded is skipped, as the runtime skips a
 *   redelivered or republished one.
 * - Records that do not decode are never silently lost: they are counted and
 *   handed to `onUndecodable` (the runtime dead-lettered them when it first
 *   met them, so a fold goes on without them).
 *
 * @module
 */

import type { ReadError } from "../../bus/events/index.ts"
import { readEvents } from "../../bus/events/index.ts"
import type { BusPort, BusRecord } from "../../bus/port.ts"
import type { Envelope } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import type { Decision, LaneCore } from "./lane-core.ts"
import { RecentIds } from "./recent-ids.ts"

/** One decoded input record, with its topic's place in the service's input list. */
export interface LogInput {
  readonly envelope: Envelope
  readonly record: BusRecord
  /** The index of the record's topic in the service's inputs (the tie-break across topics). */
  readonly order: number
}

/** A range of one input topic partition to read: `[from, to)` in offsets. */
export interface LogInputRange {
  readonly topic: string
  readonly partition: number
  /** First offset to read (default: the partition's earliest). */
  readonly from?: number
  /** Exclusive. */
  readonly to: number
  /** The topic's index in the service's inputs. */
  readonly order: number
}

/** A record that did not decode, met while folding. */
export type UndecodableRecord = (record: BusRecord, error: ReadError) => void

/**
 * The fold order of inputs: record time, then input-topic order, then offset.
 *
 * @example
 * ```ts
 * inputs.sort(compareLogInputs)
 * ```
 */
export const compareLogInputs = (a: LogInput, b: LogInput): number =>
  a.record.timestamp - b.record.timestamp || a.order - b.order || a.record.offset - b.record.offset

/**
 * The chain reads one service instance recorded on `chorus.lane.reads`, by
 * the id of the input they were made for (their causation id).
 *
 * @example
 * ```ts
 * const reads = await readRecordedReads(bus, { service: "proof-builder", instance: "proof-builder", partitions: [3] })
 * reads.get(input.id) // the OutboxLaneRead made for that input, if any
 * ```
 */
export const readRecordedReads = async (
  bus: BusPort,
  options: {
    readonly service: string
    readonly instance: string
    /** Which partitions of the reads topic; every one when absent. */
    readonly partitions?: ReadonlyArray<number>
    readonly onUndecodable?: UndecodableRecord
  },
): Promise<Map<string, Envelope[]>> => {
  const byCause = new Map<string, Envelope[]>()
  for await (const read of readEvents(bus, {
    topic: TOPICS.laneReads.name,
    ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
    from: "earliest",
  })) {
    if (!read.ok) {
      options.onUndecodable?.(read.record, read.error)
      continue
    }
    const { envelope } = read
    if (envelope.producer.service !== options.service || envelope.producer.instance !== options.instance)
      continue
    if (envelope.causationId === null) continue
    const list = byCause.get(envelope.causationId) ?? []
    if (!list.some((e) => e.id === envelope.id)) list.push(envelope)
    byCause.set(envelope.causationId, list)
  }
  return byCause
}

/**
 * Reads and decodes input ranges, and returns them in fold order.
 *
 * @example
 * ```ts
 * const inputs = await readLogInputs(bus, [{ topic: TOPICS.messagesObserved.name, partition: 2, to: 120, order: 0 }])
 * ```
 */
export const readLogInputs = async (
  bus: BusPort,
  ranges: ReadonlyArray<LogInputRange>,
  onUndecodable?: UndecodableRecord,
): Promise<LogInput[]> => {
  const inputs: LogInput[] = []
  for (const range of ranges) {
    if (range.from !== undefined && range.from >= range.to) continue
    for await (const read of readEvents(bus, {
      topic: range.topic,
      partitions: [range.partition],
      from: range.from === undefined ? "earliest" : { offset: range.from },
      to: { offset: range.to },
    })) {
      if (read.ok) inputs.push({ envelope: read.envelope, record: read.record, order: range.order })
      else onUndecodable?.(read.record, read.error)
    }
  }
  return inputs.sort(compareLogInputs)
}

/** What a fold did. */
export interface LogFold<S> {
  readonly state: S
  /** Ids of the inputs folded last (the runtime keeps them to skip redeliveries). */
  readonly seen: RecentIds
  /** Inputs handed to `decide`. */
  readonly folded: number
  /** Inputs skipped because one with the same id was folded shortly before (within `RECENT_IDS` inputs). */
  readonly duplicates: number
}

/**
 * Folds inputs, in the order given, through a core with the reads recorded
 * for each. Each folded input's reads are taken out of `reads`, so what is
 * left are reads made for inputs not folded yet.
 *
 * @example
 * ```ts
 * const { state } = foldLogInputs(core, inputs, reads, {
 *   onDecision: (input, decision) => outputs.push(...stampOutputs(producer, input.envelope, decision.outputs)),
 * })
 * ```
 */
export const foldLogInputs = <S>(
  core: LaneCore<S>,
  inputs: Iterable<LogInput>,
  reads: Map<string, Envelope[]>,
  options: {
    /** Where to start (default `core.initial`). */
    readonly from?: S
    /** Called with every decision, in fold order. */
    readonly onDecision?: (input: LogInput, decision: Decision<S>) => void
  } = {},
): LogFold<S> => {
  let state = options.from ?? core.initial
  const seen = new RecentIds()
  let folded = 0
  let duplicates = 0
  for (const input of inputs) {
    const { envelope } = input
    if (seen.has(envelope.id)) {
      duplicates++
      continue
    }
    seen.add(envelope.id)
    const decision = core.decide(state, envelope, reads.get(envelope.id) ?? [])
    state = decision.state
    reads.delete(envelope.id)
    folded++
    options.onDecision?.(input, decision)
  }
  return { state, seen, folded, duplicates }
}
