/**
 * Follows every devnet message through the pipeline by reading the log:
 * observed → proven → attested → committed → delivered (or failed). It is the
 * same view an operator gets from the topics, so what the devnet reports is
 * what the log says, not what the services think.
 *
 * Pipeline: each envelope → the lifecycle projection's marks (`marksOf`) →
 * message marks kept by message id, checkpoint marks by lane and count →
 * joined with the sent messages when asked (`messages`, `progress`).
 *
 * Invariants:
 * - Which stage an event implies is the lifecycle projection's rule, the
 *   same the audit index applies; the tracker only keeps the times.
 * - The answer does not depend on read order: each stage keeps its earliest
 *   time, and a checkpoint read before the observation of a message it covers
 *   still covers it.
 *
 * @module
 */
import type { Envelope, MessageId } from "../../schemas/index.ts"
import { laneKey } from "../../schemas/index.ts"
import {
  evolve,
  furthest,
  type LaneRef,
  type Lifecycle,
  type Stage as LifecycleStage,
  laneIdOf,
  marksOf,
  type TerminalStage,
} from "../../services/lifecycle/index.ts"
import type { SentMessage } from "./traffic.ts"

/** The lifecycle stages the devnet reports, in pipeline order. */
export const TRACKED_STAGES = [
  "observed",
  "proven",
  "attested",
  "committed",
  "delivered",
  "failed",
] as const satisfies ReadonlyArray<LifecycleStage>

type TrackedStage = (typeof TRACKED_STAGES)[number]

export type Stage = "sent" | TrackedStage

export interface TrackedMessage {
  readonly sent: SentMessage
  readonly messageId?: string | undefined
  readonly nonce?: number | undefined
  readonly outbox?: string | undefined
  readonly observedAt?: number | undefined
  readonly provenAt?: number | undefined
  readonly attestedAt?: number | undefined
  readonly committedAt?: number | undefined
  /**
   * When the log first said it was delivered: its confirmation, or else a skip for which the Inbox showed it
   * delivered (read after the delivery itself, so its latency is an upper bound).
   */
  readonly deliveredAt?: number | undefined
  readonly failedAt?: number | undefined
  /** How many times a confirmed transaction reported this message delivered (1 is the only right answer). */
  readonly deliveries: number
}

/**
 * How a tracked message is settled so far, if it is: the furthest terminal stage it reached, so a failure
 * then a delivery (a retry) is delivered.
 *
 * @example
 * ```ts
 * settledStageOf(tracker.messages()[0]) // "delivered"
 * ```
 */
export const settledStageOf = (message: TrackedMessage): TerminalStage | undefined =>
  furthest<TerminalStage>([
    ...(message.failedAt === undefined ? [] : (["failed"] as const)),
    ...(message.deliveredAt === undefined ? [] : (["delivered"] as const)),
  ])

export interface Progress {
  readonly counts: Readonly<Record<Stage, number>>
  /** Latency of each delivered message: source finality (the watcher's observation) to destination inclusion. */
  readonly latenciesMs: ReadonlyArray<number>
  readonly duplicates: number
  readonly stalls: ReadonlyArray<string>
}

/** One hop's latency over the delivered messages: p50 and p99 in milliseconds. */
export interface HopLatency {
  readonly p50Ms: number | null
  readonly p99Ms: number | null
}

/** The pipeline's hops, each from one stage's time to the next's (source finality to destination receipt). */
export const HOPS = [
  ["observed", "proven"],
  ["proven", "attested"],
  ["attested", "committed"],
  ["committed", "delivered"],
] as const

export interface Summary {
  readonly sent: number
  readonly delivered: number
  readonly failed: number
  readonly p50Ms: number | null
  readonly p99Ms: number | null
  /** Messages per second actually sent: first send to last send. Null below two messages. */
  readonly sentPerS: number | null
  /** Per hop, keyed `observed→proven` and so on, over the messages delivered. */
  readonly hops: Readonly<Record<string, HopLatency>>
  /** Destination transactions confirmed (`DeliveryConfirmed`): what the relay paid for. */
  readonly deliveryTransactions: number
  /** Gas those transactions used in all, per message they delivered; null before any delivered. */
  readonly gasPerMessage: number | null
}

/**
 * The `q`-quantile (nearest rank) of a list, or null for an empty list.
 *
 * @example
 * ```ts
 * percentile([10, 20, 30, 40], 0.5) // 20
 * ```
 */
export const percentile = (values: ReadonlyArray<number>, q: number): number | null => {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** What the log said about one message id, in whatever order it was read. */
interface Facts {
  /** Its lane and nonce, from its observation: what joins it to the checkpoints that cover it. */
  lane?: LaneRef
  nonce?: number
  lifecycle: Lifecycle
  deliveries: number
}

const isTracked = (stage: LifecycleStage): stage is TrackedStage =>
  (TRACKED_STAGES as ReadonlyArray<LifecycleStage>).includes(stage)

/** The times a lane reached each checkpoint count, indexed so the lifecycle's `covers` rule is a binary search. */
class LaneCheckpoints {
  readonly #entries: Array<{ count: number; at: number }> = []
  #index: { counts: number[]; earliest: number[] } | undefined

  add(count: number, at: number): void {
    this.#entries.push({ count, at })
    this.#index = undefined
  }

  /** The earliest time a checkpoint covering `nonce` was reached, if one was. */
  coveringAt(nonce: number): number | undefined {
    if (this.#index === undefined) {
      const sorted = [...this.#entries].sort((a, b) => a.count - b.count)
      const earliest = sorted.map((entry) => entry.at)
      for (let i = earliest.length - 2; i >= 0; i--) earliest[i] = Math.min(earliest[i]!, earliest[i + 1]!)
      this.#index = { counts: sorted.map((entry) => entry.count), earliest }
    }
    const { counts, earliest } = this.#index
    let lo = 0
    let hi = counts.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (counts[mid]! > nonce) hi = mid
      else lo = mid + 1
    }
    return earliest[lo]
  }
}

const minDefined = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b)

/**
 * Tracks sent messages through the events read from the log.
 *
 * Events are joined by message id and lane, not by arrival: a tail reads one
 * topic after another, so a delivery can be read before the observation of
 * the same message, and the answer must not depend on that.
 *
 * @example
 * ```ts
 * const tracker = new Tracker()
 * tracker.sent(message)
 * tracker.apply(await tail.poll())
 * tracker.summary() // { sent, delivered, failed, p50Ms, p99Ms }
 * ```
 */
export class Tracker {
  readonly #sent = new Map<string, SentMessage>()
  readonly #idByBody = new Map<string, MessageId>()
  readonly #facts = new Map<MessageId, Facts>()
  /** Checkpoints reached, by stage and then by lane (`laneIdOf`). */
  readonly #checkpoints = new Map<TrackedStage, Map<string, LaneCheckpoints>>()
  readonly #stalls = new Map<string, string>()
  /** Each confirmed destination transaction once (a record read twice says the same): its gas, and what it delivered. */
  readonly #transactions = new Map<string, { readonly gasUsed: bigint; readonly delivered: number }>()

  sent(message: SentMessage): void {
    this.#sent.set(message.body.toLowerCase(), message)
  }

  /** Every sent message with what the log has said about it so far, in the order they were sent. */
  messages(): ReadonlyArray<TrackedMessage> {
    return [...this.#sent.entries()].map(([body, sent]) => {
      const messageId = this.#idByBody.get(body)
      const facts = messageId === undefined ? undefined : this.#facts.get(messageId)
      if (facts === undefined) return { sent, messageId, deliveries: 0 }
      const { lane, nonce } = facts
      // A stage is reached by a mark naming the message or by a checkpoint covering it, whichever came first.
      const at = (stage: TrackedStage) =>
        minDefined(
          facts.lifecycle[stage],
          lane === undefined || nonce === undefined
            ? undefined
            : this.#checkpoints.get(stage)?.get(laneIdOf(lane))?.coveringAt(nonce),
        )
      return {
        sent,
        messageId,
        nonce,
        outbox: lane?.outbox,
        observedAt: at("observed"),
        provenAt: at("proven"),
        attestedAt: at("attested"),
        committedAt: at("committed"),
        deliveredAt: at("delivered"),
        failedAt: at("failed"),
        deliveries: facts.deliveries,
      }
    })
  }

  /**
   * Takes envelopes read from the log. With `appendedAt` (each record's timestamp), a stage's time is when its
   * record was appended; without, the envelope's own time, which for an output is its input's.
   */
  apply(envelopes: ReadonlyArray<Envelope>, appendedAt?: ReadonlyArray<number>): void {
    envelopes.forEach((envelope, index) => {
      this.#apply(envelope, appendedAt?.[index] ?? Date.parse(envelope.time))
    })
  }

  #factsOf(messageId: MessageId): Facts {
    let facts = this.#facts.get(messageId)
    if (facts === undefined) {
      facts = { lifecycle: {}, deliveries: 0 }
      this.#facts.set(messageId, facts)
    }
    return facts
  }

  #checkpoint(stage: TrackedStage, lane: LaneRef, count: number, at: number): void {
    let byLane = this.#checkpoints.get(stage)
    if (byLane === undefined) {
      byLane = new Map()
      this.#checkpoints.set(stage, byLane)
    }
    const key = laneIdOf(lane)
    let checkpoints = byLane.get(key)
    if (checkpoints === undefined) {
      checkpoints = new LaneCheckpoints()
      byLane.set(key, checkpoints)
    }
    checkpoints.add(count, at)
  }

  #apply(envelope: Envelope, at: number): void {
    const event = envelope.event
    if (event._tag === "MessageObserved") {
      const facts = this.#factsOf(event.messageId)
      // The first observation read joins the message; a republished one says the same.
      if (facts.nonce === undefined) {
        this.#idByBody.set(event.message.body.toLowerCase(), event.messageId)
        facts.nonce = event.message.nonce
        facts.lane = {
          srcChainId: event.message.srcChainId,
          outbox: event.outbox,
          dstChainId: event.message.dstChainId,
        }
      }
    }
    if (event._tag === "LaneStalled")
      this.#stalls.set(laneKey(event.lane), `${event.reason}: ${event.detail}`)
    if (event._tag === "DeliveryConfirmed")
      this.#transactions.set(event.transactionHash, {
        gasUsed: BigInt(event.gasUsed),
        delivered: event.outcomes.filter((o) => o.result === "delivered").length,
      })
    for (const mark of marksOf(event)) {
      if (!isTracked(mark.stage)) continue
      if (mark.on === "checkpoint") {
        this.#checkpoint(mark.stage, mark.lane, mark.count, at)
        continue
      }
      const facts = this.#factsOf(mark.messageId)
      facts.lifecycle = evolve(facts.lifecycle, mark.stage, at)
      // Only a confirmed transaction delivers: a skip reports what the Inbox already showed, so it is never a
      // second delivery.
      if (mark.stage === "delivered" && event._tag === "DeliveryConfirmed") facts.deliveries++
    }
  }

  /** Counts and latencies; `all` is `messages()` when the caller already has it (it is rebuilt per call). */
  progress(all: ReadonlyArray<TrackedMessage> = this.messages()): Progress {
    const count = (f: (m: TrackedMessage) => boolean) => all.filter(f).length
    return {
      counts: {
        sent: all.length,
        observed: count((m) => m.observedAt !== undefined),
        proven: count((m) => m.provenAt !== undefined),
        attested: count((m) => m.attestedAt !== undefined),
        committed: count((m) => m.committedAt !== undefined),
        delivered: count((m) => settledStageOf(m) === "delivered"),
        failed: count((m) => settledStageOf(m) === "failed"),
      },
      latenciesMs: all
        .filter((m) => m.deliveredAt !== undefined && m.observedAt !== undefined)
        .map((m) => m.deliveredAt! - m.observedAt!),
      duplicates: count((m) => m.deliveries > 1),
      stalls: [...this.#stalls.entries()].map(([lane, why]) => `${lane} ${why}`),
    }
  }

  summary(): Summary {
    const all = this.messages()
    const { counts, latenciesMs } = this.progress(all)
    const delivered = all.filter((m) => m.deliveredAt !== undefined)
    const at = (m: TrackedMessage, stage: (typeof HOPS)[number][number]) =>
      ({
        observed: m.observedAt,
        proven: m.provenAt,
        attested: m.attestedAt,
        committed: m.committedAt,
        delivered: m.deliveredAt,
      })[stage]
    const hops: Record<string, HopLatency> = {}
    for (const [from, to] of HOPS) {
      const spans = delivered.flatMap((m) => {
        const start = at(m, from)
        const end = at(m, to)
        return start === undefined || end === undefined ? [] : [Math.max(0, end - start)]
      })
      hops[`${from}→${to}`] = { p50Ms: percentile(spans, 0.5), p99Ms: percentile(spans, 0.99) }
    }
    // A loop, not Math.max(...times): spreading a few hundred thousand arguments overflows the stack.
    let first = Number.POSITIVE_INFINITY
    let last = Number.NEGATIVE_INFINITY
    for (const m of all) {
      first = Math.min(first, m.sent.sentAt)
      last = Math.max(last, m.sent.sentAt)
    }
    const span = all.length < 2 ? 0 : last - first
    let gas = 0n
    let deliveredByThem = 0
    for (const t of this.#transactions.values()) {
      gas += t.gasUsed
      deliveredByThem += t.delivered
    }
    return {
      sent: counts.sent,
      delivered: counts.delivered,
      failed: counts.failed,
      p50Ms: percentile(latenciesMs, 0.5),
      p99Ms: percentile(latenciesMs, 0.99),
      sentPerS: span === 0 ? null : Math.round(((all.length - 1) * 1000 * 10) / span) / 10,
      hops,
      deliveryTransactions: this.#transactions.size,
      gasPerMessage: deliveredByThem === 0 ? null : Number(gas / BigInt(deliveredByThem)),
    }
  }
}
