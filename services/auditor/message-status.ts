import { isTerminal, type Stage, stageOfRank } from "../lifecycle/index.ts"
import type { MessageRow } from "./index-store.ts"

/** Where a message is, for an incident: settled (delivered, failed) or not (in flight, stuck). */
export type MessageStatus = "delivered" | "failed" | "in-flight" | "stuck"

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
export const statusOf = (row: MessageRow, options: { now: number; stuckAfterMs: number }): MessageStatus => {
  const stage = stageOfRank(row.stageRank)
  if (stage !== undefined && isTerminal(stage)) return stage
  return options.now - row.lastAt > options.stuckAfterMs ? "stuck" : "in-flight"
}

/** The furthest stage a message reached. */
export const stageOf = (row: MessageRow): Stage => stageOfRank(row.stageRank) ?? "observed"
