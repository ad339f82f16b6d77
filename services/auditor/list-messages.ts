import { rankOf, type Stage, TERMINAL_STAGES } from "../lifecycle/index.ts"
import { type AuditStore, type MessageRow, type RawMessage, toMessageRow } from "./index-store.ts"
import { describeHalt, type MessageStatus, stageOf, statusOf } from "./message-status.ts"
import { describeStakeGap, describeStall, holdsBack, stakeGapOf } from "./waiting-on.ts"

const DELIVERED_CLAUSE = "stage_rank >= ?"

export interface MessageFilter {
  readonly status: MessageStatus | "all"
  readonly srcChainId?: number
  readonly dstChainId?: number
  /** Only messages observed at or after this time (ms). */
  readonly since?: number
  readonly now: number
  readonly stuckAfterMs: number
  /** At most this many rows (0: no limit); `total` still counts every match. */
  readonly limit: number
  /** Only this lane (`laneKey`: `901-902`). */
  readonly lane?: string
  /** Newest first (the explorer's order); oldest first when absent. */
  readonly newestFirst?: boolean
  /**
   * Only the rows after this one in the order (the last row of the page before): keyset paging, so a page costs
   * the same however deep it is, and rows indexed meanwhile do not shift it. `total` ignores it.
   */
  readonly after?: { readonly observedAt: number; readonly id: string }
}

export interface ListedMessage extends MessageRow {
  readonly status: MessageStatus
  readonly stage: Stage
  /**
   * What it waits on, beyond its stage, for a message on its way: the stake its checkpoint lacks and who has
   * not signed, and each service that cannot reach its RPC for its chains. Empty for a settled or rejected one.
   */
  readonly waitingOn: ReadonlyArray<string>
}

/**
 * Messages matching a filter, oldest first, with their status and stage.
 *
 * @example
 * ```ts
 * const { rows, total } = listMessages(store, { status: "stuck", now: Date.now(), stuckAfterMs: 120_000, limit: 50 })
 * ```
 */
export const listMessages = (
  store: AuditStore,
  filter: MessageFilter,
): { rows: ListedMessage[]; total: number } => {
  const where: string[] = []
  const params: Array<number | string> = []
  if (filter.srcChainId !== undefined) {
    where.push("src = ?")
    params.push(filter.srcChainId)
  }
  if (filter.dstChainId !== undefined) {
    where.push("dst = ?")
    params.push(filter.dstChainId)
  }
  if (filter.since !== undefined) {
    where.push("observed_at >= ?")
    params.push(filter.since)
  }
  if (filter.lane !== undefined) {
    where.push("lane = ?")
    params.push(filter.lane)
  }
  const failed = rankOf("failed")
  const delivered = rankOf("delivered")
  // Terminal stages rank above every other: below the lowest of them, a message is still on its way.
  const settled = Math.min(...TERMINAL_STAGES.map(rankOf))
  const idleSince = filter.now - filter.stuckAfterMs
  const halted = store.halts()
  // The messages of a halted source are quarantined until they settle, not stuck or in flight.
  const notHalted = halted.size === 0 ? "" : ` AND src NOT IN (${[...halted.keys()].map(Number).join(", ")})`
  switch (filter.status) {
    case "delivered":
      where.push(DELIVERED_CLAUSE)
      params.push(delivered)
      break
    case "failed":
      where.push("stage_rank = ?")
      params.push(failed)
      break
    case "stuck":
      where.push(`stage_rank < ? AND last_at < ? AND rejected IS NULL${notHalted}`)
      params.push(settled, idleSince)
      break
    case "in-flight":
      where.push(`stage_rank < ? AND last_at >= ? AND rejected IS NULL${notHalted}`)
      params.push(settled, idleSince)
      break
    case "quarantined":
      where.push(
        `stage_rank < ? AND rejected IS NULL AND src IN (${[...halted.keys()].map(Number).join(", ") || "NULL"})`,
      )
      params.push(settled)
      break
    case "rejected":
      where.push("stage_rank < ? AND rejected IS NOT NULL")
      params.push(settled)
      break
    case "all":
      break
  }
  const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`
  // Read once, when a listed message is on its way.
  let open: ReturnType<AuditStore["openStalls"]> | undefined
  const stalls = () => {
    open ??= store.openStalls()
    return open
  }
  // With no status, the count needs no stage: the observations alone, without the view's join.
  const total = (
    store.db
      .prepare(
        `SELECT COUNT(*) AS n FROM ${filter.status === "all" ? "messages_observed" : "messages"} ${clause}`,
      )
      .get(...params) as { n: number }
  ).n
  const limit = filter.limit > 0 ? ` LIMIT ${Math.trunc(filter.limit)}` : ""
  const direction = filter.newestFirst === true ? "DESC" : "ASC"
  // Delivered is most messages: its page is read in observation order, stopping at the page's end, rather
  // than through the stage index and then sorted whole (272 ms at 100,000 messages, against a few).
  const rowClause = clause.replace(DELIVERED_CLAUSE, "+stage_rank >= ?")
  const page =
    filter.after === undefined
      ? { clause: rowClause, params }
      : {
          clause: `${rowClause === "" ? "WHERE" : `${rowClause} AND`} (observed_at, id) ${filter.newestFirst === true ? "<" : ">"} (?, ?)`,
          params: [...params, filter.after.observedAt, filter.after.id],
        }
  const rows = (
    store.db
      .prepare(
        `SELECT * FROM messages ${page.clause} ORDER BY observed_at ${direction}, id ${direction}${limit}`,
      )
      .all(...page.params) as unknown as RawMessage[]
  ).map((raw) => {
    const row = toMessageRow(raw)
    const status = statusOf(row, { ...filter, halted })
    const halt = status === "quarantined" ? halted.get(row.srcChainId) : undefined
    const waits = halt === undefined ? waitingOn(store, row, status, stalls) : [describeHalt(halt)]
    return { ...row, status, stage: stageOf(row), waitingOn: waits }
  })
  return { rows, total }
}

/** The signatures it lacks (only a message waiting for them costs a lookup) and the stalls that hold it back. */
const waitingOn = (
  store: AuditStore,
  row: MessageRow,
  status: MessageStatus,
  stalls: () => ReturnType<AuditStore["openStalls"]>,
): ReadonlyArray<string> => {
  if (status !== "stuck" && status !== "in-flight") return []
  const stage = stageOf(row)
  const gap =
    stage === "proposed" || stage === "signed"
      ? stakeGapOf(store, row, store.laneEventsCovering(row.lane, row.nonce))
      : undefined
  return [
    ...(gap === undefined ? [] : [describeStakeGap(gap)]),
    ...stalls()
      .filter((stall) => holdsBack(stall, row))
      .map(describeStall),
  ]
}
