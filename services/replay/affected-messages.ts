/**
 * Which messages an event is about, so every difference a diff reports
 * names the messages an incident engineer would trace.
 *
 * Resolution, first answer wins:
 *   1. the message ids the event carries (its correlation id, `messageIds`,
 *      a confirmation's outcomes, the logs of a chain read);
 *   2. those its cause carries (the replayed input it was derived from:
 *      a stall caused by a `MessageObserved`, a cursor caused by a read);
 *   3. for an event about a checkpoint: the lane's messages that checkpoint
 *      added, `[previousCount, count)` of its proposal, found on
 *      `chorus.checkpoints.proposed` and resolved to ids on
 *      `chorus.messages.observed` (read once, only when needed).
 *
 * @module
 */
import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { type Checkpoint, type Envelope, laneKey, type MessageId } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { messageIdOf } from "../runtime/index.ts"

/**
 * The message ids an event itself carries.
 *
 * @example
 * ```ts
 * messageIdsOf(provenEnvelope) // its messageIds
 * messageIdsOf(checkpointProposedEnvelope) // [] (a checkpoint names counts, not ids)
 * ```
 */
export const messageIdsOf = (envelope: Envelope): ReadonlyArray<MessageId> => {
  const event = envelope.event
  switch (event._tag) {
    case "MessageObserved":
      return [event.messageId]
    case "MessageProven":
    case "DeliverySubmitted":
    case "DeliveryFailed":
    case "DeliverySkipped":
      return event.messageIds
    case "DeliveryConfirmed":
      return event.outcomes.map((o) => o.messageId)
    case "OutboxRangeRead":
      return event.blocks.flatMap((b) => b.logs.map((l) => messageIdOf(l.message) as MessageId))
    default:
      return envelope.correlationId === null ? [] : [envelope.correlationId]
  }
}

/** The checkpoint an event is about, if any. */
const checkpointOf = (envelope: Envelope): Checkpoint | undefined => {
  const event = envelope.event
  return "checkpoint" in event ? event.checkpoint : undefined
}

/**
 * A short description of what an event is about (lane, checkpoint, chain), for reports.
 *
 * @example
 * ```ts
 * scopeOf(provenEnvelope) // "lane 901-902, checkpoint at count 12, messages 0..11"
 * ```
 */
export const scopeOf = (envelope: Envelope): string => {
  const event = envelope.event
  switch (event._tag) {
    case "MessageObserved":
      return `lane ${laneKey(event.message)}, nonce ${event.message.nonce}, block ${event.block.number}`
    case "MessageProven": {
      const last = event.start + event.messages.length - 1
      return `lane ${laneKey(event.checkpoint)}, checkpoint at count ${event.checkpoint.count}, ${event.kind} proof of message${
        last === event.start ? ` ${event.start}` : `s ${event.start}..${last}`
      }`
    }
    case "CheckpointProposed":
      return `lane ${laneKey(event.checkpoint)}, checkpoint at count ${event.checkpoint.count} (messages ${event.previousCount}..${event.checkpoint.count - 1})`
    case "WatcherCursor":
      return `chain ${event.chainId}, block ${event.block.number}`
    case "ChainHalted":
      return `chain ${event.chainId}, block ${event.blockNumber}`
    case "OutboxRangeRead":
      return `chain ${event.chainId}, blocks ${event.fromBlock}..${event.to.number}`
    default: {
      const checkpoint = checkpointOf(envelope)
      if (checkpoint !== undefined)
        return `lane ${laneKey(checkpoint)}, checkpoint at count ${checkpoint.count}`
      if ("lane" in event) return `lane ${laneKey(event.lane)}`
      return envelope.key
    }
  }
}

/** Finds the messages an event affects; see the module's resolution order. */
export type MessageResolver = (envelope: Envelope) => Promise<ReadonlyArray<MessageId>>

const checkpointKey = (c: Checkpoint) => `${c.srcChainId}:${c.outbox}:${c.dstChainId}:${c.count}:${c.root}`
const nonceKey = (src: number, outbox: string, dst: number, nonce: number) =>
  `${src}:${outbox}:${dst}:${nonce}`

/**
 * A resolver over a bus, with the replayed inputs as causes.
 *
 * @example
 * ```ts
 * const resolve = makeMessageResolver(bus, inputsById)
 * await resolve(attestedEnvelope) // the ids of the messages its checkpoint added
 * ```
 */
export const makeMessageResolver = (bus: BusPort, causes: ReadonlyMap<string, Envelope>): MessageResolver => {
  let proposals: Promise<Map<string, number>> | undefined
  let observed: Promise<Map<string, MessageId>> | undefined

  const loadProposals = async () => {
    const byCheckpoint = new Map<string, number>()
    for await (const read of readEvents(bus, { topic: TOPICS.checkpointsProposed.name, from: "earliest" })) {
      if (read.ok && read.envelope.event._tag === "CheckpointProposed") {
        const event = read.envelope.event
        byCheckpoint.set(checkpointKey(event.checkpoint), event.previousCount)
      }
    }
    return byCheckpoint
  }
  const loadObserved = async () => {
    const byNonce = new Map<string, MessageId>()
    for await (const read of readEvents(bus, { topic: TOPICS.messagesObserved.name, from: "earliest" })) {
      if (read.ok && read.envelope.event._tag === "MessageObserved") {
        const { message, outbox, messageId } = read.envelope.event
        byNonce.set(nonceKey(message.srcChainId, outbox, message.dstChainId, message.nonce), messageId)
      }
    }
    return byNonce
  }

  const previousCountOf = async (envelope: Envelope, checkpoint: Checkpoint, cause: Envelope | undefined) => {
    for (const candidate of [envelope, cause]) {
      const event = candidate?.event
      if (
        event?._tag === "CheckpointProposed" &&
        checkpointKey(event.checkpoint) === checkpointKey(checkpoint)
      )
        return event.previousCount
    }
    proposals ??= loadProposals()
    return (await proposals).get(checkpointKey(checkpoint))
  }

  return async (envelope) => {
    const own = messageIdsOf(envelope)
    if (own.length > 0) return own
    const cause = envelope.causationId === null ? undefined : causes.get(envelope.causationId)
    const fromCause = cause === undefined ? [] : messageIdsOf(cause)
    if (fromCause.length > 0) return fromCause
    const checkpoint = checkpointOf(envelope)
    if (checkpoint === undefined) return []
    const previous = await previousCountOf(envelope, checkpoint, cause)
    if (previous === undefined) return []
    observed ??= loadObserved()
    const byNonce = await observed
    const ids: MessageId[] = []
    for (let nonce = previous; nonce < checkpoint.count; nonce++) {
      const id = byNonce.get(nonceKey(checkpoint.srcChainId, checkpoint.outbox, checkpoint.dstChainId, nonce))
      if (id !== undefined) ids.push(id)
    }
    return ids
  }
}
