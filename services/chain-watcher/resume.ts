/**
 * Where a watcher resumes: its cursor, from the compacted cursors topic, and
 * the read it published but did not finish folding, if it stopped between
 * the two.
 *
 * Invariants:
 * - The cursor is the last `WatcherCursor` written for the chain (highest
 *   offset), the one compaction keeps: an operator restarts a halted
 *   watcher from a trusted block by writing a cursor, and the answer is the
 *   same before and after compaction.
 * - A pending read is the last read of the chain written at or after the
 *   cursor's time that starts right after the cursor (or at `startBlock`
 *   with no cursor). Folding it again republishes exactly the events a
 *   crash interrupted, with the same ids, instead of reading a range that
 *   might be cut differently.
 *
 * @module
 */
import { readEvents } from "../../bus/events/index.ts"
import { partitionForKey } from "../../bus/partitioner/index.ts"
import type { BusPort } from "../../bus/port.ts"
import type { Envelope, OutboxRangeRead, WatcherCursor } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import type { ServiceLogger } from "../runtime/index.ts"

export interface ResumePoint {
  readonly cursor: Envelope<WatcherCursor> | null
  readonly pending: Envelope<OutboxRangeRead> | null
}

/**
 * Reads the chain's cursor and pending read from the bus.
 *
 * @example
 * ```ts
 * const { cursor, pending } = await loadResumePoint(bus, { chainId: 901, startBlock: 0, logger })
 * ```
 */
export const loadResumePoint = async (
  bus: BusPort,
  options: { readonly chainId: number; readonly startBlock: number; readonly logger: ServiceLogger },
): Promise<ResumePoint> => {
  const { chainId, logger } = options
  let cursor: Envelope<WatcherCursor> | null = null
  for await (const item of readEvents(bus, { topic: TOPICS.watcherCursors.name, from: "earliest" })) {
    if (!item.ok) {
      logger.warn("skipped an undecodable record on the cursors topic", {
        partition: item.record.partition,
        offset: item.record.offset,
        error: item.error.message,
      })
      continue
    }
    const { envelope } = item
    if (envelope.event._tag === "WatcherCursor" && envelope.event.chainId === chainId) {
      cursor = envelope as Envelope<WatcherCursor>
    }
  }

  const expectedFrom = cursor === null ? options.startBlock : cursor.event.block.number + 1
  const topic = TOPICS.watcherReads.name
  const partition = partitionForKey(String(chainId), await bus.partitions(topic))
  let pending: Envelope<OutboxRangeRead> | null = null
  for await (const item of readEvents(bus, {
    topic,
    partitions: [partition],
    from: cursor === null ? "earliest" : { timestamp: Date.parse(cursor.time) },
  })) {
    if (!item.ok) continue
    const { event } = item.envelope
    if (event._tag !== "OutboxRangeRead" || event.chainId !== chainId) continue
    if (event.fromBlock === expectedFrom && (cursor !== null || event.cursorCheck === null)) {
      pending = item.envelope as Envelope<OutboxRangeRead>
    }
  }
  return { cursor, pending }
}
