import { isTerminal, type Stage, stageOfRank } from "../lifecycle/index.ts"
import type { MessageRow } from "./index-store.ts"

/**
 * Where a message is, for an incident: settled (delivered, failed), not (in flight, stuck), or never a message
 * of its lane (rejected: the proof-builder refuted every observation of it against the source chain), or held
 * because its source chain was rewritten below finality (quarantined: its watcher halted it).
 */
export type MessageStatus = "delivered" | "failed" | "in-flight" | "stuck" | "rejected" | "quarantined"

/** Every status a message list filters by, and `all`: what `chorus messages --status` and the explorer take. */
export const STATUS_FILTERS = [
  "stuck",
  "failed",
  "delivered",
  "in-flight",
  "rejected",
  "quarantined",
  "all",
] as const
export type StatusFilter = (typeof STATUS_FILTERS)[number]

/**
 * How long a message may go without moving forward before it counts as stuck.
 *
 * Two minutes: the devnet relays end to end in 2–9 s (p99), and a rollup
 * with 1–2 s blocks and finality a few blocks behind moves every message
 * within seconds; a message idle for 2 minutes is waiting on something that
 * will not happen by itself. Chains with slow finality (an L1-settled
 * rollup) need a larger threshold: `--stuck-after 30m`.
 */
export const DEFAULT_STUCK_AFTER_MS = 120_000

/**
 * The status of a message at `now`.
 *
 * @example
 * ```ts
 * statusOf(row, { now: Date.now(), stuckAfterMs: DEFAULT_STUCK_AFTER_MS }) // "in-flight"
 * ```
 */
export const statusOf = (
  row: MessageRow,
  options: {
    readonly now: number
    readonly stuckAfterMs: number
    /** The chains their watchers halted (`AuditStore.halts()`). */
    readonly halted?: ReadonlyMap<number, unknown>
  },
): MessageStatus => {
  const stage = stageOfRank(row.stageRank)
  // Only the destination settles a message: a delivered id was a real one, whatever else was rejected.
  if (stage !== undefined && isTerminal(stage)) return stage
  if (row.rejected !== null) return "rejected"
  // Its source chain was rewritten below finality: the submitters hold it until the halt is lifted.
  if (options.halted?.has(row.srcChainId) === true) return "quarantined"
  return options.now - row.lastAt > options.stuckAfterMs ? "stuck" : "in-flight"
}

/**
 * Why a message of a halted chain is held, in words.
 *
 * @example
 * ```ts
 * describeHalt({ chainId: 901, blockNumber: 1234, reason: "…" }) // "source chain 901 was rewritten …"
 * ```
 */
export const describeHalt = (halt: {
  readonly chainId: number
  readonly blockNumber: number
  readonly reason: string
}): string =>
  `quarantined: source chain ${halt.chainId} was rewritten below finality (its watcher halted at block ` +
  `${halt.blockNumber}: ${halt.reason}); every submitter holds its messages until the halt is lifted`

/**
 * The furthest stage a message reached. A rejected one stays observed: the checkpoints that cover its nonce
 * hold the chain's message, not this one.
 */
export const stageOf = (row: MessageRow): Stage => {
  const stage = stageOfRank(row.stageRank) ?? "observed"
  return row.rejected !== null && !isTerminal(stage) ? "observed" : stage
}
