/**
 * What one published event adds to the metrics: a pure function from an
 * envelope to counter increments, so what a process counts follows from the
 * events it wrote and nothing else (the given/when/then tests run it alone).
 *
 * Each process counts what it itself publishes: a chain-watcher its
 * observations, a submitter its deliveries, and a cluster's figure is the
 * sum over its processes. A record published twice (at-least-once, after a
 * crash) counts twice: counters measure work done, the audit index what is
 * true of each message.
 *
 * @module
 */
import type { Envelope } from "../schemas/index.ts"
import type { MetricKey } from "./catalog.ts"

export interface Increment {
  readonly metric: MetricKey
  readonly labels: Readonly<Record<string, string>>
  readonly by: number
}

const laneOf = (lane: { readonly srcChainId: number; readonly dstChainId: number }) =>
  `${lane.srcChainId}-${lane.dstChainId}`

const on = (metric: MetricKey, labels: Readonly<Record<string, string>>, by = 1): Increment[] =>
  by === 0 ? [] : [{ metric, labels, by }]

/**
 * The increments one published event makes.
 *
 * @example
 * ```ts
 * incrementsOf(deliveryConfirmed) // [{ metric: "messagesDelivered", labels: { lane: "901-902" }, by: 3 }, …]
 * ```
 */
export const incrementsOf = (envelope: Envelope): ReadonlyArray<Increment> => {
  const event = envelope.event
  switch (event._tag) {
    case "MessageObserved":
      return on("messagesObserved", { lane: laneOf(event.message) })
    case "MessageProven":
      // Each new message also gets a single proof of its own, kept for a retry: counting it would count twice.
      return event.kind === "range"
        ? on("messagesProven", { lane: laneOf(event.checkpoint) }, event.messageIds.length)
        : []
    case "DeliverySubmitted":
      return on("messagesSubmitted", { lane: laneOf(event.lane) }, event.messageIds.length)
    case "DeliveryConfirmed": {
      const lane = { lane: laneOf(event.lane) }
      const count = (result: string) => event.outcomes.filter((o) => o.result === result).length
      return [
        ...on("messagesDelivered", lane, count("delivered")),
        ...on("messagesFailed", lane, count("failed")),
        // commitAndDeliver commits the checkpoint in the same transaction, with no RootCommitted of its own.
        ...(event.action === "commitAndDeliver" ? on("checkpointsCommitted", lane) : []),
      ]
    }
    case "CheckpointProposed":
      return on("checkpointsProposed", { lane: laneOf(event.checkpoint) })
    case "CheckpointAttested":
      return on("checkpointsAttested", { lane: laneOf(event.checkpoint) })
    case "RootCommitted":
      return on("checkpointsCommitted", { lane: laneOf(event.checkpoint) })
    case "SignatureVerdict":
      return on("signatures", { operator: event.operator, verdict: event.result })
    default:
      return []
  }
}
