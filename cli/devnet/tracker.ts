/**
 * Follows every devnet message through the pipeline by reading the log:
 * observed → proven → attested → committed → delivered (or failed). It is the
 * same view an operator gets from the topics, so what the devnet reports is
 * what the log says, not what the services think.
 *
 * @module
 */
import type { Envelope } from "../../schemas/index.ts"
import { laneKey } from "../../schemas/index.ts"
import type { SentMessage } from "./traffic.ts"

export type Stage = "sent" | "observed" | "proven" | "attested" | "committed" | "delivered" | "failed"

export interface TrackedMessage {
  readonly sent: SentMessage
  readonly messageId?: string | undefined
  readonly nonce?: number | undefined
  readonly outbox?: string | undefined
  readonly observedAt?: number | undefined
  readonly provenAt?: number | undefined
  readonly attestedAt?: number | undefined
  readonly committedAt?: number | undefined
  readonly deliveredAt?: number | undefined
  readonly failedAt?: number | undefined
  /** How many times a confirmed transaction reported this message delivered (1 is the only right answer). */
  readonly deliveries: number
}

const laneOf = (lane: { srcChainId: number; outbox?: string | undefined; dstChainId: number }): string =>
  `${lane.srcChainId}:${lane.outbox ?? "?"}:${lane.dstChainId}`

export interface Progress {
  readonly counts: Readonly<Record<Stage, number>>
  /** Latency of each delivered message: source finality (the watcher's observation) to destination inclusion. */
  readonly latenciesMs: ReadonlyArray<number>
  readonly duplicates: number
  readonly stalls: ReadonlyArray<string>
}

export interface Summary {
  readonly sent: number
  readonly delivered: number
  readonly failed: number
  readonly p50Ms: number | null
  readonly p99Ms: number | null
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
  nonce?: number
  outbox?: string
  observedAt?: number
  provenAt?: number
  committedAt?: number
  deliveredAt?: number
  failedAt?: number
  deliveries: number
}

/** The times a lane reached each checkpoint count: a message with nonce n is covered by any count > n. */
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
  readonly #idByBody = new Map<string, string>()
  readonly #facts = new Map<string, Facts>()
  readonly #attested = new Map<string, LaneCheckpoints>()
  readonly #committed = new Map<string, LaneCheckpoints>()
  readonly #stalls = new Map<string, string>()

  sent(message: SentMessage): void {
    this.#sent.set(message.body.toLowerCase(), message)
  }

  /** Every sent message with what the log has said about it so far, in the order they were sent. */
  messages(): ReadonlyArray<TrackedMessage> {
    return [...this.#sent.entries()].map(([body, sent]) => {
      const messageId = this.#idByBody.get(body)
      const facts = messageId === undefined ? undefined : this.#facts.get(messageId)
      if (facts === undefined) return { sent, messageId, deliveries: 0 }
      const key = laneOf({ srcChainId: sent.srcChainId, outbox: facts.outbox, dstChainId: sent.dstChainId })
      const covered = (byLane: Map<string, LaneCheckpoints>) =>
        facts.nonce === undefined ? undefined : byLane.get(key)?.coveringAt(facts.nonce)
      return {
        sent,
        messageId,
        nonce: facts.nonce,
        outbox: facts.outbox,
        observedAt: facts.observedAt,
        provenAt: facts.provenAt,
        attestedAt: covered(this.#attested),
        committedAt: minDefined(facts.committedAt, covered(this.#committed)),
        deliveredAt: facts.deliveredAt,
        failedAt: facts.failedAt,
        deliveries: facts.deliveries,
      }
    })
  }

  apply(envelopes: ReadonlyArray<Envelope>): void {
    for (const envelope of envelopes) this.#apply(envelope)
  }

  #factsOf(messageId: string): Facts {
    let facts = this.#facts.get(messageId)
    if (facts === undefined) {
      facts = { deliveries: 0 }
      this.#facts.set(messageId, facts)
    }
    return facts
  }

  #checkpoint(
    byLane: Map<string, LaneCheckpoints>,
    checkpoint: { srcChainId: number; outbox: string; dstChainId: number; count: number },
    at: number,
  ): void {
    const key = laneOf(checkpoint)
    let lane = byLane.get(key)
    if (lane === undefined) {
      lane = new LaneCheckpoints()
      byLane.set(key, lane)
    }
    lane.add(checkpoint.count, at)
  }

  #apply(envelope: Envelope): void {
    const at = Date.parse(envelope.time)
    const event = envelope.event
    switch (event._tag) {
      case "MessageObserved": {
        const facts = this.#factsOf(event.messageId)
        if (facts.observedAt !== undefined) return
        this.#idByBody.set(event.message.body.toLowerCase(), event.messageId)
        facts.nonce = event.message.nonce
        facts.outbox = event.outbox
        facts.observedAt = at
        return
      }
      case "MessageProven":
        for (const id of event.messageIds) {
          const facts = this.#factsOf(id)
          facts.provenAt = minDefined(facts.provenAt, at)
        }
        return
      case "CheckpointAttested":
        this.#checkpoint(this.#attested, event.checkpoint, at)
        return
      case "RootCommitted":
        this.#checkpoint(this.#committed, event.checkpoint, at)
        return
      case "DeliveryConfirmed":
        for (const outcome of event.outcomes) {
          const facts = this.#factsOf(outcome.messageId)
          if (event.action === "commitAndDeliver") facts.committedAt = minDefined(facts.committedAt, at)
          if (outcome.result === "delivered") {
            facts.deliveries++
            facts.deliveredAt = minDefined(facts.deliveredAt, at)
          } else if (outcome.result === "failed") facts.failedAt = minDefined(facts.failedAt, at)
        }
        return
      case "LaneStalled":
        this.#stalls.set(laneKey(event.lane), `${event.reason}: ${event.detail}`)
        return
      default:
        return
    }
  }

  progress(): Progress {
    const all = this.messages()
    const count = (f: (m: TrackedMessage) => boolean) => all.filter(f).length
    return {
      counts: {
        sent: all.length,
        observed: count((m) => m.observedAt !== undefined),
        proven: count((m) => m.provenAt !== undefined),
        attested: count((m) => m.attestedAt !== undefined),
        committed: count((m) => m.committedAt !== undefined),
        delivered: count((m) => m.deliveredAt !== undefined),
        failed: count((m) => m.failedAt !== undefined && m.deliveredAt === undefined),
      },
      latenciesMs: all
        .filter((m) => m.deliveredAt !== undefined && m.observedAt !== undefined)
        .map((m) => m.deliveredAt! - m.observedAt!),
      duplicates: count((m) => m.deliveries > 1),
      stalls: [...this.#stalls.entries()].map(([lane, why]) => `${lane} ${why}`),
    }
  }

  summary(): Summary {
    const { counts, latenciesMs } = this.progress()
    return {
      sent: counts.sent,
      delivered: counts.delivered,
      failed: counts.failed,
      p50Ms: percentile(latenciesMs, 0.5),
      p99Ms: percentile(latenciesMs, 0.99),
    }
  }
}
