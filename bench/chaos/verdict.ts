/**
 * How each message of a chaos run settled, counted from the chains; the
 * log only names refusals and halts. Pure: it judges what it is given.
 *
 * For each sent message, in this order:
 * 1. `delivered`: its destination's Inbox shows it delivered;
 * 2. `failedAtRecipient`: the Inbox shows it failed (its recipient reverted;
 *    retryable);
 * 3. `quarantined`: not attempted, and its source chain's watcher halted
 *    (`ChainHalted`) at or before its block, and no `chorus chain resume`
 *    lifted the halt (once lifted, its messages must settle like any);
 * 4. `refused`: not attempted, and the last word of the submitter on it is a
 *    `DeliveryFailed` with no transaction that names it alone, for a reason
 *    the submitter settles it by (a refusal of a whole batch is the batch's:
 *    its innocent messages stay unsettled);
 * 5. `stranded`: none of these, but a watcher observed it;
 * 6. `lost`: none of these, and no watcher observed it.
 *
 * `duplicated` counts, apart from the above, the messages a recipient ran
 * more than once: more than one `Pinged` with its body, or more than one
 * `MessageDelivered` or `MessageFailed` with its id.
 *
 * @module
 */
import type { InboxStatus, RecipientSide, SentMessage } from "./chain-truth.ts"
import type { Halt, LogFacts, MessageLog } from "./log-facts.ts"

export type Settlement = "delivered" | "failedAtRecipient" | "refused" | "quarantined" | "stranded" | "lost"

export interface MessageVerdict {
  readonly message: SentMessage
  readonly settlement: Settlement
  readonly duplicated: boolean
  /** How many times the recipient side shows it ran: Pinged, MessageDelivered, MessageFailed. */
  readonly runs: { readonly pinged: number; readonly delivered: number; readonly failed: number }
  readonly log: MessageLog | undefined
  /** The halt of its source chain at or before its block, if any. */
  readonly halt: Halt | undefined
}

export interface Counts {
  readonly sent: number
  readonly delivered: number
  readonly failedAtRecipient: number
  readonly refused: number
  readonly quarantined: number
  readonly lost: number
  readonly duplicated: number
  readonly stranded: number
}

export interface Verdict {
  readonly counts: Counts
  /** Each chain's watcher cursor at the end, as the log says (a lost message above it was not read yet). */
  readonly cursors: ReadonlyMap<number, number>
  readonly messages: ReadonlyArray<MessageVerdict>
  /** Messages of a halted chain, at or after the halt's block, that were delivered anyway (issue 12 item 3). */
  readonly deliveredAfterHalt: ReadonlyArray<MessageVerdict>
}

/** True when the run kept its promise: nothing lost, duplicated or stranded. */
export const passed = (counts: Counts): boolean =>
  counts.lost === 0 && counts.duplicated === 0 && counts.stranded === 0

/**
 * Judges every message.
 *
 * @example
 * ```ts
 * const verdict = judge(messages, status, side, facts)
 * verdict.counts.stranded // 0 on a good run
 * ```
 */
export const judge = (
  messages: ReadonlyArray<SentMessage>,
  status: ReadonlyMap<string, InboxStatus>,
  side: RecipientSide | undefined,
  facts: LogFacts,
): Verdict => {
  const haltOf = (m: SentMessage) =>
    facts.halts
      .filter(
        (h) => h.chainId === m.sent.message.src && h.blockNumber <= m.blockNumber && h.resumed === undefined,
      )
      .sort((a, b) => a.blockNumber - b.blockNumber)[0]
  const judged = messages.map((message): MessageVerdict => {
    const id = message.messageId.toLowerCase()
    const log = facts.messages.get(id)
    const halt = haltOf(message)
    const runs = {
      pinged:
        side?.pinged.get(
          `${message.sent.message.dst}:${message.sent.message.src}:${message.sent.body.toLowerCase()}`,
        ) ?? 0,
      delivered: side?.delivered.get(id) ?? 0,
      failed: side?.failed.get(id) ?? 0,
    }
    const onChain = status.get(id) ?? "none"
    const refusal = log?.refusal
    const settlement: Settlement =
      onChain === "delivered"
        ? "delivered"
        : onChain === "failed"
          ? "failedAtRecipient"
          : halt !== undefined
            ? "quarantined"
            : refusal?.alone === true && refusal.settles
              ? "refused"
              : log?.observed === true
                ? "stranded"
                : "lost"
    return {
      message,
      settlement,
      duplicated: runs.pinged > 1 || runs.delivered > 1 || runs.failed > 1,
      runs,
      log,
      halt,
    }
  })
  const count = (s: Settlement) => judged.filter((v) => v.settlement === s).length
  return {
    counts: {
      sent: messages.length,
      delivered: count("delivered"),
      failedAtRecipient: count("failedAtRecipient"),
      refused: count("refused"),
      quarantined: count("quarantined"),
      lost: count("lost"),
      duplicated: judged.filter((v) => v.duplicated).length,
      stranded: count("stranded"),
    },
    messages: judged,
    cursors: facts.cursors,
    deliveredAfterHalt: judged.filter((v) => v.settlement === "delivered" && v.halt !== undefined),
  }
}
