/**
 * The records a submitter's step makes, from the destination's answers
 * behind it (`DestinationRead`) and nothing else: no clock, no chain, no
 * state. The ticker records a step's read beside the records this gives,
 * with one cause and one time; a replay folds the read and gets the same
 * records, so it checks how every answer became an outcome.
 *
 * Pipeline: ticker reads the chain → `DestinationRead` → `stepOutcomes` →
 * `DeliverySubmitted` / `DeliveryConfirmed` (+ `RootCommitted`) /
 * `DeliveryFailed` / `DeliverySkipped` / `RetryRefused`.
 *
 * Invariants:
 * - Total and pure: every step gives its records, the same ones every time.
 * - A `DeliverySkipped` has one status per message, from the step's reads;
 *   a status the step did not read is `unknown`, never guessed.
 * - A message in a receipt is `delivered` or `failed` only if the Inbox's
 *   events in that receipt say so; otherwise it was `skipped` there.
 *
 * @module
 */
import {
  type ChorusEvent,
  DeliveryConfirmed,
  DeliveryFailed,
  DeliverySkipped,
  DeliverySubmitted,
  type DestinationRead,
  type DestinationStep,
  Hex,
  type Lane,
  type MessageId,
  MessageOutcome,
  type ReceiptRead,
  RetryRefused,
  RootCommitted,
  type StatusRead,
} from "../../../schemas/index.ts"

type Step<T extends DestinationStep["_tag"]> = Extract<DestinationStep, { readonly _tag: T }>

/**
 * The outcome of each of `messageIds` in a receipt, from the Inbox's events in it.
 *
 * @example
 * ```ts
 * receiptOutcomes(receipt, ["0xaa…", "0xbb…"]) // [MessageOutcome { result: "delivered" }, MessageOutcome { result: "skipped" }]
 * ```
 */
export const receiptOutcomes = (
  receipt: ReceiptRead,
  messageIds: ReadonlyArray<MessageId>,
): ReadonlyArray<MessageOutcome> => {
  const delivered = new Set(receipt.delivered.map((id) => id.toLowerCase()))
  const failed = new Map(receipt.failed.map((f) => [f.messageId.toLowerCase(), f.revertData]))
  return messageIds.map((messageId) => {
    const id = messageId.toLowerCase()
    const revert = failed.get(id)
    return delivered.has(id)
      ? new MessageOutcome({ messageId, result: "delivered", reason: null })
      : revert !== undefined
        ? new MessageOutcome({ messageId, result: "failed", reason: revert })
        : new MessageOutcome({ messageId, result: "skipped", reason: null })
  })
}

/** Why a flight is closed without any of its transactions landing. */
export const supersededNote = (flight: { readonly transactions: number; readonly nonce: number }) =>
  `none of its ${flight.transactions} transaction(s) landed and nonce ${flight.nonce} was used by another transaction`

/** The status the step read of each message, in their order (`unknown` where it read none). */
const statusesOf = (ids: ReadonlyArray<MessageId>, read: ReadonlyArray<StatusRead>) => {
  const byId = new Map(read.map((s) => [s.messageId.toLowerCase(), s.status]))
  return ids.map((id) => byId.get(id.toLowerCase()) ?? "unknown")
}

const skipped = (lane: Lane, step: { action: DeliverySkipped["action"] }, ids: ReadonlyArray<MessageId>) => ({
  lane,
  action: step.action,
  messageIds: [...ids],
})

/**
 * What an `Attempted` step found: the messages its account's own transactions delivered (recorded
 * confirmed: their record was lost), and the skip's reason for the rest, or null when none is left.
 *
 * @example
 * ```ts
 * attemptedSummary(step) // { what: "all 2 messages already delivered", skipReason: "… (by another relayer: 2 in tx 0x…)" }
 * ```
 */
export const attemptedSummary = (step: Step<"Attempted">) => {
  const n = step.messageIds.length
  const what =
    n === step.of ? `all ${n} messages already delivered` : `${n} of ${step.of} messages already delivered`
  const own = step.attempts.filter(
    (a) => a.receipt !== null && a.from !== null && a.from.toLowerCase() === step.sender.toLowerCase(),
  )
  const confirmed = new Set(own.flatMap((a) => a.messageIds.map((id) => id.toLowerCase())))
  const rest = step.messageIds.filter((id) => !confirmed.has(id.toLowerCase()))
  const elsewhere = step.attempts.filter((a) => !own.includes(a))
  const foundElsewhere = elsewhere.reduce((sum, a) => sum + a.messageIds.length, 0)
  const unfound = rest.length - foundElsewhere
  const parts = [
    ...(confirmed.size > 0 ? [`${confirmed.size} by its own account (recorded confirmed)`] : []),
    ...(elsewhere.length > 0
      ? [
          `by another relayer: ${elsewhere
            .map(
              (a) =>
                `${a.messageIds.length} in tx ${a.transactionHash}${a.from === null ? "" : ` from ${a.from}`}`,
            )
            .join(", ")}`,
        ]
      : []),
    ...(unfound > 0
      ? [
          step.searchFailed === null
            ? `${unfound} by a transaction not among the Inbox's events of the last ${step.lookbackBlocks} blocks`
            : `${unfound} by a transaction not looked up: the search of the Inbox's events failed (${step.searchFailed})`,
        ]
      : []),
  ]
  return {
    what,
    own,
    rest,
    skipReason: rest.length === 0 ? null : `${what} (${parts.join("; ")})`,
  }
}

/** A refusal of one message the chain cannot give its gas limit, said as such. */
const estimateReason = (lane: Lane, step: Step<"EstimateReverted">) => {
  const { revert } = step
  if (step.action === "commit" || step.messageIds.length !== 1 || revert.errorName !== "InsufficientGas")
    return revert.reason
  const [nonce, gasLimit, available] = revert.args
  return (
    `message ${nonce} asks ${gasLimit} gas, more than one transaction on chain ${lane.dstChainId} can give it ` +
    `(${available} gas was left for it at the most gas the chain allows): ${revert.reason}`
  )
}

/** A transaction of the step's that did not do its work: `DeliveryFailed` naming it, its messages, and why. */
const failedTransaction = (
  lane: Lane,
  step: Pick<Step<"Reverted">, "action" | "messageIds" | "transactionHash">,
  why: { readonly reason: string; readonly revertData: Hex | null },
) =>
  new DeliveryFailed({
    lane,
    action: step.action,
    messageIds: step.messageIds,
    transactionHash: step.transactionHash,
    ...why,
  })

/** Why an included transaction reverted, from its re-simulation at its block. */
const revertedWhy = (step: Step<"Reverted">): { reason: string; revertData: Hex } => {
  const r = step.resimulation
  switch (r._tag) {
    case "NotReadBack":
      return {
        reason: "reverted on chain (the transaction could not be read back)",
        revertData: Hex.make("0x"),
      }
    case "SimulationFailed":
      return { reason: `reverted on chain; re-simulation failed: ${r.error}`, revertData: Hex.make("0x") }
    case "SimulatedRevert":
      return { reason: r.reason, revertData: r.revertData }
    case "SimulatedSuccess":
      return {
        reason:
          BigInt(step.gasUsed) >= BigInt(r.gasLimit)
            ? `ran out of gas (used all ${r.gasLimit})`
            : `reverted on chain but not when re-simulated at block ${step.block.number}`,
        revertData: Hex.make("0x"),
      }
  }
}

const supersededOutcomes = (lane: Lane, step: Step<"Superseded">): ChorusEvent[] => {
  const note = supersededNote(step)
  if (step.action === "retry") {
    const [id] = step.messageIds
    // A retry carries one message: the status read is its own.
    return [
      step.retryStatus === "delivered" && id !== undefined
        ? new DeliverySkipped({
            lane,
            action: "retry",
            messageIds: [id],
            statuses: ["delivered"],
            reason: `already delivered by another transaction; ${note}`,
          })
        : failedTransaction(lane, step, {
            reason: `${note}; the message was not retried (Inbox status: ${step.retryStatus ?? "unknown"}): request the retry again`,
            revertData: null,
          }),
    ]
  }
  const events: ChorusEvent[] = []
  if (step.rootCommitted === true) {
    events.push(
      new DeliverySkipped({
        lane,
        action: "commit",
        messageIds: [],
        statuses: [],
        reason: `root already committed; ${note}`,
      }),
    )
  }
  const n = step.messageIds.length
  if (n === 0) {
    if (step.rootCommitted !== true) {
      events.push(
        failedTransaction(lane, step, {
          reason: `${note}; the root is not committed and goes back to the queue`,
          revertData: null,
        }),
      )
    }
    return events
  }
  const attempted = new Set(step.attempted.map((id) => id.toLowerCase()))
  const done = step.messageIds.filter((id) => attempted.has(id.toLowerCase()))
  const rest = step.messageIds.filter((id) => !attempted.has(id.toLowerCase()))
  if (done.length > 0) {
    events.push(
      new DeliverySkipped({
        ...skipped(lane, step, done),
        statuses: statusesOf(done, step.statuses),
        reason: `${done.length} of ${n} messages already delivered; ${note}`,
      }),
    )
  }
  if (rest.length > 0) {
    events.push(
      failedTransaction(
        lane,
        { ...step, messageIds: rest },
        { reason: `${note}; ${rest.length} undelivered message(s) go back to the queue`, revertData: null },
      ),
    )
  }
  return events
}

/**
 * The records a step makes, in the order they are recorded.
 *
 * @example
 * ```ts
 * stepOutcomes(new DestinationRead({ lane, step: { _tag: "Included", action: "deliver", messageIds, receipt } }))
 * // [DeliveryConfirmed { outcomes: [{ result: "delivered" }, …] }]
 * ```
 */
export const stepOutcomes = (read: DestinationRead): ReadonlyArray<ChorusEvent> => {
  const { lane, step } = read
  switch (step._tag) {
    case "RootHeld":
      return [
        new DeliverySkipped({
          lane,
          action: "commit",
          messageIds: [],
          statuses: [],
          reason: "root already committed",
        }),
      ]
    case "Attempted": {
      const summary = attemptedSummary(step)
      const events: ChorusEvent[] = summary.own.map(
        (attempt) =>
          new DeliveryConfirmed({
            lane,
            action: attempt.inboxFunction ?? step.action,
            transactionHash: attempt.transactionHash,
            block: attempt.receipt!.block,
            gasUsed: attempt.receipt!.gasUsed,
            outcomes: receiptOutcomes(attempt.receipt!, attempt.messageIds),
          }),
      )
      if (summary.skipReason !== null) {
        events.push(
          new DeliverySkipped({
            ...skipped(lane, step, summary.rest),
            statuses: statusesOf(summary.rest, step.statuses),
            reason: summary.skipReason,
          }),
        )
      }
      return events
    }
    case "EstimateReverted":
      return [
        new DeliveryFailed({
          lane,
          action: step.action,
          messageIds: step.messageIds,
          transactionHash: null,
          reason: estimateReason(lane, step),
          revertData: step.revert.revertData,
        }),
      ]
    case "Broadcast":
      return [
        new DeliverySubmitted({
          lane,
          action: step.action,
          messageIds: step.messageIds,
          transactionHash: step.transactionHash,
          nonce: step.nonce,
          maxFeePerGas: step.maxFeePerGas,
          gasLimit: step.gasLimit,
          replaces: step.replaces,
          ...(step.proofRoot === null ? {} : { proofRoot: step.proofRoot }),
        }),
      ]
    case "Included": {
      const { receipt } = step
      const { transactionHash, block } = receipt
      return [
        ...(receipt.committed === null
          ? []
          : [new RootCommitted({ checkpoint: receipt.committed, transactionHash, block })]),
        new DeliveryConfirmed({
          lane,
          action: step.action,
          transactionHash,
          block,
          gasUsed: receipt.gasUsed,
          outcomes: receiptOutcomes(receipt, step.messageIds),
        }),
      ]
    }
    case "Reverted":
      return [failedTransaction(lane, step, revertedWhy(step))]
    case "Superseded":
      return supersededOutcomes(lane, step)
    case "Dropped":
      return [
        failedTransaction(lane, step, {
          reason:
            `the node knows none of the ${step.transactions} transaction(s) of nonce ${step.nonce} ` +
            "(never broadcast, or evicted from its pool); the nonce is free again and " +
            (step.action === "retry"
              ? "the message was not retried: request the retry again"
              : "the work goes back to the queue"),
          revertData: null,
        }),
      ]
    case "RetryDeclined":
      return [
        new RetryRefused({
          messageId: step.messageId,
          lane,
          nonce: step.nonce,
          reason: step.reason,
          detail: step.detail,
        }),
      ]
  }
}
