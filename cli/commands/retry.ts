import {
  DEFAULT_STUCK_AFTER_MS,
  describeFailure,
  parseDuration,
  retryVerdict,
} from "../../services/auditor/index.ts"
import {
  answersFrom,
  awaitRetryOutcome,
  type RetryOutcome,
  requestRetry,
} from "../../services/retry/index.ts"
import { type Command, flags, UsageError } from "../command.ts"
import { AUDIT_DETAILS, auditOptions, messageIdArgument, openAudit } from "../open-audit.ts"
import { BUS_DETAILS, BUS_USAGE } from "../open-bus.ts"
import { whoAmI } from "../who-am-i.ts"

/** The outcome in one line a person can act on. */
export const describeOutcome = (outcome: RetryOutcome): string => {
  switch (outcome.kind) {
    case "delivered":
      return `delivered: ${outcome.detail}`
    case "failed":
      // No transaction and no revert data: the retry did not run (another transaction attempted the message first).
      if (outcome.transactionHash === null && outcome.revertData === null) return `failed: ${outcome.reason}`
      return `failed again: ${describeFailure(outcome.reason, outcome.revertData)}${outcome.transactionHash ? `, tx ${outcome.transactionHash}` : ""}`
    case "refused":
      return `refused by the submitter (${outcome.reason}): ${outcome.detail}`
    case "timeout":
      return `no outcome yet: ${outcome.detail}`
  }
}

/** `chorus retry <messageId>`: re-drives a stuck or failed message through the submitter's command topic. */
export const retry: Command = {
  path: ["retry"],
  summary: "re-drive a stuck or failed message: the request and the submitter's answer go through the log",
  usage: `retry <messageId> ${BUS_USAGE} [--reason <text>] [--wait <duration>] [--no-wait] [--index <file>]`,
  details: [
    BUS_DETAILS,
    AUDIT_DETAILS,
    '  --reason <text>          why, recorded in the request (e.g. "recipient fixed in tx 0x…")',
    "  --wait <duration>        how long to wait for the submitter's answer and its transaction (default 2m)",
    "  --no-wait                publish the request and return; follow it with `chorus trace <messageId>`",
    "",
    "It refuses, without writing anything, a message the log has never seen or has already delivered.",
    "Otherwise it publishes RetryRequested on chorus.commands.retry; the destination's submitter answers on",
    "chorus.deliveries (Inbox.retry for a message that failed at its recipient, a one-message deliver for one",
    "that was never attempted, or RetryRefused with the reason). Exit status: 0 delivered, 1 otherwise, 2 usage.",
  ].join("\n"),
  options: { ...auditOptions, ...flags({ values: ["reason", "wait"], switches: ["no-wait"] }) },
  positionals: ["messageId"],
  async run({ values, positionals, out, err }) {
    const id = messageIdArgument(positionals, "retry")
    const waitMs = values.wait === undefined ? 120_000 : parseDuration(String(values.wait))
    if (waitMs === undefined)
      throw new UsageError(`--wait: ${JSON.stringify(values.wait)} is not a duration such as 30s or 2m`)
    const requestedBy = whoAmI()
    // Signed as the `retry` producer when the deployment authenticates its bus, or the submitter refuses it.
    const audit = await openAudit(values, err, { service: "retry", instance: requestedBy })
    try {
      const verdict = retryVerdict(audit.store, id, { now: Date.now(), stuckAfterMs: DEFAULT_STUCK_AFTER_MS })
      if (verdict.kind === "refused") {
        err(`refused: ${verdict.reason}`)
        return 1
      }
      const { message } = verdict
      const fromOffset = await answersFrom(audit.bus, message)
      const request = await requestRetry(audit.bus, {
        messageId: message.id,
        srcChainId: message.srcChainId,
        outbox: message.outbox,
        dstChainId: message.dstChainId,
        nonce: message.nonce,
        requestedBy,
        ...(typeof values.reason === "string" ? { reason: values.reason } : {}),
      })
      out(
        `requested: RetryRequested ${request.id} for ${message.id} (lane ${message.srcChainId} → ${message.dstChainId}, nonce ${message.nonce})`,
      )
      if (values["no-wait"] === true) {
        out(`not waiting; follow it with: chorus trace ${message.id}`)
        return 0
      }
      out(`waiting up to ${Math.round(waitMs / 1000)} s for the submitter of chain ${message.dstChainId}…`)
      const outcome = await awaitRetryOutcome(audit.bus, request, { timeoutMs: waitMs, fromOffset })
      const line = describeOutcome(outcome)
      if (outcome.kind === "delivered") out(line)
      else err(line)
      return outcome.kind === "delivered" ? 0 : 1
    } finally {
      await audit.close()
    }
  },
}
