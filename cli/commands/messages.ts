import {
  describeStall,
  listMessages,
  type MessageFilter,
  STATUS_FILTERS,
  type StatusFilter,
  timeOrAgo,
} from "../../services/auditor/index.ts"
import { type Command, flags, UsageError } from "../command.ts"
import { AUDIT_DETAILS, auditOptions, openAudit, unreadableWarning } from "../open-audit.ts"
import { BUS_DETAILS, BUS_USAGE } from "../open-bus.ts"
import { stuckAfterOf } from "./trace.ts"

const chainOf = (flag: string, value: unknown): number | undefined => {
  if (value === undefined) return undefined
  const n = Number(value)
  if (typeof value !== "string" || !/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a chain id`)
  return n
}

const sinceOf = (value: unknown, now: number): number | undefined => {
  if (value === undefined) return undefined
  const at = timeOrAgo(String(value), now)
  if (at === undefined)
    throw new UsageError(`--since: ${JSON.stringify(value)} is neither an ISO time nor a duration such as 1h`)
  return at
}

/** `chorus messages`: messages by status, source, destination and age. */
export const messages: Command = {
  path: ["messages"],
  summary:
    "list messages by status (stuck, failed, delivered, in-flight, rejected, quarantined, all): where an incident starts",
  usage: `messages ${BUS_USAGE} [--status <status>] [--source <chainId>] [--destination <chainId>] [--since <time|duration>] [--stuck-after <duration>] [--limit <n>] [--json | --ids] [--index <file>]`,
  details: [
    BUS_DETAILS,
    AUDIT_DETAILS,
    "  --status <status>        stuck | failed | delivered | in-flight | rejected | quarantined | all (default all);",
    "                           rejected: observations the proof-builder refuted against the source chain",
    "                           (a forged or faulty MessageObserved), shown with the reason; never delivered;",
    "                           quarantined: not settled, from a chain its watcher halted (rewritten below",
    "                           finality), held by every submitter until the halt is lifted",
    "  --source <chainId>       only messages sent from this chain",
    "  --destination <chainId>  only messages sent to this chain",
    "  --since <time|duration>  only messages observed since an ISO time or a duration ago (e.g. 1h)",
    "  --stuck-after <duration> a message neither delivered nor failed that has not moved for this long is",
    "                           stuck (default 2m: the devnet relays in seconds; raise it for slow finality)",
    "  --limit <n>              at most n rows (default 100; 0 for all); the total is always printed",
    "  --json                   one JSON object per line (`waitingOn`: what it waits on), then a summary",
    "                           line (with `stalls` when a service cannot reach its RPC now)",
    "  --ids                    only the matching ids, one per line (for scripts: a loop of `chorus retry`)",
    "",
    "A message on its way (stuck or in flight) is followed by what it waits on, when the log says: the",
    "stake its checkpoint lacks against the stake required, and the operators (with their weights) that",
    "have not signed; a service that cannot reach its RPC for its chains (rpc-unreachable) or gets only",
    "answers it cannot use (rpc-invalid), with the RPC's URL (credentials redacted) and since when.",
    "Before the total, every RPC stall not recovered yet is listed, also those of chains with no listed",
    "message (a watcher that cannot read its chain observes nothing).",
  ].join("\n"),
  options: {
    ...auditOptions,
    ...flags({
      values: ["status", "source", "destination", "since", "stuck-after", "limit"],
      switches: ["json", "ids"],
    }),
  },
  async run({ values, out, err }) {
    const status = (values.status ?? "all") as MessageFilter["status"]
    if (!STATUS_FILTERS.includes(status as StatusFilter))
      throw new UsageError(
        `--status: ${JSON.stringify(values.status)} is not one of ${STATUS_FILTERS.join(", ")}`,
      )
    const limit = values.limit === undefined ? 100 : Number(values.limit)
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new UsageError(`--limit: ${JSON.stringify(values.limit)} is not a count`)
    const now = Date.now()
    const srcChainId = chainOf("--source", values.source)
    const dstChainId = chainOf("--destination", values.destination)
    const since = sinceOf(values.since, now)
    const filter: MessageFilter = {
      status,
      now,
      stuckAfterMs: stuckAfterOf(values["stuck-after"]),
      limit,
      ...(srcChainId !== undefined ? { srcChainId } : {}),
      ...(dstChainId !== undefined ? { dstChainId } : {}),
      ...(since !== undefined ? { since } : {}),
    }
    const audit = await openAudit(values, err)
    try {
      const warning = unreadableWarning(audit.store)
      if (warning !== undefined) err(warning)
      const { rows, total } = listMessages(audit.store, filter)
      if (values.ids === true) {
        for (const row of rows) out(row.id)
        if (rows.length < total)
          err(`${total} message(s) match; printed the oldest ${rows.length} (--limit 0 prints all)`)
        return 0
      }
      const stalls = audit.store.openStalls().map(describeStall)
      if (values.json === true) {
        for (const row of rows) out(JSON.stringify(row))
        out(JSON.stringify({ total, shown: rows.length, ...(stalls.length > 0 ? { stalls } : {}) }))
        return 0
      }
      for (const row of rows) {
        const idle = Math.round((now - row.lastAt) / 1000)
        out(
          `${row.id}  ${row.srcChainId}→${row.dstChainId}  nonce ${String(row.nonce).padStart(5)}  ${row.status.padEnd(9)}  ${row.stage.padEnd(9)}  observed ${new Date(row.observedAt).toISOString()}  ${
            row.status === "rejected"
              ? `rejected: ${row.rejected} (chorus trace ${row.id} says why)`
              : `last moved ${idle} s ago`
          }`,
        )
        for (const why of row.waitingOn) out(`    waits on: ${why}`)
      }
      for (const stall of stalls) out(`RPC stalled: ${stall}`)
      out(
        rows.length < total
          ? `${total} message(s) match; showing the oldest ${rows.length} (--limit 0 shows all)`
          : `${total} message(s) match`,
      )
      return 0
    } finally {
      await audit.close()
    }
  },
}
