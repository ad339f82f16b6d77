/**
 * What a chaos run takes from Chorus's log: only what the chains cannot
 * say. Which messages a watcher observed, which the submitter refused
 * (and why), which chains a watcher halted (and at which block, and whether
 * `chorus chain resume` lifted the halt since), where each
 * watcher's cursor is, and the last thing the log says of each message, for
 * the report.
 *
 * Everything is read through the deployment's producer policy, as the
 * services read it: a garbage record, a forged observation or a forged
 * `ChainHalted` is counted as unreadable, never as a fact.
 *
 * The follower reads each topic partition from where it stopped, so the
 * drain can poll it cheaply; a final count reads the whole log afresh.
 *
 * @module
 */
import { authenticatedBus, withPlacement } from "../../bus/authentication/index.ts"
import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import type { ChorusEvent, Envelope } from "../../schemas/index.ts"
import type { ChorusConfig } from "../../services/config/index.ts"
import { busIdentitiesOf } from "../../services/registry.ts"
import { isCheckpointRevert, isTransientRevert } from "../../services/submitter/core/refusals.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"

export interface Halt {
  readonly chainId: number
  readonly blockNumber: number
  /** Log time. */
  readonly at: number
  readonly reason: string
  /** The `ChainHalted` record. */
  readonly eventId: string
  /** The `chorus chain resume` that lifted it, once one did. */
  resumed: { readonly block: number; readonly by: string; readonly at: number } | undefined
}

/** A `DeliveryFailed` with no transaction that names a message. */
export interface Refusal {
  readonly reason: string
  /** True when it names this message alone: a refusal for its own sake, not its batch's. */
  readonly alone: boolean
  /** How many messages it names. */
  readonly messages: number
  /** A refusal a submitter settles the message by (not temporary, not the checkpoint's quorum). */
  readonly settles: boolean
  readonly at: number
}

export interface LastWord {
  readonly type: string
  readonly at: number
  readonly summary: string
}

export interface MessageLog {
  observed: boolean
  /** The last refusal, unless a transaction was submitted for the message after it. */
  refusal: Refusal | undefined
  submissions: number
  last: LastWord | undefined
}

export interface LogFacts {
  readonly messages: ReadonlyMap<string, MessageLog>
  readonly halts: ReadonlyArray<Halt>
  /** Each chain's watcher cursor (block number), the last one written. */
  readonly cursors: ReadonlyMap<number, number>
  /** Records that did not stand (undecodable, or refused by the producer policy), by topic. */
  readonly unreadable: Readonly<Record<string, number>>
  readonly deadLetters: number
}

/** The topics the facts come from. */
const FOLLOWED = [
  TOPICS.messagesObserved.name,
  TOPICS.checkpointsProposed.name,
  TOPICS.messagesProven.name,
  TOPICS.deliveries.name,
  TOPICS.chainHalts.name,
  TOPICS.watcherCursors.name,
] as const

const short = (hex: string) => `${hex.slice(0, 10)}…`

/** Reads one topic through the config's producer policy, as the services read it. */
const readTrusted = (raw: BusPort, config: ChorusConfig, topic: string) => {
  const { policy } = busIdentitiesOf(config)
  const bus = policy === undefined ? raw : authenticatedBus(raw, { policy })
  return readEvents(bus, { topic, from: "earliest" })
}

/**
 * A chain's last `ChainHalted` on the log (held to the producer policy), with its record's id, if any.
 *
 * @example
 * ```ts
 * await lastHalt(bus, config, 901) // { eventId: "0x…", blockNumber: 90 }
 * ```
 */
export const lastHalt = async (
  raw: BusPort,
  config: ChorusConfig,
  chainId: number,
): Promise<{ readonly eventId: string; readonly blockNumber: number } | undefined> => {
  let halt: { eventId: string; blockNumber: number } | undefined
  for await (const item of readTrusted(raw, config, TOPICS.chainHalts.name)) {
    if (item.ok && item.envelope.event._tag === "ChainHalted" && item.envelope.event.chainId === chainId)
      halt = { eventId: item.envelope.id, blockNumber: item.envelope.event.blockNumber }
  }
  return halt
}

/**
 * The block of a chain's last watcher cursor on the log (held to the producer policy), if any.
 *
 * @example
 * ```ts
 * await lastCursor(bus, config, 901) // 212
 * ```
 */
export const lastCursor = async (
  raw: BusPort,
  config: ChorusConfig,
  chainId: number,
): Promise<number | undefined> => {
  let block: number | undefined
  for await (const item of readTrusted(raw, config, TOPICS.watcherCursors.name)) {
    if (item.ok && item.envelope.event._tag === "WatcherCursor" && item.envelope.event.chainId === chainId)
      block = item.envelope.event.block.number
  }
  return block
}

export interface LogFollower {
  /** Reads what the log gained since the last poll. */
  poll(bus: BusPort): Promise<void>
  facts(): LogFacts
}

/**
 * A follower of the log's facts, holding records to the config's producer policy.
 *
 * @example
 * ```ts
 * const follower = followLog(config)
 * await follower.poll(bus)
 * follower.facts().halts // [{ chainId: 903, blockNumber: 212, … }]
 * ```
 */
export const followLog = (config: ChorusConfig): LogFollower => {
  const messages = new Map<string, MessageLog>()
  const halts: Halt[] = []
  const cursors = new Map<number, { block: number; at: number }>()
  const unreadable: Record<string, number> = {}
  let deadLetters = 0
  const positions = new Map<string, number>()
  const { policy } = busIdentitiesOf(config)

  const entry = (id: string): MessageLog => {
    let found = messages.get(id)
    if (found === undefined) {
      found = { observed: false, refusal: undefined, submissions: 0, last: undefined }
      messages.set(id, found)
    }
    return found
  }
  const say = (id: string, type: string, at: number, summary: string) => {
    const log = entry(id)
    if (log.last === undefined || log.last.at <= at) log.last = { type, at, summary }
    return log
  }

  const apply = (envelope: Envelope, at: number) => {
    const event = envelope.event as ChorusEvent
    switch (event._tag) {
      case "MessageObserved":
        say(
          event.messageId,
          event._tag,
          at,
          `observed in block ${event.block.number} of chain ${event.message.srcChainId}`,
        ).observed = true
        return
      case "MessageRejected":
        say(event.messageId, event._tag, at, `rejected (${event.reason}): ${event.detail}`)
        return
      case "MessageProven":
        for (const id of event.messageIds)
          say(
            id,
            event._tag,
            at,
            `proven (${event.kind}) against checkpoint ${event.checkpoint.count} ${short(event.checkpoint.root)}`,
          )
        return
      case "DeliverySubmitted":
        for (const id of event.messageIds) {
          const log = say(
            id,
            event._tag,
            at,
            `${event.action} submitted in tx ${short(event.transactionHash)} with ${event.messageIds.length} message(s)`,
          )
          log.submissions += 1
          if (log.refusal !== undefined && log.refusal.at <= at) log.refusal = undefined
        }
        return
      case "DeliveryConfirmed":
        for (const outcome of event.outcomes)
          say(
            outcome.messageId,
            event._tag,
            at,
            `${event.action} confirmed in tx ${short(event.transactionHash)}: ${outcome.result}`,
          )
        return
      case "DeliverySkipped":
        event.messageIds.forEach((id, i) => {
          say(id, event._tag, at, `skipped (Inbox status ${event.statuses[i]}): ${event.reason}`)
        })
        return
      case "DeliveryFailed":
        for (const id of event.messageIds) {
          const tx = event.transactionHash === null ? "no transaction" : `tx ${short(event.transactionHash)}`
          const log = say(
            id,
            event._tag,
            at,
            `${event.action} failed (${tx}, ${event.messageIds.length} message(s)): ${event.reason}`,
          )
          if (event.transactionHash === null && event.action !== "retry") {
            const settles =
              event.revertData !== null &&
              !isTransientRevert(event.revertData) &&
              !isCheckpointRevert(event.revertData)
            if (log.refusal === undefined || log.refusal.at <= at) {
              log.refusal = {
                reason: event.reason,
                alone: event.messageIds.length === 1,
                messages: event.messageIds.length,
                settles,
                at,
              }
            }
          }
        }
        return
      case "WatcherCursor": {
        const last = cursors.get(event.chainId)
        if (last === undefined || last.at <= at) cursors.set(event.chainId, { block: event.block.number, at })
        return
      }
      case "ChainHalted":
        if (!halts.some((h) => h.chainId === event.chainId && h.blockNumber === event.blockNumber))
          halts.push({
            chainId: event.chainId,
            blockNumber: event.blockNumber,
            at,
            reason: event.reason,
            eventId: envelope.id,
            resumed: undefined,
          })
        return
      case "ChainResumed": {
        // It lifts the halt it names; a watcher that halts again after it writes another.
        const halt = halts.find((h) => h.eventId === event.halt)
        if (halt !== undefined) halt.resumed = { block: event.block.number, by: event.by, at }
        return
      }
      default:
        return
    }
  }

  return {
    poll: async (raw) => {
      const counts = new Map<string, number>()
      for (const topic of ALL_TOPICS) counts.set(topic.name, await raw.partitions(topic.name).catch(() => 0))
      const bus =
        policy === undefined ? raw : authenticatedBus(raw, { policy: withPlacement(policy, counts) })
      for (const topic of FOLLOWED) {
        for (const mark of await raw.watermarks(topic)) {
          const key = `${topic}#${mark.partition}`
          const from = Math.max(positions.get(key) ?? mark.low, mark.low)
          if (from >= mark.high) continue
          for await (const item of readEvents(bus, {
            topic,
            partitions: [mark.partition],
            from: { offset: from },
            to: { offset: mark.high },
          })) {
            if (item.ok) apply(item.envelope, item.record.timestamp)
            else unreadable[topic] = (unreadable[topic] ?? 0) + 1
          }
          positions.set(key, mark.high)
        }
      }
      deadLetters = (await raw.watermarks(TOPICS.deadLetters.name)).reduce(
        (sum, p) => sum + p.high - p.low,
        0,
      )
    },
    facts: () => ({
      messages,
      halts,
      cursors: new Map([...cursors.entries()].map(([chain, c]) => [chain, c.block])),
      unreadable: { ...unreadable },
      deadLetters,
    }),
  }
}
