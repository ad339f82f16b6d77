/**
 * Which source chains are halted, as the log says: a view of
 * `chorus.chain.halts` that services consult before they act on a chain's
 * messages. A watcher that sees its chain rewritten below finality writes
 * `ChainHalted` and stops; from then on no submitter delivers, and no
 * operator signs, that chain's messages (they are quarantined) until the
 * halt is lifted on the log.
 *
 * Pipeline: `refresh()` reads the topic from where the last refresh ended
 * to its end (every partition), through the bus's decode edge, and folds
 * each event in log order into the halts by chain; `haltOf(chainId)`
 * answers from that fold.
 *
 * Invariants:
 * - Only what the decode edge accepts is folded: on an authenticating bus a
 *   `ChainHalted` is a watcher's own (its key, its chain), so nobody else
 *   can quarantine a chain, nor lift a halt.
 * - A halt, once folded, stays until the log lifts it; a record that does
 *   not decode is reported once and never folded.
 * - The topic is not co-partitioned with the lane topics, so the view reads
 *   all of it in every member, whichever lanes it holds.
 *
 * @module
 */
import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import type { EventId } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import type { ServiceLogger } from "./logger.ts"

/** A chain the log says is halted. */
export interface ChainHalt {
  readonly chainId: number
  /** The block the watcher found rewritten under its cursor. */
  readonly blockNumber: number
  readonly reason: string
  /** The `ChainHalted` record, and when it was written (ms). */
  readonly eventId: EventId
  readonly since: number
}

export interface ChainHaltsView {
  /** Folds what was written to the halts topic since the last refresh. */
  refresh(): Promise<void>
  /** The halt of `chainId`, or null while it is not halted (as of the last refresh). */
  haltOf(chainId: number): ChainHalt | null
  /** Every halt in force (as of the last refresh). */
  halts(): ReadonlyMap<number, ChainHalt>
}

/**
 * Makes the view; nothing is read before the first `refresh()`.
 *
 * @example
 * ```ts
 * const halts = chainHaltsView(bus, logger)
 * await halts.refresh()
 * if (halts.haltOf(lane.srcChainId) !== null) return // quarantined
 * ```
 */
export const chainHaltsView = (bus: BusPort, logger: ServiceLogger): ChainHaltsView => {
  const topic = TOPICS.chainHalts.name
  const halts = new Map<number, ChainHalt>()
  const next = new Map<number, number>()
  let partitions: number | null = null
  let running: Promise<void> | null = null

  const read = async () => {
    partitions ??= await bus.partitions(topic)
    for (let partition = 0; partition < partitions; partition++) {
      const offset = next.get(partition)
      const from = offset === undefined ? ("earliest" as const) : { offset }
      for await (const item of readEvents(bus, { topic, partitions: [partition], from })) {
        next.set(partition, item.record.offset + 1)
        if (!item.ok) {
          logger.warn(
            "a record on the chain halts topic is not an event this service may use; it is ignored",
            {
              topic,
              partition,
              offset: item.record.offset,
              error: item.error.message,
            },
          )
          continue
        }
        const { envelope } = item
        if (envelope.event._tag !== "ChainHalted") continue
        const halt = envelope.event
        if (halts.has(halt.chainId)) continue
        halts.set(halt.chainId, {
          chainId: halt.chainId,
          blockNumber: halt.blockNumber,
          reason: halt.reason,
          eventId: envelope.id,
          since: Date.parse(envelope.time),
        })
        logger.warn("a source chain is halted: its messages are quarantined", {
          chainId: halt.chainId,
          blockNumber: halt.blockNumber,
          reason: halt.reason,
        })
      }
    }
  }

  return {
    refresh: () => {
      // Concurrent callers share one read.
      running ??= read().finally(() => {
        running = null
      })
      return running
    },
    haltOf: (chainId) => halts.get(chainId) ?? null,
    halts: () => halts,
  }
}
