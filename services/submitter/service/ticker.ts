/**
 * The submitter's writer: one step per `tick()`, one transaction in flight
 * at a time.
 *
 * One flight at a time is the simplest correct single writer: nonces are
 * used strictly in order, a stuck transaction is replaced at its own nonce
 * without anything queued behind it, and a restart has at most one flight to
 * find. Throughput comes from batching (up to `batchSize` messages per
 * transaction), not from parallel nonces.
 *
 * A tick, in order:
 *   1. Publishes records left over from a tick whose publish failed.
 *   2. Once, after the state caught up with the log at start: every flight
 *      the log shows without an outcome (a `DeliverySubmitted` not followed
 *      by a `DeliveryConfirmed`/`DeliveryFailed`/`DeliverySkipped`) becomes
 *      the flight to finish, lowest nonce first.
 *   3. With a flight: looks up the receipts of its transactions (the first
 *      and every replacement). Included → waits for `confirmations`, then
 *      records `DeliveryConfirmed` with each message's outcome from the
 *      Inbox logs (and `RootCommitted` if the root was stored), or, if it
 *      reverted, `DeliveryFailed` with the reason re-simulated at that block.
 *      Not included and the account's nonce moved past it → records what
 *      the Inbox shows. Not included after `stuckAfterMs` → sends a
 *      replacement at the same nonce with fees bumped by `feeBumpBps` (at
 *      least 10%) and records it (`replaces` = the previous hash).
 *   4. Without one: plans (`planActions`) from the state once it holds the
 *      submitter's own last records, then for the first action checks the
 *      Inbox — a committed root, attempted messages — and records
 *      `DeliverySkipped` for what is done instead of sending it; estimates gas
 *      (a revert records `DeliveryFailed` with the decoded custom error and
 *      nothing is sent), adds `gasMarginBps`, signs with EIP-1559 fees and
 *      the local nonce, broadcasts, and records `DeliverySubmitted` before
 *      waiting for anything.
 *
 * Never twice: a message is planned only while the log shows it neither
 * settled nor in flight, the Inbox is read before every send, and the Inbox
 * itself skips attempted messages — so a resubmitted batch costs gas at
 * worst, never a second execution.
 *
 * @module
 */
import type { Address, LocalAccount, PublicClient, TransactionReceipt, Hex as ViemHex } from "viem"
import type { RecordPosition } from "../../../bus/port.ts"
import { inboxAbi } from "../../../contracts/index.ts"
import {
  BlockRef,
  Bytes32,
  type ChorusEvent,
  type DeliveryAction,
  DeliveryConfirmed,
  DeliveryFailed,
  DeliverySkipped,
  DeliverySubmitted,
  type Envelope,
  type EventId,
  Hex,
  type Lane,
  type MessageId,
  RootCommitted,
  TxHash,
  toU256,
  Uint,
} from "../../../schemas/index.ts"
import type { ServiceLogger } from "../../runtime/index.ts"
import {
  broadcast,
  bumpFees,
  calldataOf,
  describeError,
  describeRevert,
  type InboxReader,
  inboxCallOf,
  makeNonceCounter,
  outcomesOf,
  signRequest,
  type TransactionRequest,
  withMargin,
} from "../chain/index.ts"
import {
  type DeliverAction,
  type Flight,
  type LaneWait,
  type PlannedAction,
  planActions,
  reshapeDelivery,
  type SubmitterState,
} from "../core/index.ts"
import type { TickResult } from "./tick-result.ts"
import type { StateViews } from "./views.ts"

/** The settings a ticker uses (`SubmitterConfig` has them all). */
export interface TickerSettings {
  readonly chainId: number
  readonly batchSize: number
  readonly windowMs: number
  readonly confirmations: number
  readonly gasMarginBps: number
  readonly stuckAfterMs: number
  readonly feeBumpBps: number
  readonly pollIntervalMs: number
}

export interface TickerDeps {
  readonly settings: TickerSettings
  readonly inbox: Address
  readonly client: PublicClient
  readonly account: LocalAccount
  readonly reader: InboxReader
  readonly views: StateViews
  /** Publishes envelopes (in order) and returns where they landed. */
  readonly publish: (envelopes: ReadonlyArray<Envelope>) => Promise<ReadonlyArray<RecordPosition>>
  /** Stamps an event the submitter records (producer, cause, now). */
  readonly stamp: (event: ChorusEvent, cause: EventId | null) => Envelope
  readonly logger: ServiceLogger
  readonly onOutput?: (envelope: Envelope) => void
}

export interface Ticker {
  /** One step (see the module doc). Ticks never overlap: a call waits for the one running. */
  tick(): Promise<TickResult>
  /** Waits for the running tick; later ticks return `stopped`. */
  stop(): Promise<void>
}

interface ActiveFlight {
  readonly laneId: string
  readonly lane: Lane
  readonly action: DeliveryAction
  readonly messageIds: ReadonlyArray<MessageId>
  readonly nonce: number
  /** The root a commit or commitAndDeliver stores. */
  readonly root: Bytes32 | null
  /** The nonce of each message (to read the Inbox), where known. */
  readonly messageNonces: ReadonlyMap<MessageId, number>
  /** What was signed last; null for a flight recovered from the log until read back from the node. */
  request: TransactionRequest | null
  readonly transactions: Array<{ readonly hash: TxHash; readonly submission: EventId }>
  /** When the latest transaction was sent (ms). */
  lastSentAt: number
}

const MAX_BACKOFF_MS = 30_000

/**
 * Makes the ticker.
 *
 * @example
 * ```ts
 * const ticker = makeTicker({ settings, inbox, client, account, reader, views, publish, stamp, logger })
 * const result = await ticker.tick() // { kind: "submitted", … }
 * ```
 */
export const makeTicker = (deps: TickerDeps): Ticker => {
  const { settings, client, account, reader, views, logger } = deps
  const address = account.address
  const nonces = makeNonceCounter(client, address)
  const unpublished: Envelope[] = []
  let recovering: ActiveFlight[] | null = null
  let active: ActiveFlight | null = null
  let chainChecked = false
  let misconfigured: string | null = null
  let failures = 0
  let retryAt = 0
  let stopped = false
  let queue: Promise<unknown> = Promise.resolve()

  const flush = async () => {
    while (unpublished.length > 0) {
      const batch = unpublished.slice()
      const positions = await deps.publish(batch)
      unpublished.splice(0, batch.length)
      views.expect(positions)
      for (const envelope of batch) deps.onOutput?.(envelope)
    }
  }

  /** Stamps events, queues them for publishing and publishes; the envelopes exist even if publishing fails. */
  const record = async (events: ReadonlyArray<{ event: ChorusEvent; cause: EventId | null }>) => {
    const envelopes = events.map(({ event, cause }) => deps.stamp(event, cause))
    unpublished.push(...envelopes)
    try {
      await flush()
    } catch (error) {
      logger.warn("publishing failed; the records are kept and published on the next tick", {
        error: describeError(error),
      })
    }
    return envelopes
  }

  const backOff = () => {
    failures++
    const delay = Math.min(settings.pollIntervalMs * 2 ** failures, MAX_BACKOFF_MS)
    retryAt = Date.now() + delay
  }

  // -- Flights ---------------------------------------------------------------------------------------------

  const messageNoncesOf = (state: SubmitterState, laneId: string, ids: ReadonlyArray<MessageId>) => {
    const wanted = new Set<string>(ids)
    const found = new Map<MessageId, number>()
    const lane = state.lanes.get(laneId)
    for (const chunk of lane?.chunks.values() ?? []) {
      chunk.messageIds.forEach((id, i) => {
        if (wanted.has(id)) found.set(id, chunk.start + i)
      })
    }
    return found
  }

  const recoveredFlight = (state: SubmitterState, flight: Flight): ActiveFlight => ({
    laneId: flight.laneId,
    lane: flight.lane,
    action: flight.action,
    messageIds: flight.messageIds,
    nonce: flight.nonce,
    root: flight.root,
    messageNonces: messageNoncesOf(state, flight.laneId, flight.messageIds),
    request: null,
    transactions: flight.transactions.map((t) => ({ hash: t.hash, submission: t.submission })),
    lastSentAt: Math.max(...flight.transactions.map((t) => t.time)),
  })

  const receiptOf = async (flight: ActiveFlight): Promise<TransactionReceipt | null> => {
    for (const { hash } of [...flight.transactions].reverse()) {
      try {
        return await client.getTransactionReceipt({ hash: hash as ViemHex })
      } catch (error) {
        if ((error as { name?: string }).name !== "TransactionReceiptNotFoundError") throw error
      }
    }
    return null
  }

  /** The request a recovered flight signed, read back from the node (null if it knows none of them). */
  const requestOf = async (flight: ActiveFlight): Promise<TransactionRequest | null> => {
    if (flight.request !== null) return flight.request
    for (const { hash } of [...flight.transactions].reverse()) {
      try {
        const tx = await client.getTransaction({ hash: hash as ViemHex })
        if (tx.to === null || tx.to === undefined) continue
        flight.request = {
          to: tx.to,
          data: tx.input,
          gas: tx.gas,
          nonce: tx.nonce,
          maxFeePerGas: tx.maxFeePerGas ?? tx.gasPrice ?? 0n,
          maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? tx.gasPrice ?? 0n,
        }
        return flight.request
      } catch (error) {
        if ((error as { name?: string }).name !== "TransactionNotFoundError") throw error
      }
    }
    return null
  }

  const land = (flight: ActiveFlight) => {
    active = null
    nonces.used(flight.nonce)
    failures = 0
  }

  const settleReceipt = async (flight: ActiveFlight, receipt: TransactionReceipt): Promise<TickResult> => {
    const hash = TxHash.make(receipt.transactionHash.toLowerCase())
    const head = await client.getBlockNumber()
    const confirmations = Number(head - receipt.blockNumber) + 1
    const required = Math.max(1, settings.confirmations)
    if (confirmations < required) {
      return {
        kind: "confirming",
        reason: `included in block ${receipt.blockNumber}, ${confirmations} of ${required} confirmations`,
        transactionHash: hash,
        confirmations,
        required,
      }
    }
    const cause =
      flight.transactions.find((t) => t.hash === hash)?.submission ?? flight.transactions.at(-1)!.submission
    const block = new BlockRef({
      number: Uint.make(Number(receipt.blockNumber)),
      hash: Bytes32.make(receipt.blockHash.toLowerCase()),
    })
    if (receipt.status === "success") {
      const { outcomes, committed } = outcomesOf(
        receipt.logs,
        deps.inbox,
        settings.chainId,
        flight.messageIds,
      )
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
      await record(events)
      land(flight)
      const count = (result: string) => outcomes.filter((o) => o.result === result).length
      return {
        kind: "confirmed",
        reason: `${flight.action} included in block ${receipt.blockNumber} with ${confirmations} confirmation(s)`,
        action: flight.action,
        laneId: flight.laneId,
        transactionHash: hash,
        block: Number(receipt.blockNumber),
        delivered: count("delivered"),
        failed: count("failed"),
        skipped: count("skipped"),
      }
    }
    const revert = await resimulate(flight, receipt)
    await record([
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
    land(flight)
    return { kind: "reverted", reason: revert.reason, action: flight.action, transactionHash: hash }
  }

  /** Why an included transaction reverted: the same call re-simulated at its block. */
  const resimulate = async (flight: ActiveFlight, receipt: TransactionReceipt) => {
    const request = await requestOf(flight)
    if (request === null)
      return {
        reason: "reverted on chain (the transaction could not be read back)",
        revertData: "0x" as const,
      }
    try {
      await client.call({
        account: address,
        to: request.to,
        data: request.data,
        gas: request.gas,
        blockNumber: receipt.blockNumber,
      })
    } catch (error) {
      const revert = describeRevert(error)
      if (revert !== null) return revert
      return {
        reason: `reverted on chain; re-simulation failed: ${describeError(error)}`,
        revertData: "0x" as const,
      }
    }
    const reason =
      receipt.gasUsed >= request.gas
        ? `ran out of gas (used all ${request.gas})`
        : `reverted on chain but not when re-simulated at block ${receipt.blockNumber}`
    return { reason, revertData: "0x" as const }
  }

  /** None of the flight's transactions landed and its nonce is used: record what the Inbox shows. */
  const resolveSuperseded = async (flight: ActiveFlight): Promise<TickResult> => {
    const last = flight.transactions.at(-1)!
    const note = `none of its ${flight.transactions.length} transaction(s) landed and nonce ${flight.nonce} was used by another transaction`
    const events: Array<{ event: ChorusEvent; cause: EventId }> = []
    const base = { lane: flight.lane }
    let rootCommitted = false
    if (flight.root !== null && flight.action !== "deliver") {
      rootCommitted = (await reader.committedCount(flight.lane, flight.root as ViemHex)) > 0
      if (rootCommitted) {
        events.push({
          event: new DeliverySkipped({
            ...base,
            action: "commit",
            messageIds: [],
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
          : await reader.attempted(flight.lane, Math.min(...known), Math.max(...known) + 1)
      const done = flight.messageIds.filter((id) => attempted.has(flight.messageNonces.get(id) ?? -1))
      const rest = flight.messageIds.filter((id) => !done.includes(id))
      if (done.length > 0) {
        events.push({
          event: new DeliverySkipped({
            ...base,
            action: flight.action,
            messageIds: done,
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
    await record(events)
    active = null
    nonces.resync()
    return { kind: "superseded", reason: note, nonce: flight.nonce }
  }

  const replace = async (flight: ActiveFlight): Promise<TickResult> => {
    const last = flight.transactions.at(-1)!
    const old = await requestOf(flight)
    if (old === null) {
      const reason =
        `the node knows none of the ${flight.transactions.length} transaction(s) of nonce ${flight.nonce} ` +
        "(never broadcast, or evicted from its pool); the nonce is free again and the work goes back to the queue"
      await record([
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
      active = null
      nonces.resync()
      return { kind: "dropped", reason, nonce: flight.nonce }
    }
    const fees = bumpFees(old, settings.feeBumpBps, await client.estimateFeesPerGas())
    const request: TransactionRequest = { ...old, ...fees, nonce: flight.nonce }
    const signed = await signRequest(account, settings.chainId, request)
    const verdict = await broadcast(client, signed)
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
    const [submitted] = await record([
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
        }),
        cause: last.submission,
      },
    ])
    flight.transactions[flight.transactions.length - 1] = { hash: signed.hash, submission: submitted!.id }
    return {
      kind: "replaced",
      reason: `not included after ${settings.stuckAfterMs} ms; replaced with maxFeePerGas ${request.maxFeePerGas}`,
      transactionHash: signed.hash,
      replaces: last.hash,
      nonce: flight.nonce,
    }
  }

  const advance = async (flight: ActiveFlight): Promise<TickResult> => {
    const receipt = await receiptOf(flight)
    if (receipt !== null) return settleReceipt(flight, receipt)
    const latest = await client.getTransactionCount({ address, blockTag: "latest" })
    if (latest > flight.nonce) {
      // Read again: the transaction may have been included between the two reads.
      const again = await receiptOf(flight)
      if (again !== null) return settleReceipt(flight, again)
      return resolveSuperseded(flight)
    }
    const waited = Date.now() - flight.lastSentAt
    if (waited < settings.stuckAfterMs) {
      const hash = flight.transactions.at(-1)!.hash
      return {
        kind: "pending",
        reason: `not included yet (${waited} ms)`,
        transactionHash: hash,
        nonce: flight.nonce,
      }
    }
    return replace(flight)
  }

  // -- New work ----------------------------------------------------------------------------------------------

  const skip = async (
    action: PlannedAction,
    kind: DeliveryAction,
    messageIds: ReadonlyArray<MessageId>,
    reason: string,
    cause: EventId,
  ) => {
    await record([
      { event: new DeliverySkipped({ lane: action.lane, action: kind, messageIds, reason }), cause },
    ])
  }

  /** Drops what the Inbox already has; null when nothing is left to send. */
  const checkInbox = async (action: PlannedAction): Promise<PlannedAction | TickResult> => {
    if (action.kind === "commit") {
      if ((await reader.committedCount(action.lane, action.checkpoint.root as ViemHex)) === 0) return action
      const reason = "root already committed"
      await skip(action, "commit", [], reason, action.origin)
      return { kind: "skipped", reason, action: "commit", laneId: action.laneId, messageIds: [] }
    }
    let delivery: DeliverAction = action
    const end = delivery.start + delivery.messages.length
    const attempted = await reader.attempted(delivery.lane, delivery.start, end)
    const n = delivery.messageIds.length
    if (attempted.size === n) {
      const reason = `all ${n} messages already delivered (by another relayer or an earlier flight)`
      await skip(delivery, delivery.kind, delivery.messageIds, reason, delivery.origin)
      return {
        kind: "skipped",
        reason,
        action: delivery.kind,
        laneId: delivery.laneId,
        messageIds: delivery.messageIds,
      }
    }
    let drop = 0
    while (drop < delivery.chunks.length) {
      const chunk = delivery.chunks[drop]!
      let all = true
      for (let nonce = chunk.start; nonce < chunk.end && all; nonce++) all = attempted.has(nonce)
      if (!all) break
      drop++
    }
    if (drop > 0) {
      const ids = delivery.chunks.slice(0, drop).flatMap((c) => c.messageIds)
      await skip(
        delivery,
        delivery.kind,
        ids,
        `${ids.length} of ${n} messages already delivered (by another relayer or an earlier flight)`,
        delivery.origin,
      )
      delivery = reshapeDelivery(delivery, { drop })
    }
    if (
      delivery.kind === "commitAndDeliver" &&
      (await reader.committedCount(delivery.lane, delivery.checkpoint.root as ViemHex)) > 0
    ) {
      await skip(delivery, "commit", [], "root already committed", delivery.origin)
      delivery = reshapeDelivery(delivery, { kind: "deliver" })
    }
    return delivery
  }

  const perform = async (planned: PlannedAction): Promise<TickResult> => {
    const checked = await checkInbox(planned)
    if ("reason" in checked) {
      failures = 0
      return checked
    }
    const action = checked
    const call = inboxCallOf(action)
    const messageIds = action.kind === "commit" ? [] : action.messageIds
    let estimate: bigint
    try {
      estimate = await client.estimateContractGas({
        address: deps.inbox,
        abi: inboxAbi,
        ...(call as { functionName: "commit"; args: never }),
        account: address,
      })
    } catch (error) {
      const revert = describeRevert(error)
      if (revert === null) throw error
      await record([
        {
          event: new DeliveryFailed({
            lane: action.lane,
            action: action.kind,
            messageIds,
            transactionHash: null,
            reason: revert.reason,
            revertData: Hex.make(revert.revertData),
          }),
          cause: action.origin,
        },
      ])
      failures = 0
      return { kind: "refused", reason: revert.reason, action: action.kind, laneId: action.laneId }
    }
    const fees = await client.estimateFeesPerGas()
    const nonce = await nonces.peek()
    const request: TransactionRequest = {
      to: deps.inbox,
      data: calldataOf(call),
      gas: withMargin(estimate, settings.gasMarginBps),
      nonce,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    }
    const signed = await signRequest(account, settings.chainId, request)
    const verdict = await broadcast(client, signed)
    if (verdict.kind === "refused") {
      if (verdict.nonceTooLow) nonces.resync()
      backOff()
      return {
        kind: "send-refused",
        reason: `the node refused the transaction: ${verdict.reason}`,
        action: action.kind,
      }
    }
    if (verdict.kind === "ambiguous") {
      logger.warn("broadcast outcome unknown; the transaction is treated as sent", {
        transactionHash: signed.hash,
        reason: verdict.reason,
      })
    }
    nonces.used(nonce)
    failures = 0
    const flight: ActiveFlight = {
      laneId: action.laneId,
      lane: action.lane,
      action: action.kind,
      messageIds,
      nonce,
      root: action.kind === "deliver" ? null : action.checkpoint.root,
      messageNonces: new Map(messageIds.map((id, i) => [id, (action as DeliverAction).start + i])),
      request,
      transactions: [{ hash: signed.hash, submission: "" as EventId }],
      lastSentAt: Date.now(),
    }
    active = flight
    const [submitted] = await record([
      {
        event: new DeliverySubmitted({
          lane: action.lane,
          action: action.kind,
          messageIds,
          transactionHash: signed.hash,
          nonce,
          maxFeePerGas: toU256(request.maxFeePerGas),
          gasLimit: toU256(request.gas),
          replaces: null,
        }),
        cause: action.origin,
      },
    ])
    flight.transactions[0] = { hash: signed.hash, submission: submitted!.id }
    return {
      kind: "submitted",
      reason: `${action.kind} of ${messageIds.length} message(s) sent with nonce ${nonce}`,
      action: action.kind,
      laneId: action.laneId,
      transactionHash: signed.hash,
      nonce,
      messageIds,
    }
  }

  const waitingResult = (waits: ReadonlyArray<LaneWait>): TickResult => {
    if (waits.length === 0) return { kind: "idle", reason: "nothing to commit or deliver" }
    const now = Date.now()
    const first = [...waits].sort(
      (a, b) => (a.kind === "window" ? a.closesAt : Infinity) - (b.kind === "window" ? b.closesAt : Infinity),
    )[0]!
    switch (first.kind) {
      case "window":
        return {
          kind: "waiting",
          reason: `batch window open: ${first.messages} message(s) ready, closes in ${Math.max(0, first.closesAt - now)} ms`,
          laneId: first.laneId,
          closesInMs: Math.max(0, first.closesAt - now),
        }
      case "unattested":
        return {
          kind: "waiting",
          reason: `${first.messages} proven message(s) wait for an attested checkpoint`,
          laneId: first.laneId,
          closesInMs: null,
        }
      case "root-in-flight":
        return {
          kind: "waiting",
          reason: `waiting for the commit of root ${first.root} to land`,
          laneId: first.laneId,
          closesInMs: null,
        }
    }
  }

  // -- The tick ----------------------------------------------------------------------------------------------

  const step = async (): Promise<TickResult> => {
    if (stopped) return { kind: "stopped", reason: "the submitter was stopped" }
    try {
      await flush()
    } catch (error) {
      return { kind: "bus-error", reason: `publishing earlier records failed: ${describeError(error)}` }
    }
    try {
      if (!chainChecked) {
        const served = await client.getChainId()
        chainChecked = true
        if (served !== settings.chainId) {
          misconfigured = `the RPC serves chain ${served}, not ${settings.chainId}; check chains[].rpcUrls`
          logger.error("submitter misconfigured; it will not send anything", { reason: misconfigured })
        }
      }
      if (misconfigured !== null) return { kind: "misconfigured", reason: misconfigured }
      if (recovering === null) {
        if (!(await views.caughtUp()))
          return { kind: "catching-up", reason: "folding the log up to where it was at start" }
        const state = await views.current()
        recovering = [...state.flights.values()]
          .sort((a, b) => a.nonce - b.nonce)
          .map((flight) => recoveredFlight(state, flight))
        if (recovering.length > 0) {
          logger.info("resuming flights left in the air", { nonces: recovering.map((f) => f.nonce) })
        }
      }
      if (active === null && recovering.length > 0) active = recovering.shift()!
      if (active !== null) return await advance(active)
      const wait = retryAt - Date.now()
      if (wait > 0) return { kind: "backing-off", reason: `after ${failures} failure(s)`, retryInMs: wait }
      if (!(await views.caughtUp()))
        return { kind: "catching-up", reason: "folding the submitter's own records" }
      const plan = planActions(await views.current(), Date.now(), settings)
      const next = plan.actions[0]
      return next === undefined ? waitingResult(plan.waiting) : await perform(next)
    } catch (error) {
      backOff()
      return { kind: "rpc-error", reason: describeError(error) }
    }
  }

  return {
    tick: () => {
      const run = queue.then(step)
      queue = run.catch(() => undefined)
      return run
    },
    stop: async () => {
      stopped = true
      await queue
    },
  }
}
