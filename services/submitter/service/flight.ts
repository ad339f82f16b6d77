/**
 * The flight in the air, one step at a time: its receipts (the first
 * transaction's and every replacement's), confirmations, the outcome of each
 * message from the Inbox logs, a re-simulated reason for a revert, what the
 * Inbox shows when the nonce was used by another transaction, and fee-bump
 * replacements at the same nonce when it is stuck.
 *
 * @module
 */
import {
  describeError,
  type InboxReceipt,
  type Revert,
  type TransactionRequest,
} from "../../../chains/index.ts"
import {
  type ChorusEvent,
  DeliveryConfirmed,
  DeliveryFailed,
  DeliverySkipped,
  DeliverySubmitted,
  type EventId,
  Hex,
  type MessageId,
  RootCommitted,
  toU256,
} from "../../../schemas/index.ts"
import { bumpFees, outcomesOf } from "../chain/index.ts"
import type { Flight, SubmitterState } from "../core/index.ts"
import { skippedStatuses } from "./skipped-statuses.ts"
import type { TickResult } from "./tick-result.ts"
import type { ActiveFlight, Writer } from "./writer.ts"

const messageNoncesOf = (state: SubmitterState, laneId: string, ids: ReadonlyArray<MessageId>) => {
  const wanted = new Set<string>(ids)
  const found = new Map<MessageId, number>()
  const lane = state.lanes.get(laneId)
  for (const chunk of lane?.chunks.values() ?? []) {
    chunk.messageIds.forEach((id, i) => {
      if (wanted.has(id)) found.set(id, chunk.start + i)
    })
  }
  // A retry's message is kept after its chunk is dropped.
  for (const id of ids) {
    const kept = lane?.retained.get(id)
    if (kept !== undefined) found.set(id, kept.message.nonce)
  }
  return found
}

/**
 * The flight a `DeliverySubmitted` without outcome stands for, as the log shows it after a restart: its
 * transactions (hashes, not bytes — those are read back from the node if a replacement is needed).
 *
 * @example
 * ```ts
 * const flights = [...state.flights.values()].map((f) => recoveredFlight(state, f))
 * ```
 */
export const recoveredFlight = (state: SubmitterState, flight: Flight): ActiveFlight => ({
  laneId: flight.laneId,
  lane: flight.lane,
  action: flight.action,
  messageIds: flight.messageIds,
  nonce: flight.nonce,
  root: flight.root,
  proofRoot: flight.proofRoot,
  messageNonces: messageNoncesOf(state, flight.laneId, flight.messageIds),
  request: null,
  transactions: flight.transactions.map((t) => ({ hash: t.hash, submission: t.submission })),
  lastSentAt: Math.max(...flight.transactions.map((t) => t.time)),
})

const receiptOf = async (w: Writer, flight: ActiveFlight): Promise<InboxReceipt | null> => {
  for (const { hash } of [...flight.transactions].reverse()) {
    const receipt = await w.deps.chain.receipt(hash)
    if (receipt !== null) return receipt
  }
  return null
}

/** The request a recovered flight signed, read back from the node (null if it knows none of them). */
const requestOf = async (w: Writer, flight: ActiveFlight): Promise<TransactionRequest | null> => {
  if (flight.request !== null) return flight.request
  for (const { hash } of [...flight.transactions].reverse()) {
    const request = await w.deps.chain.sentTransaction(hash)
    if (request === null) continue
    flight.request = request
    return request
  }
  return null
}

const land = (w: Writer, flight: ActiveFlight) => {
  w.active = null
  w.nonces.used(flight.nonce)
  w.failures = 0
}

const settleReceipt = async (w: Writer, flight: ActiveFlight, receipt: InboxReceipt): Promise<TickResult> => {
  const hash = receipt.transactionHash
  const head = await w.deps.chain.blockNumber()
  const confirmations = head - receipt.block.number + 1
  const required = Math.max(1, w.deps.settings.confirmations)
  if (confirmations < required) {
    return {
      kind: "confirming",
      reason: `included in block ${receipt.block.number}, ${confirmations} of ${required} confirmations`,
      transactionHash: hash,
      confirmations,
      required,
    }
  }
  const cause =
    flight.transactions.find((t) => t.hash === hash)?.submission ?? flight.transactions.at(-1)!.submission
  const { block } = receipt
  if (receipt.succeeded) {
    const { outcomes, committed } = outcomesOf(receipt, flight.messageIds)
    const events: Array<{ event: ChorusEvent; cause: EventId }> = []
    if (committed !== null) {
      events.push({
        event: new RootCommitted({ checkpoint: committed, transactionHash: hash, block }),
        cause,
      })
    }
    events.push({
      event: new DeliveryConfirmed({
        lane: flight.lane,
        action: flight.action,
        transactionHash: hash,
        block,
        gasUsed: toU256(receipt.gasUsed),
        outcomes,
      }),
      cause,
    })
    await w.record(events)
    land(w, flight)
    const count = (result: string) => outcomes.filter((o) => o.result === result).length
    return {
      kind: "confirmed",
      reason: `${flight.action} included in block ${block.number} with ${confirmations} confirmation(s)`,
      action: flight.action,
      laneId: flight.laneId,
      transactionHash: hash,
      block: block.number,
      delivered: count("delivered"),
      failed: count("failed"),
      skipped: count("skipped"),
    }
  }
  const revert = await resimulate(w, flight, receipt)
  await w.record([
    {
      event: new DeliveryFailed({
        lane: flight.lane,
        action: flight.action,
        messageIds: flight.messageIds,
        transactionHash: hash,
        reason: revert.reason,
        revertData: Hex.make(revert.revertData),
      }),
      cause,
    },
  ])
  land(w, flight)
  return { kind: "reverted", reason: revert.reason, action: flight.action, transactionHash: hash }
}

/** Why an included transaction reverted: the same call re-simulated at its block. */
const resimulate = async (
  w: Writer,
  flight: ActiveFlight,
  receipt: InboxReceipt,
): Promise<Pick<Revert, "reason" | "revertData">> => {
  const request = await requestOf(w, flight)
  if (request === null)
    return {
      reason: "reverted on chain (the transaction could not be read back)",
      revertData: "0x",
    }
  let revert: Revert | null
  try {
    revert = await w.deps.chain.simulate(request, receipt.block.number)
  } catch (error) {
    return { reason: `reverted on chain; re-simulation failed: ${describeError(error)}`, revertData: "0x" }
  }
  if (revert !== null) return revert
  const reason =
    receipt.gasUsed >= request.gas
      ? `ran out of gas (used all ${request.gas})`
      : `reverted on chain but not when re-simulated at block ${receipt.block.number}`
  return { reason, revertData: "0x" }
}

/**
 * A retry that never landed: the Inbox shows the message delivered (another transaction retried it) or not —
 * then the request is answered with a failure, and a new request is needed.
 */
const retrySuperseded = async (w: Writer, flight: ActiveFlight, note: string) => {
  const last = flight.transactions.at(-1)!
  const [id] = flight.messageIds
  const nonce = id === undefined ? undefined : flight.messageNonces.get(id)
  const status = nonce === undefined ? null : await w.deps.reader.messageStatus(flight.lane, nonce)
  // A retry carries one message: the status just read is its own.
  const event =
    status === "delivered" && id !== undefined
      ? new DeliverySkipped({
          lane: flight.lane,
          action: "retry",
          messageIds: [id],
          statuses: ["delivered"],
          reason: `already delivered by another transaction; ${note}`,
        })
      : new DeliveryFailed({
          lane: flight.lane,
          action: "retry",
          messageIds: flight.messageIds,
          transactionHash: last.hash,
          reason: `${note}; the message was not retried (Inbox status: ${status ?? "unknown"}): request the retry again`,
          revertData: null,
        })
  await w.record([{ event, cause: last.submission }])
}

/** None of the flight's transactions landed and its nonce is used: record what the Inbox shows. */
const resolveSuperseded = async (w: Writer, flight: ActiveFlight): Promise<TickResult> => {
  const last = flight.transactions.at(-1)!
  const note = `none of its ${flight.transactions.length} transaction(s) landed and nonce ${flight.nonce} was used by another transaction`
  if (flight.action === "retry") {
    await retrySuperseded(w, flight, note)
    w.active = null
    w.nonces.resync()
    return { kind: "superseded", reason: note, nonce: flight.nonce }
  }
  const events: Array<{ event: ChorusEvent; cause: EventId }> = []
  const base = { lane: flight.lane }
  let rootCommitted = false
  if (flight.root !== null && flight.action !== "deliver") {
    rootCommitted = (await w.deps.reader.committedCount(flight.lane, flight.root)) > 0
    if (rootCommitted) {
      events.push({
        event: new DeliverySkipped({
          ...base,
          action: "commit",
          messageIds: [],
          statuses: [],
          reason: `root already committed; ${note}`,
        }),
        cause: last.submission,
      })
    }
  }
  if (flight.messageIds.length > 0) {
    const known = [...flight.messageNonces.values()]
    const attempted =
      known.length === 0
        ? new Set<number>()
        : await w.deps.reader.attempted(flight.lane, Math.min(...known), Math.max(...known) + 1)
    const done = flight.messageIds.filter((id) => attempted.has(flight.messageNonces.get(id) ?? -1))
    const rest = flight.messageIds.filter((id) => !done.includes(id))
    if (done.length > 0) {
      events.push({
        event: new DeliverySkipped({
          ...base,
          action: flight.action,
          messageIds: done,
          statuses: await skippedStatuses(w, flight.lane, done, flight.messageNonces),
          reason: `${done.length} of ${flight.messageIds.length} messages already delivered; ${note}`,
        }),
        cause: last.submission,
      })
    }
    if (rest.length > 0) {
      events.push({
        event: new DeliveryFailed({
          ...base,
          action: flight.action,
          messageIds: rest,
          transactionHash: last.hash,
          reason: `${note}; ${rest.length} undelivered message(s) go back to the queue`,
          revertData: null,
        }),
        cause: last.submission,
      })
    }
  } else if (!rootCommitted) {
    events.push({
      event: new DeliveryFailed({
        ...base,
        action: flight.action,
        messageIds: [],
        transactionHash: last.hash,
        reason: `${note}; the root is not committed and goes back to the queue`,
        revertData: null,
      }),
      cause: last.submission,
    })
  }
  await w.record(events)
  w.active = null
  w.nonces.resync()
  return { kind: "superseded", reason: note, nonce: flight.nonce }
}

const replace = async (w: Writer, flight: ActiveFlight): Promise<TickResult> => {
  const last = flight.transactions.at(-1)!
  const old = await requestOf(w, flight)
  if (old === null) {
    const reason =
      `the node knows none of the ${flight.transactions.length} transaction(s) of nonce ${flight.nonce} ` +
      "(never broadcast, or evicted from its pool); the nonce is free again and " +
      (flight.action === "retry"
        ? "the message was not retried: request the retry again"
        : "the work goes back to the queue")
    await w.record([
      {
        event: new DeliveryFailed({
          lane: flight.lane,
          action: flight.action,
          messageIds: flight.messageIds,
          transactionHash: last.hash,
          reason,
          revertData: null,
        }),
        cause: last.submission,
      },
    ])
    w.active = null
    w.nonces.resync()
    return { kind: "dropped", reason, nonce: flight.nonce }
  }
  const fees = bumpFees(old, w.deps.settings.feeBumpBps, await w.deps.chain.fees())
  const request: TransactionRequest = { ...old, ...fees, nonce: flight.nonce }
  const signed = await w.deps.chain.sign(request)
  // Only while the group still gives this member the partitions: a zombie sends nothing.
  await w.deps.views.fence()
  const verdict = await w.deps.chain.broadcast(signed)
  flight.lastSentAt = Date.now()
  if (verdict.kind === "refused") {
    // Underpriced or otherwise refused: the next attempt bumps from these fees.
    flight.request = request
    const reason = verdict.nonceTooLow
      ? `replacement refused (nonce too low): a transaction of nonce ${flight.nonce} was included; its receipt is read next`
      : `replacement refused by the node: ${verdict.reason}`
    return { kind: "replacement-refused", reason, nonce: flight.nonce }
  }
  flight.request = request
  flight.transactions.push({ hash: signed.hash, submission: "" as EventId })
  const [submitted] = await w.record([
    {
      event: new DeliverySubmitted({
        lane: flight.lane,
        action: flight.action,
        messageIds: flight.messageIds,
        transactionHash: signed.hash,
        nonce: flight.nonce,
        maxFeePerGas: toU256(request.maxFeePerGas),
        gasLimit: toU256(request.gas),
        replaces: last.hash,
        ...(flight.proofRoot === null ? {} : { proofRoot: flight.proofRoot }),
      }),
      cause: last.submission,
    },
  ])
  flight.transactions[flight.transactions.length - 1] = { hash: signed.hash, submission: submitted!.id }
  return {
    kind: "replaced",
    reason: `not included after ${w.deps.settings.stuckAfterMs} ms; replaced with maxFeePerGas ${request.maxFeePerGas}`,
    transactionHash: signed.hash,
    replaces: last.hash,
    nonce: flight.nonce,
  }
}

/**
 * One step of the flight in the air: settle it from its receipt, record what the chain shows if its nonce was
 * used by another transaction, replace it if stuck, or report it pending.
 *
 * @example
 * ```ts
 * const result = await advanceFlight(writer, writer.active!) // { kind: "pending", … }
 * ```
 */
export const advanceFlight = async (w: Writer, flight: ActiveFlight): Promise<TickResult> => {
  const receipt = await receiptOf(w, flight)
  if (receipt !== null) return settleReceipt(w, flight, receipt)
  const latest = await w.deps.chain.transactionCount("latest")
  if (latest > flight.nonce) {
    // Read again: the transaction may have been included between the two reads.
    const again = await receiptOf(w, flight)
    if (again !== null) return settleReceipt(w, flight, again)
    return resolveSuperseded(w, flight)
  }
  const waited = Date.now() - flight.lastSentAt
  if (waited < w.deps.settings.stuckAfterMs) {
    const hash = flight.transactions.at(-1)!.hash
    return {
      kind: "pending",
      reason: `not included yet (${waited} ms)`,
      transactionHash: hash,
      nonce: flight.nonce,
    }
  }
  return replace(w, flight)
}
