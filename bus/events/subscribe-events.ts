import type { Envelope } from "../../schemas/index.ts"
import { failureOf, subscribeDecoding } from "../dead-letter.ts"
import type {
  BusPort,
  BusRecord,
  DeliveryContext,
  SubscribeOptions,
  Subscription,
  TopicPartition,
} from "../port.ts"
import { assertDeclared } from "./assert-declared.ts"
import { decodeAuthenticated } from "./decode-authenticated.ts"

export interface SubscribeEventsOptions {
  readonly groupId: string
  readonly topics: ReadonlyArray<string>
  readonly fromBeginning?: boolean
  readonly handler: (envelope: Envelope, record: BusRecord, context: DeliveryContext) => Promise<void>
  readonly onDeadLetter?: (record: BusRecord, error: { readonly message: string }) => void
  readonly onAssignment?: (assignment: ReadonlyArray<TopicPartition>) => void
  /** How the group shares its partitions (`SubscribeOptions.assignment`). */
  readonly assignment?: SubscribeOptions["assignment"]
}

/**
 * Joins a consumer group on declared topics and hands each decoded envelope
 * to the handler; records that do not decode are dead-lettered.
 *
 * @example
 * ```ts
 * await subscribeEvents(bus, {
 *   groupId: "chorus.proof-builder",
 *   topics: [TOPICS.messagesObserved.name],
 *   handler: async (envelope) => { ... },
 * })
 * ```
 */
export const subscribeEvents = async (
  bus: BusPort,
  options: SubscribeEventsOptions,
): Promise<Subscription> => {
  for (const topic of options.topics) assertDeclared(topic)
  return subscribeDecoding(bus, {
    groupId: options.groupId,
    topics: options.topics,
    ...(options.fromBeginning === undefined ? {} : { fromBeginning: options.fromBeginning }),
    // The signature was checked before this (subscribeDecoding); the owner needs the decoded content.
    decode: (record) => {
      const decoded = decodeAuthenticated(bus, record)
      return decoded.ok ? decoded : { ok: false, error: failureOf(decoded.error) }
    },
    handler: options.handler,
    ...(options.onDeadLetter === undefined ? {} : { onDeadLetter: options.onDeadLetter }),
    ...(options.onAssignment === undefined ? {} : { onAssignment: options.onAssignment }),
    ...(options.assignment === undefined ? {} : { assignment: options.assignment }),
  })
}
