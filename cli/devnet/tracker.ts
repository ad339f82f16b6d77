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
  messageId?: string
  nonce?: number
  outbox?: string
  observedAt?: number
  provenAt?: number
  attestedAt?: number
  committedAt?: number
  deliveredAt?: number
  failedAt?: number
  /** How many times a confirmed transaction reported this message delivered (1 is the only right answer). */
  deliveries: number
}

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

/**
 * Tracks sent messages through the events read from the log.
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
  readonly #byBody = new Map<string, TrackedMessage>()
  readonly #byId = new Map<string, TrackedMessage>()
  readonly #stalls = new Map<string, string>()

  sent(message: SentMessage): void {
    this.#byBody.set(message.body.toLowerCase(), { sent: message, deliveries: 0 })
  }

  messages(): ReadonlyArray<TrackedMessage> {
    return [...this.#byBody.values()]
  }

  apply(envelopes: ReadonlyArray<Envelope>): void {
    for (const envelope of envelopes) this.#apply(envelope)
  }

  #lane(checkpoint: { srcChainId: number; outbox: string; dstChainId: number; count: number }) {
    return [...this.#byId.values()].filter(
      (m) =>
        m.sent.srcChainId === checkpoint.srcChainId &&
        m.sent.dstChainId === checkpoint.dstChainId &&
        m.outbox === checkpoint.outbox &&
        m.nonce !== undefined &&
        m.nonce < checkpoint.count,
    )
  }

  #apply(envelope: Envelope): void {
    const at = Date.parse(envelope.time)
    const event = envelope.event
    switch (event._tag) {
      case "MessageObserved": {
        const tracked = this.#byBody.get(event.message.body.toLowerCase())
        if (tracked === undefined || tracked.observedAt !== undefined) return
        tracked.messageId = event.messageId
        tracked.nonce = event.message.nonce
        tracked.outbox = event.outbox
        tracked.observedAt = at
        this.#byId.set(event.messageId, tracked)
        return
      }
      case "MessageProven":
        for (const id of event.messageIds) {
          const tracked = this.#byId.get(id)
          if (tracked !== undefined) tracked.provenAt ??= at
        }
        return
      case "CheckpointAttested":
        for (const tracked of this.#lane(event.checkpoint)) tracked.attestedAt ??= at
        return
      case "RootCommitted":
        for (const tracked of this.#lane(event.checkpoint)) tracked.committedAt ??= at
        return
      case "DeliveryConfirmed":
        for (const outcome of event.outcomes) {
          const tracked = this.#byId.get(outcome.messageId)
          if (tracked === undefined) continue
          if (event.action === "commitAndDeliver") tracked.committedAt ??= at
          if (outcome.result === "delivered") {
            tracked.deliveries++
            tracked.deliveredAt ??= at
          } else if (outcome.result === "failed") tracked.failedAt ??= at
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
