/**
 * How a devnet run ended, message by message, and whether that is a pass.
 *
 * A message addressed to a GatedRecipient (`--reverting`) is meant to fail
 * at the recipient while the gate is closed, so for it "failed" is as good
 * an ending as "delivered". For every other message only "delivered" is.
 *
 * @module
 */
import { settledStageOf, type TrackedMessage } from "./tracker.ts"

/**
 * Where one message ended:
 * - `delivered`: a PingRecipient message, delivered;
 * - `gated-failed`: a GatedRecipient message that failed at the recipient, as intended;
 * - `gated-delivered`: a GatedRecipient message delivered (its gate was open, or it was retried);
 * - `failed`: a PingRecipient message that failed at the recipient, which should never happen;
 * - `in-flight`: no outcome in the log yet.
 */
export type MessageEnding = "delivered" | "gated-failed" | "gated-delivered" | "failed" | "in-flight"

/**
 * The ending of one tracked message.
 *
 * @example
 * ```ts
 * endingOf(tracker.messages()[0]) // "delivered"
 * ```
 */
export const endingOf = (message: TrackedMessage): MessageEnding => {
  switch (settledStageOf(message)) {
    case "delivered":
      return message.sent.gated ? "gated-delivered" : "delivered"
    case "failed":
      return message.sent.gated ? "gated-failed" : "failed"
    case undefined:
      return "in-flight"
  }
}

export interface DevnetOutcome {
  /** True when the run passes: the `--exit` status is 0 exactly then. */
  readonly ok: boolean
  readonly endings: Readonly<Record<MessageEnding, number>>
  /** Messages sent to a GatedRecipient. */
  readonly gated: number
  /** Why the run does not pass, one sentence each; empty when it passes. */
  readonly problems: ReadonlyArray<string>
}

/**
 * Judges a run: it passes only if all `target` messages were sent, every
 * message not addressed to a GatedRecipient was delivered, every one that
 * was ended delivered or failed at the recipient, and no message was
 * delivered twice.
 *
 * @example
 * ```ts
 * const outcome = judgeDevnet({ target: 60, messages: tracker.messages(), duplicates: 0 })
 * process.exitCode = outcome.ok ? 0 : 1
 * ```
 */
export const judgeDevnet = (input: {
  readonly target: number
  readonly messages: ReadonlyArray<TrackedMessage>
  readonly duplicates: number
}): DevnetOutcome => {
  const endings: Record<MessageEnding, number> = {
    delivered: 0,
    "gated-failed": 0,
    "gated-delivered": 0,
    failed: 0,
    "in-flight": 0,
  }
  for (const message of input.messages) endings[endingOf(message)]++
  const problems: string[] = []
  const sent = input.messages.length
  if (sent < input.target) problems.push(`only ${sent} of ${input.target} messages were sent`)
  if (endings.failed > 0)
    problems.push(`${endings.failed} message(s) to a PingRecipient failed at the recipient`)
  if (endings["in-flight"] > 0) problems.push(`${endings["in-flight"]} message(s) are still in flight`)
  if (input.duplicates > 0)
    problems.push(`${input.duplicates} message(s) were reported delivered more than once`)
  return {
    ok: problems.length === 0,
    endings,
    gated: input.messages.filter((m) => m.sent.gated).length,
    problems,
  }
}
