/**
 * Where a watcher resumes: its cursor, from the compacted cursors topic, the
 * read it published but did not finish folding, if it stopped between the
 * two, and whether its chain is halted or was resumed on the log
 * (`chorus.chain.halts`).
 *
 * Pipeline: the last cursor of the chain → the chain's status on the halts
 * topic (`chainHaltsView`: a halt from its watcher, lifted only by a
 * `ChainResumed` from the `chain-resume` tool) → `startPointOf` (pure) →
 * the pending read that start point can fold first.
 *
 * Invariants:
 * - The cursor is the last `WatcherCursor` written for the chain (highest
 *   offset), the one compaction keeps, and nothing else of the cursors
 *   topic is needed: the answer is the same before and after compaction.
 * - A chain halted on the log, and not resumed, does not start: its cursor
 *   names a block the chain no longer has, so reading on would only halt it
 *   again. Only `chorus chain resume` moves it.
 * - A chain whose last halt a resume lifted starts from the resume's trusted
 *   block unless its cursor already descends from that resume (`resumedBy`,
 *   which every cursor written after it carries). A cursor from before the
 *   resume is ignored, however far it got: it may be on the history the
 *   rewrite replaced.
 * - A pending read is the last read of the chain written at or after the
 *   cursor's time that starts right after the cursor (or at `startBlock`
 *   with no cursor); when starting from a resume, the last read naming that
 *   resume that starts right after its trusted block. Folding it again
 *   republishes exactly the events a crash interrupted, with the same ids,
 *   instead of reading a range that might be cut differently.
 *
 * @module
 */
import { readEvents } from "../../bus/events/index.ts"
import { partitionForKey } from "../../bus/partitioner/index.ts"
import type { BusPort } from "../../bus/port.ts"
import type { Envelope, OutboxRangeRead, WatcherCursor } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { type ChainHalt, type ChainResume, type ChainStatus, chainHaltsView } from "../runtime/chain-halts.ts"
import type { ServiceLogger } from "../runtime/index.ts"

/** Where a watcher starts: a closed set, each with what it needs. */
export type StartPoint =
  /** From its last cursor (or `startBlock` with none), as before any halt. */
  | { readonly kind: "cursor"; readonly cursor: Envelope<WatcherCursor> | null }
  /** From a resume's trusted block: its chain was halted, and the resume lifted the halt. */
  | { readonly kind: "resume"; readonly resume: ChainResume }
  /** Nowhere: its chain is halted on the log and no resume lifted the halt. */
  | { readonly kind: "halted"; readonly halt: ChainHalt }

export interface ResumePoint {
  readonly start: StartPoint
  readonly cursor: Envelope<WatcherCursor> | null
  readonly pending: Envelope<OutboxRangeRead> | null
}

/**
 * How far before a resume's record time its first read may have been stamped (another machine's clock): a
 * pending read is looked for from then on.
 */
const CLOCK_SKEW_MS = 5 * 60_000

/**
 * Where a watcher with this last cursor starts, given its chain's status on the halts topic. Pure.
 *
 * @example
 * ```ts
 * startPointOf(cursor, { kind: "resumed", resume }) // { kind: "resume", resume } unless the cursor names it
 * ```
 */
export const startPointOf = (
  cursor: Envelope<WatcherCursor> | null,
  status: ChainStatus | null,
): StartPoint => {
  if (status === null) return { kind: "cursor", cursor }
  if (status.kind === "halted") return { kind: "halted", halt: status.halt }
  if (cursor?.event.resumedBy === status.resume.eventId) return { kind: "cursor", cursor }
  return { kind: "resume", resume: status.resume }
}

/**
 * Reads the chain's cursor, its status on the halts topic and its pending read from the bus.
 *
 * @example
 * ```ts
 * const { start, cursor, pending } = await loadResumePoint(bus, { chainId: 901, startBlock: 0, logger })
 * if (start.kind === "halted") throw new ChainStillHaltedError(start.halt)
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

  const halts = chainHaltsView(bus, logger)
  await halts.refresh()
  const start = startPointOf(cursor, halts.statusOf(chainId))
  if (start.kind === "halted") return { start, cursor, pending: null }

  const topic = TOPICS.watcherReads.name
  const partition = partitionForKey(String(chainId), await bus.partitions(topic))
  const resume = start.kind === "resume" ? start.resume : null
  const expectedFrom =
    resume !== null
      ? resume.block.number + 1
      : cursor === null
        ? options.startBlock
        : cursor.event.block.number + 1
  const since = resume !== null ? resume.at - CLOCK_SKEW_MS : cursor === null ? null : Date.parse(cursor.time)
  let pending: Envelope<OutboxRangeRead> | null = null
  for await (const item of readEvents(bus, {
    topic,
    partitions: [partition],
    from: since === null ? "earliest" : { timestamp: Math.max(0, since) },
  })) {
    if (!item.ok) continue
    const { event } = item.envelope
    if (event._tag !== "OutboxRangeRead" || event.chainId !== chainId) continue
    if (event.fromBlock !== expectedFrom) continue
    const fits =
      resume !== null
        ? // Only a read made from this resume's trusted block: one of the history before the halt may start
          // at the same block.
          event.resumedBy === resume.eventId && event.cursorCheck?.hash === resume.block.hash
        : cursor !== null || event.cursorCheck === null
    if (fits) pending = item.envelope as Envelope<OutboxRangeRead>
  }
  return { start, cursor, pending }
}
