/**
 * What the ticker's steps share: the dependencies, the account's nonce
 * counter, the flights in the air, the back-off, and `record` — which stamps
 * the submitter's events and publishes them in order, keeping any that fail
 * to publish for the next tick (so a transaction's record is never lost to
 * a bus hiccup after it was broadcast).
 *
 * Stamps never go back in time: each record is stamped at the later of now
 * and the latest time stamped or acted on (`notBefore`: a retry request's
 * time, a recovered flight's last submission). A rebuild folds the log by
 * record time, so a request made on a host whose clock runs ahead is still
 * folded before its answer, and a submission before its outcome.
 *
 * @module
 */
import type { RecordPosition } from "../../../bus/port.ts"
import {
  backoffMs,
  type ChainWriter,
  describeError,
  type HexString,
  type InboxDeliveries,
  type SendVerdict,
  type SignedTransaction,
  type TransactionRequest,
} from "../../../chains/index.ts"
import {
  type Bytes32,
  type ChorusEvent,
  type DeliveryAction,
  DestinationRead,
  type DestinationStep,
  type Envelope,
  type EventId,
  type Lane,
  type MessageId,
  type TxHash,
} from "../../../schemas/index.ts"
import type { ChainHaltsView, ServiceLogger } from "../../runtime/index.ts"
import { makeNonceCounter, type NonceCounter } from "../chain/index.ts"
import { stepOutcomes } from "../core/step-outcomes.ts"
import type { StateViews } from "./views.ts"

/** The settings the writer uses (`SubmitterConfig` has them all). */
export interface TickerSettings {
  readonly chainId: number
  readonly batchSize: number
  readonly windowMs: number
  readonly maxBatchGas: number
  readonly confirmations: number
  readonly maxInFlight: number
  readonly gasMarginBps: number
  readonly stuckAfterMs: number
  readonly feeBumpBps: number
  readonly pollIntervalMs: number
  readonly stopDrainMs: number
}

export interface TickerDeps {
  readonly settings: TickerSettings
  /** The destination chain's writer: the submitter's account and the Inbox it sends to. */
  readonly chain: ChainWriter
  /** What the Inbox already has. */
  readonly reader: InboxDeliveries
  readonly views: StateViews
  /** Publishes envelopes (in order) and returns where they landed. */
  readonly publish: (envelopes: ReadonlyArray<Envelope>) => Promise<ReadonlyArray<RecordPosition>>
  /** Stamps an event the submitter records (producer, cause, time). */
  readonly stamp: (event: ChorusEvent, cause: EventId | null, time: Date) => Envelope
  readonly logger: ServiceLogger
  readonly onOutput?: (envelope: Envelope) => void
  /** Which source chains are halted (their messages are quarantined); none are when absent. */
  readonly halts?: ChainHaltsView
}

/** A transaction in the air: one account nonce, its first transaction and its replacements. */
export interface ActiveFlight {
  readonly laneId: string
  readonly lane: Lane
  readonly action: DeliveryAction
  readonly messageIds: ReadonlyArray<MessageId>
  readonly nonce: number
  /** The root a commit or commitAndDeliver stores. */
  readonly root: Bytes32 | null
  /** The root its messages are proven against (null for a commit, or unknown for a flight recovered from an older log). */
  readonly proofRoot: Bytes32 | null
  /** The nonce of each message (to read the Inbox), where known. */
  readonly messageNonces: ReadonlyMap<MessageId, number>
  /** What was signed last; null for a flight recovered from the log until read back from the node. */
  request: TransactionRequest | null
  readonly transactions: Array<{ readonly hash: TxHash; readonly submission: EventId }>
  /** When the latest transaction was sent (ms). */
  lastSentAt: number
}

export interface Writer {
  readonly deps: TickerDeps
  /** The submitter's account. */
  readonly address: HexString
  readonly nonces: NonceCounter
  /** The flights in the air, lowest nonce first. */
  flights: ActiveFlight[]
  /**
   * The nonce a new transaction takes: the counter's, passed over any a flight in the air holds. The counter
   * alone can fall behind them (it reads the chain again after a resync, and a landing flight raises it only
   * past its own nonce), and a new batch at a nonce in the air would replace that flight on the node.
   */
  nextNonce(): Promise<number>
  /**
   * Signs and broadcasts, but only while the group still gives this member the partitions (rejects with
   * `MemberFencedError` otherwise): a zombie sends nothing.
   */
  sendFenced(request: TransactionRequest): Promise<{ signed: SignedTransaction; verdict: SendVerdict }>
  /** Adds a flight to those in the air, in nonce order. */
  launched(flight: ActiveFlight): void
  /** Takes a flight out of those in the air: its outcome is recorded, or another member follows it now. */
  grounded(flight: ActiveFlight): void
  /** Failures in a row (RPC errors, refused sends) since the last success. */
  failures: number
  /** No new transaction before this time (ms). */
  retryAt: number
  /**
   * Stamps and publishes events in order; the envelopes are returned even if publishing failed. They are
   * stamped no earlier than `notBefore` (ms), nor than anything recorded before.
   */
  record(
    events: ReadonlyArray<{ readonly event: ChorusEvent; readonly cause: EventId | null }>,
    options?: { readonly notBefore?: number },
  ): Promise<Envelope[]>
  /**
   * Records a step: the destination's answers behind it (`DestinationRead`, on `chorus.lane.reads`) and the
   * records they make (`stepOutcomes`), with one cause and one time, so a replay makes the same records from
   * the read. Returns the records made (without the read).
   */
  recordStep(
    lane: Lane,
    step: DestinationStep,
    cause: EventId | null,
    options?: { readonly notBefore?: number },
  ): Promise<Envelope[]>
  /** Stamps nothing before `time` (ms) from now on: the time of something the writer acts on. */
  notBefore(time: number): void
  /** Publishes what an earlier `record` could not; throws if the bus still refuses. */
  flush(): Promise<void>
  /** Pushes the next new transaction back, exponentially. */
  backOff(): void
}

/**
 * Makes the writer's shared context.
 *
 * @example
 * ```ts
 * const w = makeWriter(deps)
 * await w.record([{ event: new DeliverySkipped({ … }), cause: action.origin }])
 * await w.record([{ event: new RetryRefused({ … }), cause: request.id }], { notBefore: request.time })
 * ```
 */
export const makeWriter = (deps: TickerDeps): Writer => {
  const unpublished: Envelope[] = []
  /** The latest time stamped or acted on (ms). */
  let clock = 0
  const flush = async () => {
    while (unpublished.length > 0) {
      const batch = unpublished.slice()
      const positions = await deps.publish(batch)
      unpublished.splice(0, batch.length)
      deps.views.expect(positions)
      for (const envelope of batch) deps.onOutput?.(envelope)
    }
  }
  const writer: Writer = {
    deps,
    address: deps.chain.sender,
    nonces: makeNonceCounter(deps.chain),
    flights: [],
    nextNonce: async () => {
      let nonce = await writer.nonces.peek()
      const held = new Set(writer.flights.map((f) => f.nonce))
      while (held.has(nonce)) nonce++
      return nonce
    },
    sendFenced: async (request) => {
      const signed = await deps.chain.sign(request)
      await deps.views.fence()
      return { signed, verdict: await deps.chain.broadcast(signed) }
    },
    launched: (flight) => {
      writer.flights = [...writer.flights, flight].sort((a, b) => a.nonce - b.nonce)
    },
    grounded: (flight) => {
      writer.flights = writer.flights.filter((f) => f !== flight)
    },
    failures: 0,
    retryAt: 0,
    flush,
    notBefore: (time) => {
      clock = Math.max(clock, time)
    },
    record: async (events, options = {}) => {
      clock = Math.max(clock, options.notBefore ?? 0, Date.now())
      const time = new Date(clock)
      const envelopes = events.map(({ event, cause }) => deps.stamp(event, cause, time))
      unpublished.push(...envelopes)
      try {
        await flush()
      } catch (error) {
        deps.logger.warn("publishing failed; the records are kept and published on the next tick", {
          error: describeError(error),
        })
      }
      return envelopes
    },
    recordStep: async (lane, step, cause, options) => {
      const read = new DestinationRead({ lane, step })
      const made = stepOutcomes(read).map((event) => ({ event, cause }))
      const [, ...records] = await writer.record([{ event: read, cause }, ...made], options)
      return records
    },
    backOff: () => {
      writer.failures++
      writer.retryAt = Date.now() + backoffMs(deps.settings.pollIntervalMs, writer.failures)
    },
  }
  return writer
}
