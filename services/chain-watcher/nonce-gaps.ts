/**
 * The nonce gaps the proof-builder waits on in a watcher's lanes: a view of
 * `chorus.checkpoints.proposed` that the watcher consults after each tick, to
 * re-read the one message a gap lacks (issue 12: a gap the range reads
 * should have closed, left by a version-1 read, a lost or forged record, a
 * bug, would otherwise hold the lane forever).
 *
 * Pipeline: `refresh()` reads the topic from where the last refresh ended to
 * its end (every partition with anything new, by one look at the topic's
 * watermarks), through the bus's decode edge, and folds each
 * record in log order (`gapEventOf`, pure): a `LaneStalled` with reason
 * `nonce-gap` on one of the watcher's lanes opens a gap at its `treeCount`
 * (the nonce missing); a `CheckpointProposed` of the lane with a count past
 * a gap's nonce closes it (the proof-builder went on). `open()` lists the
 * gaps still open; the watcher `close()`s one once it observed its message
 * again, or found its nonce not sent by its cursor (the range reads will
 * observe it).
 *
 * Invariants:
 * - Only what the proof-builder wrote counts (its producer stamp; on an
 *   authenticating bus, its key's), and only of the watcher's own chain and
 *   configured Outbox: nobody else can make a watcher read.
 * - A gap is one per lane and nonce, however many times it is reported: a
 *   flood of stalls costs a map entry.
 * - A record that does not decode is reported once and never folded.
 *
 * @module
 */
import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { type Address, type Envelope, type EventId, type Lane, laneKey } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import type { ServiceLogger } from "../runtime/index.ts"

/** The only producer whose stalls and proposals are folded. */
export const GAP_WRITER = "proof-builder"

/** A nonce the proof-builder waits for on one of the watcher's lanes. */
export interface NonceGap {
  readonly lane: Lane
  /** The missing nonce: the stall's `treeCount`. */
  readonly nonce: number
  /** The `LaneStalled` that reported it last. */
  readonly stall: EventId
}

/** What one record of the proposals topic says about the watcher's gaps. */
export type GapEvent =
  | { readonly kind: "gap"; readonly gap: NonceGap }
  | { readonly kind: "proposed"; readonly dstChainId: number; readonly count: number }
  | { readonly kind: "ignored"; readonly reason: string }

/** The watcher's chain and Outbox: its lanes. */
export interface WatchedOutbox {
  readonly chainId: number
  readonly outbox: Address
}

const ofWatched = (lane: { readonly srcChainId: number; readonly outbox: string }, watched: WatchedOutbox) =>
  lane.srcChainId === watched.chainId && lane.outbox.toLowerCase() === watched.outbox.toLowerCase()

/**
 * What a record of the proposals topic means for the watcher of `watched`. Pure.
 *
 * @example
 * ```ts
 * gapEventOf(stallEnvelope, { chainId: 901, outbox }) // { kind: "gap", gap: { lane, nonce: 23, stall } }
 * ```
 */
export const gapEventOf = (envelope: Envelope, watched: WatchedOutbox): GapEvent => {
  const event = envelope.event
  if (event._tag !== "LaneStalled" && event._tag !== "CheckpointProposed")
    return { kind: "ignored", reason: `a ${event._tag}: no stall and no proposal` }
  const writer = envelope.producer.service
  if (writer !== GAP_WRITER)
    return { kind: "ignored", reason: `a ${event._tag} written by ${writer}, not by the ${GAP_WRITER}` }
  if (event._tag === "CheckpointProposed") {
    if (!ofWatched(event.checkpoint, watched))
      return {
        kind: "ignored",
        reason: `a proposal of lane ${laneKey(event.checkpoint)}, not of this Outbox`,
      }
    return { kind: "proposed", dstChainId: event.checkpoint.dstChainId, count: event.checkpoint.count }
  }
  if (event.reason !== "nonce-gap")
    return { kind: "ignored", reason: `a ${event.reason} stall, not a nonce gap` }
  if (!ofWatched(event.lane, watched))
    return { kind: "ignored", reason: `a stall of lane ${laneKey(event.lane)}, not of this Outbox` }
  return { kind: "gap", gap: { lane: event.lane, nonce: event.treeCount, stall: envelope.id } }
}

export interface NonceGapsView {
  /** Folds what was written to the proposals topic since the last refresh. */
  refresh(): Promise<void>
  /** The gaps still open (as of the last refresh), by lane, then nonce. */
  open(): ReadonlyArray<NonceGap>
  /** Closes a gap: its message was observed again, or is not sent by the watcher's cursor. */
  close(gap: NonceGap): void
}

const keyOf = (dstChainId: number, nonce: number) => `${dstChainId}:${nonce}`

/**
 * Makes the view; nothing is read before the first `refresh()`, which reads the topic from its start.
 *
 * @example
 * ```ts
 * const gaps = nonceGapsView(bus, { chainId: 901, outbox }, logger)
 * await gaps.refresh()
 * for (const gap of gaps.open()) await reRead(gap)
 * ```
 */
export const nonceGapsView = (bus: BusPort, watched: WatchedOutbox, logger: ServiceLogger): NonceGapsView => {
  const topic = TOPICS.checkpointsProposed.name
  const gaps = new Map<string, NonceGap>()
  /** The highest count proposed per lane (by destination): no gap below it is open. */
  const proposed = new Map<number, number>()
  const next = new Map<number, number>()

  const fold = (event: GapEvent) => {
    if (event.kind === "gap") {
      const { gap } = event
      if (gap.nonce < (proposed.get(gap.lane.dstChainId) ?? 0)) return
      gaps.set(keyOf(gap.lane.dstChainId, gap.nonce), gap)
    } else if (event.kind === "proposed") {
      proposed.set(event.dstChainId, Math.max(event.count, proposed.get(event.dstChainId) ?? 0))
      for (const [key, gap] of gaps)
        if (gap.lane.dstChainId === event.dstChainId && gap.nonce < event.count) gaps.delete(key)
    }
  }

  return {
    refresh: async () => {
      // One look at the topic's ends per refresh; a partition with nothing new is not read at all.
      for (const { partition, low, high } of await bus.watermarks(topic)) {
        const offset = next.get(partition)
        if ((offset ?? low) >= high) continue
        const from = offset === undefined ? ("earliest" as const) : { offset }
        for await (const item of readEvents(bus, {
          topic,
          partitions: [partition],
          from,
          to: { offset: high },
        })) {
          next.set(partition, item.record.offset + 1)
          if (!item.ok) {
            logger.warn(
              "a record on the proposals topic is not an event this watcher may use; it is ignored",
              {
                topic,
                partition,
                offset: item.record.offset,
                error: item.error.message,
              },
            )
            continue
          }
          fold(gapEventOf(item.envelope, watched))
        }
      }
    },
    open: () => [...gaps.values()].sort((a, b) => a.lane.dstChainId - b.lane.dstChainId || a.nonce - b.nonce),
    close: (gap) => {
      gaps.delete(keyOf(gap.lane.dstChainId, gap.nonce))
    },
  }
}
