/**
 * Lanes as the explorer shows them, from the audit index: each lane's messages by outcome, its latest
 * checkpoints (proposed, attested, committed with the root and transaction), its stalls, and the RPC stalls
 * and chain halts that hold it back now.
 *
 * @module
 */

import type { AuditStore, LaneEventRow } from "../services/auditor/index.ts"
import { rankOf } from "../services/lifecycle/index.ts"

export interface LaneSummary {
  /** `src:outbox:dst`. */
  readonly lane: string
  readonly srcChainId: number
  readonly dstChainId: number
  readonly messages: number
  readonly delivered: number
  readonly failed: number
  readonly lastObservedAt: number
  /** The highest count proposed, attested and committed, with when (and the committed root and transaction). */
  readonly proposed: { readonly count: number; readonly at: number } | null
  readonly attested: { readonly count: number; readonly at: number } | null
  readonly committed: {
    readonly count: number
    readonly at: number
    readonly root: string
    readonly transactionHash: string
  } | null
  /** The latest `LaneStalled` of the lane, if any. */
  readonly stalled: {
    readonly count: number
    readonly at: number
    readonly reason: string
    readonly why: string
  } | null
  /** What holds the lane's chains back now: open RPC stalls and chain halts, in words. */
  readonly holdingBack: ReadonlyArray<string>
}

interface RawLane {
  lane: string
  src: number
  dst: number
  messages: number
  delivered: number
  failed: number
  last: number
}

const latest = (store: AuditStore, lane: string, stage: string) =>
  store.db
    .prepare(
      "SELECT count, at, detail FROM lane_events WHERE lane = ? AND stage = ? ORDER BY count DESC, at DESC LIMIT 1",
    )
    .get(lane, stage) as { count: number; at: number; detail: string } | undefined

/**
 * Every lane the log has a message of (or only `only`), by source then destination.
 *
 * @example
 * ```ts
 * lanes(store)[0] // { lane: "901:0x…:902", messages: 12, delivered: 9, committed: { count: 12, root: "0x…", … }, … }
 * ```
 */
export const lanes = (store: AuditStore, only?: string): LaneSummary[] => {
  const rows = store.db
    .prepare(
      `SELECT lane, src, dst, COUNT(*) AS messages,
         SUM(stage_rank >= ?) AS delivered, SUM(stage_rank = ?) AS failed, MAX(observed_at) AS last
       FROM messages ${only === undefined ? "" : "WHERE lane = ?"} GROUP BY lane ORDER BY src, dst, lane`,
    )
    .all(rankOf("delivered"), rankOf("failed"), ...(only === undefined ? [] : [only])) as unknown as RawLane[]
  const stalls = store.openStalls()
  const halts = store.halts()
  return rows.map((row) => {
    const proposed = latest(store, row.lane, "proposed")
    const attested = latest(store, row.lane, "attested")
    const committed = latest(store, row.lane, "committed")
    const stalled = latest(store, row.lane, "stalled")
    const committedDetail =
      committed === undefined ? {} : (JSON.parse(committed.detail) as Record<string, unknown>)
    const stalledDetail = stalled === undefined ? {} : (JSON.parse(stalled.detail) as Record<string, unknown>)
    const chains = [row.src, row.dst]
    return {
      lane: row.lane,
      srcChainId: row.src,
      dstChainId: row.dst,
      messages: row.messages,
      delivered: row.delivered,
      failed: row.failed,
      lastObservedAt: row.last,
      proposed: proposed === undefined ? null : { count: proposed.count, at: proposed.at },
      attested: attested === undefined ? null : { count: attested.count, at: attested.at },
      committed:
        committed === undefined
          ? null
          : {
              count: committed.count,
              at: committed.at,
              root: String(committedDetail.root ?? ""),
              transactionHash: String(committedDetail.transactionHash ?? ""),
            },
      stalled:
        stalled === undefined
          ? null
          : {
              count: stalled.count,
              at: stalled.at,
              reason: String(stalledDetail.reason ?? ""),
              why: String(stalledDetail.why ?? ""),
            },
      holdingBack: [
        ...stalls
          .filter((s) => chains.includes(s.chainId))
          .map(
            (s) =>
              `${s.service} ${s.instance} cannot use its RPC of chain ${s.chainId} since ${s.since}: ${s.problem}`,
          ),
        ...chains.flatMap((chain) => {
          const halt = halts.get(chain)
          return halt === undefined
            ? []
            : [`chain ${chain} is halted at block ${halt.blockNumber}: ${halt.reason}`]
        }),
      ],
    }
  })
}

/** A lane's checkpoints, newest first: each count with every event the log holds of it. */
export interface LaneCheckpoint {
  readonly count: number
  readonly events: ReadonlyArray<Pick<LaneEventRow, "stage" | "at" | "type" | "detail">>
}

/**
 * The newest `limit` checkpoints of `lane`.
 *
 * @example
 * ```ts
 * laneCheckpoints(store, "901:0x…:902", 20)[0] // { count: 12, events: [{ stage: "proposed", … }, …] }
 * ```
 */
export const laneCheckpoints = (store: AuditStore, lane: string, limit: number): LaneCheckpoint[] => {
  const counts = store.db
    .prepare("SELECT DISTINCT count FROM lane_events WHERE lane = ? ORDER BY count DESC LIMIT ?")
    .all(lane, limit) as Array<{ count: number }>
  if (counts.length === 0) return []
  const events = store.db
    .prepare(
      "SELECT count, stage, at, type, detail FROM lane_events WHERE lane = ? AND count >= ? ORDER BY count DESC, at, rank",
    )
    .all(lane, counts.at(-1)!.count) as Array<{
    count: number
    stage: string
    at: number
    type: string
    detail: string
  }>
  return counts.map(({ count }) => ({
    count,
    events: events
      .filter((e) => e.count === count)
      .map((e) => ({
        stage: e.stage,
        at: e.at,
        type: e.type,
        detail: JSON.parse(e.detail) as Record<string, unknown>,
      })),
  }))
}
