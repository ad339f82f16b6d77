// The auditor's modules themselves, not its index.ts (which adds the service and its runtime): what
// `chorus trace` loads is most of its wall time (issue 13; bench/trace-startup.ts).
import { DEFAULT_STUCK_AFTER_MS } from "../../services/auditor/message-status.ts"
import { parseDuration } from "../../services/auditor/parse-duration.ts"
import { type Trace, traceMessage } from "../../services/auditor/trace-message.ts"
import { describeStall } from "../../services/auditor/waiting-on.ts"
import { type Command, flags, UsageError } from "../command.ts"
import {
  AUDIT_DETAILS,
  auditOptions,
  messageIdArgument,
  openAudit,
  unreadableWarning,
} from "../open-audit.ts"
import { BUS_DETAILS, BUS_USAGE } from "../open-bus.ts"

/** `--stuck-after`, shared by the audit commands. */
export const stuckAfterOf = (value: unknown): number => {
  if (value === undefined) return DEFAULT_STUCK_AFTER_MS
  const ms = typeof value === "string" ? parseDuration(value) : undefined
  if (ms === undefined || ms <= 0)
    throw new UsageError(`--stuck-after: ${JSON.stringify(value)} is not a duration such as 90s, 2m or 1h`)
  return ms
}

const clock = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace("Z", "")
const delay = (ms: number | null) =>
  ms === null
    ? ""
    : ms < 1000
      ? `+${ms} ms`
      : ms < 120_000
        ? `+${(ms / 1000).toFixed(1)} s`
        : `+${Math.round(ms / 60_000)} min`

/** The timeline as a table a person reads top to bottom. */
export const renderTrace = (trace: Trace): string[] => {
  const m = trace.message
  const lines = [
    `message ${m.id}`,
    `  lane ${m.srcChainId} → ${m.dstChainId} (outbox ${m.outbox}), nonce ${m.nonce}, sender ${m.sender}, recipient ${m.recipient}`,
    `  status ${trace.status} (furthest stage: ${trace.stage})`,
    "",
  ]
  const width = Math.max(...trace.steps.map((s) => s.stage.length), 5)
  for (const step of trace.steps) {
    lines.push(
      `  ${clock(step.at)}  ${delay(step.sincePreviousMs).padStart(10)}  ${step.stage.padEnd(width)}  ${step.summary}`,
    )
    lines.push(
      `  ${" ".repeat(23 + 12 + width)}  ↳ ${step.source.topic}[${step.source.partition}]@${step.source.offset}`,
    )
  }
  if (trace.waiting.length > 0) {
    const heading =
      trace.status === "failed"
        ? "  failed:"
        : trace.status === "rejected"
          ? "  rejected (refuted against the source chain):"
          : `  not delivered (${trace.status}):`
    lines.push("", heading)
    for (const why of trace.waiting) lines.push(`    - ${why}`)
  }
  return lines
}

/** `chorus trace <messageId>`: a message's whole timeline across every topic. */
export const trace: Command = {
  path: ["trace"],
  summary: "show a message's whole timeline across every topic, or where it is stuck and why",
  usage: `trace <messageId> ${BUS_USAGE} [--json] [--stuck-after <duration>] [--index <file>]`,
  details: [
    BUS_DETAILS,
    AUDIT_DETAILS,
    "  --json                   the same timeline as one JSON object",
    "  --stuck-after <duration> idle time after which an undelivered message counts as stuck (default 2m)",
    "",
    "Each step shows when it was written to the log, its delay from the step before, and the record it",
    "comes from (topic[partition]@offset). An observation the proof-builder refuted against the source chain",
    "is shown rejected, with the reason; a lane stall the message waits on is shown as a step, and so is",
    "an RPC stall (and its recovery) of a service that reads its chains while it was on its way.",
    "Revert data is decoded, Error(string) and Panic included, also when cut short or quoted in a reason.",
    "",
    "For a message not delivered, it says what it waits on: for a checkpoint proposed but not attested, the",
    "stake required against the stake signed (the destination's operator set as the collector read it) and",
    "each operator that has not signed, with its weight and its answer (refused, and why, or none yet); and",
    "each service that cannot reach its RPC for the message's chains (rpc-unreachable) or gets only",
    "answers it cannot use (rpc-invalid), with the RPC's URL (credentials redacted) and since when.",
    "Exit status: 0 delivered, 1 not delivered (rejected, or an unknown id), 2 usage.",
  ].join("\n"),
  options: { ...auditOptions, ...flags({ values: ["stuck-after"], switches: ["json"] }) },
  positionals: ["messageId"],
  async run({ values, positionals, out, err }) {
    const id = messageIdArgument(positionals, "trace")
    const stuckAfterMs = stuckAfterOf(values["stuck-after"])
    const audit = await openAudit(values, err)
    try {
      const warning = unreadableWarning(audit.store)
      if (warning !== undefined) err(warning)
      const found = traceMessage(audit.store, id, { now: Date.now(), stuckAfterMs })
      if (found === undefined) {
        const { messages } = audit.store.counts()
        // A watcher that cannot read its chain observes nothing: say so, whichever chain the id is from.
        const watchers = audit.store
          .openStalls()
          .filter((stall) => stall.service === "chain-watcher")
          .map((stall) => ` Meanwhile ${describeStall(stall)}.`)
          .join("")
        const text = `message ${id.toLowerCase()} is not in the log: no chain-watcher observed it (${messages} message(s) indexed). Check the id, and that the source chain's watcher is running and past the block that emitted it.${watchers}`
        if (values.json === true)
          out(JSON.stringify({ messageId: id.toLowerCase(), found: false, reason: text }))
        else err(text)
        return 1
      }
      if (values.json === true) out(JSON.stringify({ found: true, ...found }))
      else for (const line of renderTrace(found)) out(line)
      return found.status === "delivered" ? 0 : 1
    } finally {
      await audit.close()
    }
  },
}
