/**
 * Every event type Chorus knows: its schema, current schema version,
 * partition key, correlation id, and the upcasters that lift older wire
 * versions to the current one.
 *
 * Adding a field to an event means bumping its `version` and adding an
 * upcaster from the previous version, so that a replay of an old log still
 * decodes. Upcasters are pure and run on the encoded (wire) payload.
 *
 * @module
 */
import type { Schema } from "effect"
import { AttestationRefused } from "./events/attestation-refused.ts"
import { AttestationSigned } from "./events/attestation-signed.ts"
import { ChainHalted } from "./events/chain-halted.ts"
import { CheckpointAttested } from "./events/checkpoint-attested.ts"
import { CheckpointExpired } from "./events/checkpoint-expired.ts"
import { CheckpointProposed } from "./events/checkpoint-proposed.ts"
import { DeliveryConfirmed } from "./events/delivery-confirmed.ts"
import { DeliveryFailed } from "./events/delivery-failed.ts"
import { DeliverySkipped, upcastDeliverySkippedV1 } from "./events/delivery-skipped.ts"
import { DeliverySubmitted } from "./events/delivery-submitted.ts"
import { LaneStalled } from "./events/lane-stalled.ts"
import { MessageObserved } from "./events/message-observed.ts"
import { MessageProven } from "./events/message-proven.ts"
import { OperatorSetRead } from "./events/operator-set-read.ts"
import { OutboxLaneRead } from "./events/outbox-lane-read.ts"
import { OutboxRangeRead } from "./events/outbox-range-read.ts"
import { RetryRefused } from "./events/retry-refused.ts"
import { RetryRequested } from "./events/retry-requested.ts"
import { RootCommitted } from "./events/root-committed.ts"
import { SignatureVerdict } from "./events/signature-verdict.ts"
import { WatcherCursor } from "./events/watcher-cursor.ts"
import { laneKey } from "./lane.ts"
import type { MessageId } from "./primitives.ts"

/** Lifts a wire payload of version `n` to version `n + 1`. */
export type Upcaster = (payload: unknown) => unknown

export interface EventDefinition<E> {
  readonly schema: Schema.Codec<E, unknown>
  /** The current schema version; producers write it, consumers upcast to it. */
  readonly version: number
  /** The record key: every event of one lane (or chain) on one partition. */
  readonly key: (event: E) => string
  /** The message the event is about, when there is exactly one. */
  readonly correlationId: (event: E) => MessageId | null
  /** `upcasters[n]` lifts version `n` to `n + 1`. */
  readonly upcasters: Readonly<Record<number, Upcaster>>
}

const define = <E>(definition: EventDefinition<E>): EventDefinition<E> => definition

const single = (ids: ReadonlyArray<MessageId>): MessageId | null => (ids.length === 1 ? ids[0]! : null)

export const EventCatalog = {
  MessageObserved: define<MessageObserved>({
    schema: MessageObserved,
    version: 1,
    key: (e) => laneKey(e.message),
    correlationId: (e) => e.messageId,
    upcasters: {},
  }),
  CheckpointProposed: define<CheckpointProposed>({
    schema: CheckpointProposed,
    version: 1,
    key: (e) => laneKey(e.checkpoint),
    correlationId: () => null,
    upcasters: {},
  }),
  MessageProven: define<MessageProven>({
    schema: MessageProven,
    version: 1,
    key: (e) => laneKey(e.checkpoint),
    correlationId: (e) => single(e.messageIds),
    upcasters: {},
  }),
  AttestationSigned: define<AttestationSigned>({
    schema: AttestationSigned,
    version: 1,
    key: (e) => laneKey(e.checkpoint),
    correlationId: () => null,
    upcasters: {},
  }),
  CheckpointAttested: define<CheckpointAttested>({
    schema: CheckpointAttested,
    version: 1,
    key: (e) => laneKey(e.checkpoint),
    correlationId: () => null,
    upcasters: {},
  }),
  RootCommitted: define<RootCommitted>({
    schema: RootCommitted,
    version: 1,
    key: (e) => laneKey(e.checkpoint),
    correlationId: () => null,
    upcasters: {},
  }),
  DeliverySubmitted: define<DeliverySubmitted>({
    schema: DeliverySubmitted,
    version: 1,
    key: (e) => laneKey(e.lane),
    correlationId: (e) => single(e.messageIds),
    upcasters: {},
  }),
  DeliveryConfirmed: define<DeliveryConfirmed>({
    schema: DeliveryConfirmed,
    version: 1,
    key: (e) => laneKey(e.lane),
    correlationId: (e) => single(e.outcomes.map((o) => o.messageId)),
    upcasters: {},
  }),
  DeliveryFailed: define<DeliveryFailed>({
    schema: DeliveryFailed,
    version: 1,
    key: (e) => laneKey(e.lane),
    correlationId: (e) => single(e.messageIds),
    upcasters: {},
  }),
  WatcherCursor: define<WatcherCursor>({
    schema: WatcherCursor,
    version: 1,
    key: (e) => String(e.chainId),
    correlationId: () => null,
    upcasters: {},
  }),
  ChainHalted: define<ChainHalted>({
    schema: ChainHalted,
    version: 1,
    key: (e) => String(e.chainId),
    correlationId: () => null,
    upcasters: {},
  }),
  OutboxRangeRead: define<OutboxRangeRead>({
    schema: OutboxRangeRead,
    version: 1,
    key: (e) => String(e.chainId),
    correlationId: () => null,
    upcasters: {},
  }),
  OutboxLaneRead: define<OutboxLaneRead>({
    schema: OutboxLaneRead,
    version: 1,
    key: (e) => laneKey(e),
    correlationId: () => null,
    upcasters: {},
  }),
  OperatorSetRead: define<OperatorSetRead>({
    schema: OperatorSetRead,
    version: 1,
    key: (e) => laneKey(e.lane),
    correlationId: () => null,
    upcasters: {},
  }),
  LaneStalled: define<LaneStalled>({
    schema: LaneStalled,
    version: 1,
    key: (e) => laneKey(e.lane),
    correlationId: () => null,
    upcasters: {},
  }),
  AttestationRefused: define<AttestationRefused>({
    schema: AttestationRefused,
    version: 1,
    key: (e) => laneKey(e.checkpoint),
    correlationId: () => null,
    upcasters: {},
  }),
  SignatureVerdict: define<SignatureVerdict>({
    schema: SignatureVerdict,
    version: 1,
    key: (e) => laneKey(e.checkpoint),
    correlationId: () => null,
    upcasters: {},
  }),
  CheckpointExpired: define<CheckpointExpired>({
    schema: CheckpointExpired,
    version: 1,
    key: (e) => laneKey(e.checkpoint),
    correlationId: () => null,
    upcasters: {},
  }),
  DeliverySkipped: define<DeliverySkipped>({
    schema: DeliverySkipped,
    // 2: `statuses`, what the Inbox showed for each skipped message.
    version: 2,
    key: (e) => laneKey(e.lane),
    correlationId: (e) => single(e.messageIds),
    upcasters: { 1: upcastDeliverySkippedV1 },
  }),
  RetryRequested: define<RetryRequested>({
    schema: RetryRequested,
    version: 1,
    key: (e) => laneKey(e.lane),
    correlationId: (e) => e.messageId,
    upcasters: {},
  }),
  RetryRefused: define<RetryRefused>({
    schema: RetryRefused,
    version: 1,
    key: (e) => laneKey(e.lane),
    correlationId: (e) => e.messageId,
    upcasters: {},
  }),
} as const

export type EventType = keyof typeof EventCatalog

/** Every enveloped Chorus event. */
export type ChorusEvent =
  | MessageObserved
  | CheckpointProposed
  | MessageProven
  | AttestationSigned
  | CheckpointAttested
  | RootCommitted
  | DeliverySubmitted
  | DeliveryConfirmed
  | DeliveryFailed
  | WatcherCursor
  | ChainHalted
  | OutboxRangeRead
  | OutboxLaneRead
  | OperatorSetRead
  | LaneStalled
  | AttestationRefused
  | SignatureVerdict
  | CheckpointExpired
  | DeliverySkipped
  | RetryRequested
  | RetryRefused

/** The event class for a type tag. */
export type EventOf<T extends EventType> = Extract<ChorusEvent, { readonly _tag: T }>

/** Every type tag, in catalog order. */
export const EVENT_TYPES = Object.keys(EventCatalog) as ReadonlyArray<EventType>

/**
 * Is this string a known event type tag?
 *
 * @example
 * ```ts
 * isEventType("MessageObserved") // true
 * ```
 */
export const isEventType = (type: string): type is EventType => Object.hasOwn(EventCatalog, type)

/**
 * The catalog entry for an event's own type.
 *
 * @example
 * ```ts
 * definitionOf(event).key(event) // "901-902"
 * ```
 */
export const definitionOf = <E extends ChorusEvent>(event: E): EventDefinition<E> =>
  EventCatalog[event._tag] as unknown as EventDefinition<E>
