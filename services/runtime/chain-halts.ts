/**
 * Which source chains are halted, and which were resumed, as the log says:
 * a view of `chorus.chain.halts` that services consult before they act on a
 * chain's messages. A watcher that sees its chain rewritten below finality
 * writes `ChainHalted` and stops; from then on no submitter delivers, and no
 * operator signs, that chain's messages (they are quarantined) until
 * `chorus chain resume` writes a `ChainResumed` that lifts the halt from a
 * trusted block below the rewrite.
 *
 * Pipeline: `refresh()` reads the topic from where the last refresh ended
 * to its end (every partition), through the bus's decode edge, and folds
 * each event in log order (`foldChainHalt`) into one status per chain;
 * `haltOf`, `resumeOf` and `statusOf` answer from that fold.
 *
 * The rule (`foldChainHalt`, pure, shared with the audit index): a chain is
 * halted while its last `ChainHalted` is not followed, in log order on its
 * partition (the topic is keyed by chain), by a `ChainResumed` that names
 * it. A resume naming any other halt, or written while the chain is not
 * halted, lifts nothing. A halt after a resume halts the chain again.
 *
 * Invariants:
 * - Only what the decode edge accepts is folded, and only from its rightful
 *   writer (`haltEventOf`): a `ChainHalted` from a chain-watcher, a
 *   `ChainResumed` from the `chain-resume` tool. On an authenticating bus a
 *   producer's claim is its key's, so nobody but a chain's watcher can
 *   quarantine it (a watcher only its own chain), and nobody but the tool's
 *   key can lift a halt, though both write the topic.
 * - A halt, once folded, stays until the log lifts it; a record that does
 *   not decode, or that its writer may not write, is reported once and
 *   never folded.
 * - The topic is not co-partitioned with the lane topics, so the view reads
 *   all of it in every member, whichever lanes it holds.
 *
 * @module
 */
import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { type ChainReader, OutboxNotDeployedError } from "../../chains/index.ts"
import type { Address } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import {
  type ChainHalt,
  type ChainResume,
  type ChainStatus,
  foldChainHalt,
  haltEventOf,
} from "./chain-halt-rule.ts"
import type { ServiceLogger } from "./logger.ts"

export * from "./chain-halt-rule.ts"

export interface ChainHaltsView {
  /** Folds what was written to the halts topic since the last refresh. */
  refresh(): Promise<void>
  /** The halt of `chainId`, or null while it is not halted (as of the last refresh). */
  haltOf(chainId: number): ChainHalt | null
  /** The resume that lifted `chainId`'s last halt, or null while it is halted or was never halted. */
  resumeOf(chainId: number): ChainResume | null
  /** Where `chainId` stands: halted, resumed, or null (never halted). */
  statusOf(chainId: number): ChainStatus | null
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
  const statuses = new Map<number, ChainStatus>()
  const halted = new Map<number, ChainHalt>()
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
        const where = { topic, partition, offset: item.record.offset }
        if (!item.ok) {
          logger.warn(
            "a record on the chain halts topic is not an event this service may use; it is ignored",
            {
              ...where,
              error: item.error.message,
            },
          )
          continue
        }
        const event = haltEventOf(item.envelope)
        if (event.kind === "ignored") {
          // Stalls and recoveries share the topic; only a halt or resume from the wrong writer is worth a line.
          if (item.envelope.event._tag === "ChainHalted" || item.envelope.event._tag === "ChainResumed")
            logger.warn("a halt or resume on the chain halts topic is ignored", {
              ...where,
              reason: event.reason,
            })
          continue
        }
        const chainId = event.kind === "halted" ? event.halt.chainId : event.resume.chainId
        const folded = foldChainHalt(statuses.get(chainId) ?? null, event)
        if (folded.kind === "ignored") {
          logger.warn("a halt or resume on the chain halts topic changes nothing", {
            ...where,
            reason: folded.reason,
          })
          continue
        }
        const { status } = folded
        statuses.set(chainId, status)
        if (status.kind === "halted") {
          halted.set(chainId, status.halt)
          logger.warn("a source chain is halted: its messages are quarantined", {
            chainId,
            blockNumber: status.halt.blockNumber,
            reason: status.halt.reason,
          })
        } else {
          halted.delete(chainId)
          logger.warn("a halted source chain was resumed from a trusted block: its quarantine is lifted", {
            chainId,
            block: status.resume.block.number,
            by: status.resume.by,
            reason: status.resume.reason,
          })
        }
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
    haltOf: (chainId) => halted.get(chainId) ?? null,
    resumeOf: (chainId) => {
      const status = statuses.get(chainId)
      return status?.kind === "resumed" ? status.resume : null
    },
    statusOf: (chainId) => statuses.get(chainId) ?? null,
    halts: () => halted,
  }
}

/**
 * Each lane's Outbox count at a resume's trusted block, as `reader`'s RPC shows it: what `chorus chain
 * resume` records, and what the watcher checks the record against before it reads on. An Outbox not
 * deployed yet at the block has sent nothing.
 *
 * @example
 * ```ts
 * await laneCountsAt(reader, outbox, [902, 903], 1180) // Map { 902 => 41, 903 => 17 }
 * ```
 */
export const laneCountsAt = async (
  reader: Pick<ChainReader, "outboxLane">,
  outbox: Address,
  destinations: ReadonlyArray<number>,
  block: number,
): Promise<ReadonlyMap<number, number>> => {
  const counts = new Map<number, number>()
  for (const dstChainId of destinations) {
    try {
      counts.set(dstChainId, (await reader.outboxLane({ outbox, dstChainId }, block)).count)
    } catch (error) {
      if (!(error instanceof OutboxNotDeployedError)) throw error
      counts.set(dstChainId, 0)
    }
  }
  return counts
}
