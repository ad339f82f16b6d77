/**
 * Per-hop latency of the messages observed in a window, per lane: for each message, the first time it reached
 * each stage; a hop is the time from one stage it reached to the next one it reached, in the lifecycle's
 * order. Percentiles per lane and hop, and a series per hop over the window for a chart.
 *
 * @module
 */
import type { AuditStore } from "../services/auditor/index.ts"
import { STAGES } from "../services/lifecycle/index.ts"

/** Percentiles of one hop, in ms. */
export interface HopStats {
  readonly hop: string
  readonly count: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
}

export interface LaneLatency {
  readonly lane: string
  readonly hops: ReadonlyArray<HopStats>
  /** Per hop, the median in each of `buckets` equal slices of the window (null: no message in the slice). */
  readonly series: Readonly<Record<string, ReadonlyArray<number | null>>>
}

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!

const ORDER = new Map<string, number>(STAGES.map((stage, i) => [stage, i]))

/**
 * Hop latency of the messages observed in [from, to], per lane (or of one lane).
 *
 * @example
 * ```ts
 * latency(store, { from: Date.now() - 3_600_000, to: Date.now(), buckets: 24 })
 * ```
 */
export const latency = (
  store: AuditStore,
  window: { readonly from: number; readonly to: number; readonly buckets: number; readonly lane?: string },
): LaneLatency[] => {
  const rows = store.db
    .prepare(
      `SELECT o.lane AS lane, o.seq AS seq, o.observed_at AS observedAt, s.stage AS stage, MIN(s.at) AS at
       FROM messages_observed o JOIN steps s ON s.message_seq = o.seq
       WHERE o.observed_at >= ? AND o.observed_at <= ?${window.lane === undefined ? "" : " AND o.lane = ?"}
       GROUP BY o.seq, s.stage ORDER BY o.seq`,
    )
    .all(window.from, window.to, ...(window.lane === undefined ? [] : [window.lane])) as Array<{
    lane: string
    seq: number
    observedAt: number
    stage: string
    at: number
  }>
  // Per lane, per hop: every sample with the time its message was observed.
  const byLane = new Map<string, Map<string, Array<{ at: number; ms: number }>>>()
  let i = 0
  while (i < rows.length) {
    const seq = rows[i]!.seq
    const reached: Array<{ stage: string; at: number }> = []
    const { lane, observedAt } = rows[i]!
    for (; i < rows.length && rows[i]!.seq === seq; i++) {
      if (ORDER.has(rows[i]!.stage)) reached.push({ stage: rows[i]!.stage, at: rows[i]!.at })
    }
    reached.sort((a, b) => ORDER.get(a.stage)! - ORDER.get(b.stage)!)
    const hops = byLane.get(lane) ?? new Map<string, Array<{ at: number; ms: number }>>()
    byLane.set(lane, hops)
    for (let k = 1; k < reached.length; k++) {
      const hop = `${reached[k - 1]!.stage}→${reached[k]!.stage}`
      const samples = hops.get(hop) ?? []
      samples.push({ at: observedAt, ms: Math.max(0, reached[k]!.at - reached[k - 1]!.at) })
      hops.set(hop, samples)
    }
  }
  const span = Math.max(1, window.to - window.from)
  return [...byLane].map(([lane, hops]) => ({
    lane,
    hops: [...hops].map(([hop, samples]) => {
      const sorted = samples.map((s) => s.ms).sort((a, b) => a - b)
      return {
        hop,
        count: sorted.length,
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: sorted.at(-1)!,
      }
    }),
    series: Object.fromEntries(
      [...hops].map(([hop, samples]) => {
        const slices: number[][] = Array.from({ length: window.buckets }, () => [])
        for (const s of samples) {
          slices[
            Math.min(window.buckets - 1, Math.floor(((s.at - window.from) / span) * window.buckets))
          ]!.push(s.ms)
        }
        return [
          hop,
          slices.map((slice) =>
            slice.length === 0
              ? null
              : percentile(
                  slice.sort((a, b) => a - b),
                  50,
                ),
          ),
        ]
      }),
    ),
  }))
}
