/**
 * A new transaction for a planned action: the Inbox is read first and what
 * it already has is recorded as `DeliverySkipped` instead of being sent (a
 * committed root; leading messages already attempted, or the whole batch);
 * gas is estimated, and a batch the chain refuses for its messages' fault is
 * cut to its longest leading part that estimates (`isolate`), so one message
 * never strands the others; a revert of the first message alone (or the
 * checkpoint's fault) records `DeliveryFailed` with the decoded error, naming
 * only those messages, and nothing is sent; `gasMarginBps` is added; the
 * transaction is signed with EIP-1559 fees and the local nonce, broadcast,
 * and recorded as `DeliverySubmitted` before anything waits on it.
 *
 * @module
 */
import type { InboxCall, Revert } from "../../../chains/index.ts"
import {
  type AttemptRead,
  type Bytes32,
  type DeliveryAction,
  type EventId,
  Hex,
  type Lane,
  type MessageId,
  type TxHash,
  toAddress,
  toU256,
} from "../../../schemas/index.ts"
import { inboxCallOf, larger, receiptReadOf, withMargin, worstCaseMessagesGas } from "../chain/index.ts"
import {
  attemptedSummary,
  CHECKPOINT_INBOX_ERRORS,
  type DeliverAction,
  type PlannedAction,
  reshapeDelivery,
  TRANSIENT_INBOX_ERRORS,
} from "../core/index.ts"
import { skippedStatuses } from "./skipped-statuses.ts"
import type { TickResult } from "./tick-result.ts"
import type { ActiveFlight, Writer } from "./writer.ts"

/** Records that the Inbox already stores the root `action` would commit (`DeliverySkipped` of the commit). */
const rootHeld = (w: Writer, action: PlannedAction) =>
  w.recordStep(action.lane, { _tag: "RootHeld" }, action.origin)

/** The lane nonce of each of `ids`, consecutive from `start`, in their order. */
const noncesFrom = (start: number, ids: ReadonlyArray<MessageId>): Array<[MessageId, number]> =>
  ids.map((id, i) => [id, start + i])

/**
 * What is left to send once what the Inbox already has is dropped (and recorded as skipped): the action,
 * possibly smaller or turned into a plain `deliver`, or the tick's result when nothing is left.
 */
const checkInbox = async (
  w: Writer,
  action: PlannedAction,
): Promise<{ readonly send: PlannedAction } | { readonly done: TickResult }> => {
  if (action.kind === "commit") {
    if ((await w.deps.reader.committedCount(action.lane, action.checkpoint.root)) === 0) {
      return { send: action }
    }
    await rootHeld(w, action)
    const reason = "root already committed"
    return { done: { kind: "skipped", reason, action: "commit", laneId: action.laneId, messageIds: [] } }
  }
  let delivery: DeliverAction = action
  const end = delivery.start + delivery.messages.length
  const attempted = await w.deps.reader.attempted(delivery.lane, delivery.start, end)
  const n = delivery.messageIds.length
  if (attempted.size === n) {
    const nonces = new Map(noncesFrom(delivery.start, delivery.messageIds))
    const reason = await settleAttempted(w, delivery, nonces)
    const { kind, laneId, messageIds } = delivery
    return { done: { kind: "skipped", reason, action: kind, laneId, messageIds } }
  }
  let drop = 0
  while (drop < n && attempted.has(delivery.start + drop)) drop++
  if (drop > 0) {
    const nonces = new Map(noncesFrom(delivery.start, delivery.messageIds.slice(0, drop)))
    await settleAttempted(w, delivery, nonces)
    delivery = reshapeDelivery(delivery, { from: delivery.start + drop })
  }
  if (
    delivery.kind === "commitAndDeliver" &&
    (await w.deps.reader.committedCount(delivery.lane, delivery.checkpoint.root)) > 0
  ) {
    await rootHeld(w, delivery)
    delivery = reshapeDelivery(delivery, { kind: "deliver" })
  }
  return { send: delivery }
}

/** How far back the Inbox's events are searched for the transaction that attempted a message found done. */
export const ATTEMPTS_LOOKBACK_BLOCKS = 50_000

/**
 * Records the messages `nonces` names, which the Inbox already attempted, with the transaction that did
 * it, found among the Inbox's events (`MessageDelivered`, `MessageFailed`): one this submitter's account
 * sent (its record was lost: killed between broadcast and record, or the answer lost and the flight
 * forgotten) is recorded as the `DeliveryConfirmed` it was, with its receipt's outcomes; the others as
 * `DeliverySkipped`, the reason naming each transaction and its sender, or saying none was found
 * (`attemptedSummary`). A failed search is logged, and the messages are recorded skipped as before. Returns
 * the skip's reason (or what was confirmed).
 */
const settleAttempted = async (
  w: Writer,
  delivery: DeliverAction,
  nonces: ReadonlyMap<MessageId, number>,
): Promise<string> => {
  const { chain, reader, logger } = w.deps
  const ids = [...nonces.keys()]
  const byTx = new Map<TxHash, MessageId[]>()
  let searchFailed: string | null = null
  try {
    const since = (await chain.blockNumber()) - ATTEMPTS_LOOKBACK_BLOCKS
    const attempts = await reader.attemptsOf(ids, since)
    for (const id of ids) {
      const attempt = attempts.get(id.toLowerCase())
      if (attempt !== undefined)
        byTx.set(attempt.transactionHash, [...(byTx.get(attempt.transactionHash) ?? []), id])
    }
  } catch (error) {
    searchFailed = error instanceof Error ? error.message.split("\n")[0]! : String(error)
    logger.warn(
      "could not find the transactions that attempted messages the Inbox has done; recording them skipped",
      { laneId: delivery.laneId, messages: ids.length, error: searchFailed },
    )
  }
  const sender = toAddress(chain.sender)
  const attempts: AttemptRead[] = []
  for (const [hash, txIds] of byTx) {
    const sent = await chain.sentTransaction(hash)
    const from = sent === null ? null : sent.from.toLowerCase()
    // Only its own account's delivery is recorded from its receipt; another relayer's is named, not read.
    const receipt = from === sender ? await chain.receipt(hash) : null
    attempts.push({
      transactionHash: hash,
      messageIds: txIds,
      from,
      inboxFunction: sent?.inboxFunction ?? null,
      receipt: receipt === null ? null : receiptReadOf(receipt, txIds),
    })
  }
  const step = {
    _tag: "Attempted" as const,
    action: delivery.kind,
    messageIds: ids,
    of: delivery.messageIds.length,
    sender,
    lookbackBlocks: ATTEMPTS_LOOKBACK_BLOCKS,
    searchFailed,
    attempts,
    statuses: [],
  }
  const summary = attemptedSummary(step)
  const statuses = await skippedStatuses(w, delivery.lane, summary.rest, nonces)
  await w.recordStep(
    delivery.lane,
    { ...step, statuses: summary.rest.map((messageId, i) => ({ messageId, status: statuses[i]! })) },
    delivery.origin,
  )
  for (const own of summary.own) {
    logger.info("found a delivery of its own account that the log did not record; recorded it confirmed", {
      laneId: delivery.laneId,
      transactionHash: own.transactionHash,
      messages: own.messageIds.length,
    })
  }
  return (
    summary.skipReason ?? `${summary.what}: by its own account, recorded confirmed from the Inbox's events`
  )
}

/** Does the node know `hash`, pending or included? A read that fails says nothing: the refusal stands. */
export const sentAnyway = async (w: Writer, hash: TxHash): Promise<boolean> => {
  try {
    return (await w.deps.chain.sentTransaction(hash)) !== null
  } catch {
    return false
  }
}

/** Is this revert the fault of the messages sent (not a pause, not the checkpoint's quorum)? */
const isMessagesFault = (revert: Revert) =>
  revert.errorName === null ||
  (!TRANSIENT_INBOX_ERRORS.has(revert.errorName) && !CHECKPOINT_INBOX_ERRORS.has(revert.errorName))

/**
 * A delivery the chain will take, isolated from the messages it refuses: the
 * whole delivery if it estimates; else, when the refusal is the messages'
 * fault, its longest leading part that estimates (found by halving, trying
 * first the part before a message the chain cannot give its gas limit), so
 * the innocent messages go now and the rest is planned again; else — its
 * first message alone is refused — that message alone with its revert. At
 * most 1 + ⌈log2 n⌉ estimations.
 */
const isolate = async (
  w: Writer,
  action: DeliverAction,
): Promise<{ readonly action: DeliverAction; readonly estimated: Estimate }> => {
  const estimate = (part: DeliverAction) => w.deps.chain.estimate(inboxCallOf(part))
  const estimated = await estimate(action)
  const n = action.messages.length
  if (!("revert" in estimated) || n === 1 || !isMessagesFault(estimated.revert)) return { action, estimated }
  const prefix = (k: number) => reshapeDelivery(action, { to: action.start + k })
  let good = 0
  let goodEstimate: Estimate | null = null
  let bad = n
  let badOne: { readonly action: DeliverAction; readonly estimated: Estimate } = { action, estimated }
  // InsufficientGas names the message the chain cannot give its gas limit: the part before it is the first guess.
  const culprit =
    estimated.revert.errorName === "InsufficientGas" ? Number(estimated.revert.args[0]) : Number.NaN
  let guess = culprit > action.start && culprit < action.start + n ? culprit - action.start : null
  while (bad - good > 1) {
    const k = guess ?? Math.floor((good + bad) / 2)
    guess = null
    const part = prefix(k)
    const tried = await estimate(part)
    if (!("revert" in tried)) {
      good = k
      goodEstimate = tried
    } else {
      if (!isMessagesFault(tried.revert)) return { action: part, estimated: tried }
      bad = k
      badOne = { action: part, estimated: tried }
    }
  }
  if (good > 0 && goodEstimate !== null) {
    w.deps.logger.warn("the chain refuses part of a batch; its leading part goes now and the rest again", {
      laneId: action.laneId,
      sent: good,
      of: n,
      reason: "revert" in estimated ? estimated.revert.reason : undefined,
    })
    return { action: prefix(good), estimated: goodEstimate }
  }
  return badOne
}

type Estimate = Awaited<ReturnType<Writer["deps"]["chain"]["estimate"]>>

/** A transaction to send: what it is for, its Inbox call, and how to record it. */
export interface Submission {
  readonly laneId: string
  readonly lane: Lane
  readonly action: DeliveryAction
  /** The messages it carries (none for a commit). */
  readonly messageIds: ReadonlyArray<MessageId>
  /** The cause of what is recorded for it: the planned action's origin, or a retry request. */
  readonly origin: EventId
  /** Stamp its records no earlier than this (ms): a retry request's time. */
  readonly notBefore: number
  readonly call: InboxCall
  /** The root a commit or commitAndDeliver stores. */
  readonly root: Bytes32 | null
  /** The root its messages are proven against (null for a commit). */
  readonly proofRoot: Bytes32 | null
  /** The nonce of each message, to read the Inbox if the flight is superseded. */
  readonly messageNonces: ReadonlyMap<MessageId, number>
  /** Gas added to the estimate instead of the margin, when larger (a batch that ran short of gas once). */
  readonly gasFloor?: bigint
}

/**
 * Sends a planned action: checks the Inbox (recording `DeliverySkipped` for what it has), estimates gas
 * (recording `DeliveryFailed` on a revert), signs, broadcasts, and records `DeliverySubmitted`; the new flight
 * joins `w.flights`. With `worstCaseGas`, a delivery carries gas for every message's whole limit on top of its
 * estimate (`worstCaseMessagesGas`): its batch ran short of gas once.
 *
 * @example
 * ```ts
 * const result = await sendAction(writer, plan.actions[0]) // { kind: "submitted", … }
 * ```
 */
export const sendAction = async (
  w: Writer,
  planned: PlannedAction,
  options: { readonly worstCaseGas?: boolean } = {},
): Promise<TickResult> => {
  const checked = await checkInbox(w, planned)
  if ("done" in checked) {
    w.failures = 0
    return checked.done
  }
  const isolated = checked.send.kind === "commit" ? null : await isolate(w, checked.send)
  const action = isolated?.action ?? checked.send
  const messageIds = action.kind === "commit" ? [] : action.messageIds
  return submit(
    w,
    {
      laneId: action.laneId,
      lane: action.lane,
      action: action.kind,
      messageIds,
      origin: action.origin,
      notBefore: 0,
      call: inboxCallOf(action),
      root: action.kind === "deliver" ? null : action.checkpoint.root,
      proofRoot: action.kind === "commit" ? null : action.checkpoint.root,
      messageNonces: new Map(messageIds.map((id, i) => [id, (action as DeliverAction).start + i])),
      ...(options.worstCaseGas === true && action.kind !== "commit"
        ? { gasFloor: worstCaseMessagesGas(action.messages.map((m) => BigInt(m.gasLimit))) }
        : {}),
    },
    isolated?.estimated,
  )
}

/**
 * Sends one transaction: estimates gas (a revert records `DeliveryFailed` with the decoded error and sends
 * nothing — except a "not now" refusal such as a paused Inbox, which records nothing and backs off), adds the
 * margin, signs with EIP-1559 fees and the local nonce, broadcasts, and records `DeliverySubmitted`; the new
 * flight joins `w.flights`.
 *
 * @example
 * ```ts
 * const result = await submit(writer, { …, action: "retry", call: retryCallOf(message, proof), origin: request.id })
 * ```
 */
export const submit = async (w: Writer, s: Submission, estimate?: Estimate): Promise<TickResult> => {
  const chain = w.deps.chain
  const estimated = estimate ?? (await chain.estimate(s.call))
  if ("revert" in estimated) {
    const { revert } = estimated
    if (revert.errorName !== null && TRANSIENT_INBOX_ERRORS.has(revert.errorName)) {
      w.backOff()
      w.deps.logger.warn("the Inbox refuses the work for now; it stays queued", { reason: revert.reason })
      return { kind: "inbox-blocked", reason: revert.reason, action: s.action }
    }
    const [failed] = await w.recordStep(
      s.lane,
      {
        _tag: "EstimateReverted",
        action: s.action,
        messageIds: s.messageIds,
        revert: {
          reason: revert.reason,
          revertData: Hex.make(revert.revertData),
          errorName: revert.errorName,
          args: revert.args.map(String),
        },
      },
      s.origin,
      { notBefore: s.notBefore },
    )
    w.failures = 0
    const reason = failed?.event._tag === "DeliveryFailed" ? failed.event.reason : revert.reason
    return { kind: "refused", reason, action: s.action, laneId: s.laneId }
  }
  const fees = await chain.fees()
  const nonce = await w.nextNonce()
  const request = chain.request(s.call, {
    gas: larger(withMargin(estimated.gas, w.deps.settings.gasMarginBps), estimated.gas + (s.gasFloor ?? 0n)),
    nonce,
    ...fees,
  })
  const sent = await w.sendFenced(request)
  const { signed } = sent
  let verdict = sent.verdict
  // An error answer does not prove the node did not take the transaction (a lost answer, or a retried send that
  // found it already there): the chain, not the answer, says whether it was sent.
  if (verdict.kind === "refused" && (await sentAnyway(w, signed.hash))) {
    verdict = { kind: "ambiguous", reason: `the node answered "${verdict.reason}" but has the transaction` }
  }
  if (verdict.kind === "refused") {
    if (verdict.nonceTooLow) w.nonces.resync()
    w.backOff()
    return {
      kind: "send-refused",
      reason: `the node refused the transaction: ${verdict.reason}`,
      action: s.action,
    }
  }
  if (verdict.kind === "ambiguous") {
    w.deps.logger.warn("broadcast outcome unknown; the transaction is treated as sent", {
      transactionHash: signed.hash,
      reason: verdict.reason,
    })
  }
  w.nonces.used(nonce)
  w.failures = 0
  const flight: ActiveFlight = {
    laneId: s.laneId,
    lane: s.lane,
    action: s.action,
    messageIds: s.messageIds,
    nonce,
    root: s.root,
    proofRoot: s.proofRoot,
    messageNonces: s.messageNonces,
    request,
    transactions: [{ hash: signed.hash, submission: "" as EventId }],
    lastSentAt: Date.now(),
  }
  w.launched(flight)
  const [submitted] = await w.recordStep(
    s.lane,
    {
      _tag: "Broadcast",
      action: s.action,
      messageIds: s.messageIds,
      transactionHash: signed.hash,
      nonce,
      maxFeePerGas: toU256(request.maxFeePerGas),
      gasLimit: toU256(request.gas),
      replaces: null,
      proofRoot: s.proofRoot,
    },
    s.origin,
    { notBefore: s.notBefore },
  )
  flight.transactions[0] = { hash: signed.hash, submission: submitted!.id }
  return {
    kind: "submitted",
    reason: `${s.action} of ${s.messageIds.length} message(s) sent with nonce ${nonce}`,
    action: s.action,
    laneId: s.laneId,
    transactionHash: signed.hash,
    nonce,
    messageIds: s.messageIds,
  }
}
