/**
 * A flight in the air, one step at a time: its receipts (the first
 * transaction's and every replacement's), confirmations, the outcome of each
 * message from the Inbox logs, a re-simulated reason for a revert, what the
 * Inbox shows when the nonce was used by another transaction, and fee-bump
 * replacements at the same nonce when it is stuck.
 *
 * @module
 */
import {
  describeError,
  type InboxMessageStatus,
  type InboxReceipt,
  type Revert,
  type TransactionRequest,
} from "../../../chains/index.ts"
import {
  type DestinationStep,
  type Envelope,
  type EventId,
  Hex,
  type MessageId,
  toU256,
} from "../../../schemas/index.ts"
import { bumpFees, receiptReadOf } from "../chain/index.ts"
import { type Flight, receiptOutcomes, type SubmitterState, supersededNote } from "../core/index.ts"
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
  w.grounded(flight)
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
  const base = { action: flight.action, messageIds: flight.messageIds }
  if (receipt.succeeded) {
    const read = receiptReadOf(receipt, flight.messageIds)
    await w.recordStep(flight.lane, { _tag: "Included", ...base, receipt: read }, cause)
    land(w, flight)
    const outcomes = receiptOutcomes(read, flight.messageIds)
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
  const resimulation = await resimulate(w, flight, receipt)
  const records = await w.recordStep(
    flight.lane,
    {
      _tag: "Reverted",
      ...base,
      transactionHash: hash,
      block,
      gasUsed: toU256(receipt.gasUsed),
      resimulation,
    },
    cause,
  )
  land(w, flight)
  return { kind: "reverted", reason: reasonOf(records), action: flight.action, transactionHash: hash }
}

/** The reason the first record that has one gives (what a tick reports of a step). */
const reasonOf = (records: ReadonlyArray<Envelope>): string => {
  for (const { event } of records)
    if ("reason" in event && typeof event.reason === "string") return event.reason
  return ""
}

/** Why an included transaction reverted: the same call re-simulated at its block. */
const resimulate = async (w: Writer, flight: ActiveFlight, receipt: InboxReceipt): Promise<Resimulation> => {
  const request = await requestOf(w, flight)
  if (request === null) return { _tag: "NotReadBack" }
  let revert: Revert | null
  try {
    revert = await w.deps.chain.simulate(request, receipt.block.number)
  } catch (error) {
    return { _tag: "SimulationFailed", error: describeError(error) }
  }
  if (revert !== null)
    return { _tag: "SimulatedRevert", reason: revert.reason, revertData: Hex.make(revert.revertData) }
  return { _tag: "SimulatedSuccess", gasLimit: toU256(request.gas) }
}

type Resimulation = Extract<DestinationStep, { readonly _tag: "Reverted" }>["resimulation"]

/** The flight as a step that closes it without any of its transactions landing names it. */
const lostFlightOf = (flight: ActiveFlight) => ({
  action: flight.action,
  messageIds: flight.messageIds,
  transactionHash: flight.transactions.at(-1)!.hash,
  transactions: flight.transactions.length,
  nonce: flight.nonce,
})

/**
 * None of the flight's transactions landed and its nonce is used: records what the Inbox shows — of its root
 * and its messages, or of a retry's one message (delivered by another transaction, or not: the request is
 * answered with a failure, and a new request is needed).
 */
const resolveSuperseded = async (w: Writer, flight: ActiveFlight): Promise<TickResult> => {
  const last = flight.transactions.at(-1)!
  const { reader } = w.deps
  let rootCommitted: boolean | null = null
  let done: MessageId[] = []
  let retryStatus: InboxMessageStatus | null = null
  if (flight.action === "retry") {
    const [id] = flight.messageIds
    const nonce = id === undefined ? undefined : flight.messageNonces.get(id)
    retryStatus = nonce === undefined ? null : await reader.messageStatus(flight.lane, nonce)
  } else {
    if (flight.root !== null && flight.action !== "deliver")
      rootCommitted = (await reader.committedCount(flight.lane, flight.root)) > 0
    const known = [...flight.messageNonces.values()]
    if (flight.messageIds.length > 0 && known.length > 0) {
      const attempted = await reader.attempted(flight.lane, Math.min(...known), Math.max(...known) + 1)
      done = flight.messageIds.filter((id) => attempted.has(flight.messageNonces.get(id) ?? -1))
    }
  }
  const statuses = await skippedStatuses(w, flight.lane, done, flight.messageNonces)
  const step = {
    _tag: "Superseded" as const,
    ...lostFlightOf(flight),
    rootCommitted,
    attempted: done,
    statuses: done.map((messageId, i) => ({ messageId, status: statuses[i]! })),
    retryStatus,
  }
  await w.recordStep(flight.lane, step, last.submission)
  w.grounded(flight)
  w.nonces.resync()
  return { kind: "superseded", reason: supersededNote(step), nonce: flight.nonce }
}

const replace = async (w: Writer, flight: ActiveFlight): Promise<TickResult> => {
  const last = flight.transactions.at(-1)!
  const old = await requestOf(w, flight)
  if (old === null) {
    const records = await w.recordStep(
      flight.lane,
      { _tag: "Dropped", ...lostFlightOf(flight) },
      last.submission,
    )
    w.grounded(flight)
    w.nonces.resync()
    return { kind: "dropped", reason: reasonOf(records), nonce: flight.nonce }
  }
  const fees = bumpFees(old, w.deps.settings.feeBumpBps, await w.deps.chain.fees())
  const request: TransactionRequest = { ...old, ...fees, nonce: flight.nonce }
  const { signed, verdict } = await w.sendFenced(request)
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
  const [submitted] = await w.recordStep(
    flight.lane,
    {
      _tag: "Broadcast",
      action: flight.action,
      messageIds: flight.messageIds,
      transactionHash: signed.hash,
      nonce: flight.nonce,
      maxFeePerGas: toU256(request.maxFeePerGas),
      gasLimit: toU256(request.gas),
      replaces: last.hash,
      proofRoot: flight.proofRoot,
    },
    last.submission,
  )
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
 * The lowest flight is stuck and nonces below it are not mined: if the node holds transactions at them (sent
 * by this account outside the submitter's flights), it waits for them; if not, the first of them is a gap no
 * flight will fill (its transaction was forgotten, its work planned again or settled), so a transfer of nothing
 * to the account itself takes it. The flight itself is not bumped: its fee is not why it waits.
 */
const fillGapBelow = async (w: Writer, flight: ActiveFlight, mined: number): Promise<TickResult> => {
  const { chain } = w.deps
  const pending = await chain.transactionCount("pending")
  if (pending >= flight.nonce) {
    flight.lastSentAt = Date.now()
    return {
      kind: "pending",
      reason: `waiting behind nonces ${mined}–${flight.nonce - 1}, which the node holds`,
      transactionHash: flight.transactions.at(-1)!.hash,
      nonce: flight.nonce,
    }
  }
  const request: TransactionRequest = {
    to: w.address,
    data: "0x",
    gas: 21_000n,
    nonce: pending,
    ...(await chain.fees()),
  }
  const { signed, verdict } = await w.sendFenced(request)
  flight.lastSentAt = Date.now()
  const reason =
    `nonce ${pending} below the flight at ${flight.nonce} is held by no transaction` +
    (verdict.kind === "refused"
      ? `; filling it was refused: ${verdict.reason}`
      : `; filled by ${signed.hash}`)
  w.deps.logger.warn("a nonce gap held the transactions in the air back", {
    gap: pending,
    flight: flight.nonce,
    transactionHash: signed.hash,
    verdict: verdict.kind,
  })
  return { kind: "gap-filled", reason, transactionHash: signed.hash, nonce: pending }
}

/**
 * One step of the flight in the air: settle it from its receipt, record what the chain shows if its nonce was
 * used by another transaction, replace it if stuck (or fill a nonce gap below it), or report it pending.
 *
 * @example
 * ```ts
 * const result = await advanceFlight(writer, writer.flights[0]!) // { kind: "pending", … }
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
  if (latest < flight.nonce) return fillGapBelow(w, flight, latest)
  return replace(w, flight)
}
