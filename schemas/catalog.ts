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
import {
  AttestationRefused,
  upcastAttestationRefusedV1,
  upcastAttestationRefusedV2,
} from "./events/attestation-refused.ts"
import { AttestationSigned, upcastAttestationSignedV1 } from "./events/attestation-signed.ts"
import { ChainHaltRead } from "./events/chain-halt-read.ts"
import { ChainHalted } from "./events/chain-halted.ts"
import { ChainHeadRead } from "./events/chain-head-read.ts"
import { ChainResumed } from "./events/chain-resumed.ts"
import { CheckpointAttested } from "./events/checkpoint-attested.ts"
import { CheckpointExpired } from "./events/checkpoint-expired.ts"
import { CheckpointProposed } from "./events/checkpoint-proposed.ts"
import { CheckpointResignRequested } from "./events/checkpoint-resign-requested.ts"
import { DeliveryConfirmed } from "./events/delivery-confirmed.ts"
import { DeliveryFailed } from "./events/delivery-failed.ts"
import { DeliverySkipped, upcastDeliverySkippedV1 } from "./events/delivery-skipped.ts"
import { DeliverySubmitted } from "./events/delivery-submitted.ts"
import { DestinationRead } from "./events/destination-read.ts"
import { InboxEpochRead } from "./events/inbox-epoch-read.ts"
import { InboxSetRead } from "./events/inbox-set-read.ts"
import { LaneStalled } from "./events/lane-stalled.ts"
import { MessageObserved } from "./events/message-observed.ts"
import { MessageProven } from "./events/message-proven.ts"
import { MessageRejected } from "./events/message-rejected.ts"
import { OperatorAttestedInvalid } from "./events/operator-attested-invalid.ts"
import { OperatorEquivocated, upcastOperatorEquivocatedV1 } from "./events/operator-equivocated.ts"
import {
  OperatorSetApplied,
  OperatorSetSubmitted,
  OperatorSetUpdateFailed,
} from "./events/operator-set-applied.ts"
import { OperatorSetAttested } from "./events/operator-set-attested.ts"
import { OperatorSetObserved } from "./events/operator-set-observed.ts"
import { OperatorSetRead } from "./events/operator-set-read.ts"
import { OperatorSetRefused, OperatorSetSigned } from "./events/operator-set-signed.ts"
import { OutboxLaneRead } from "./events/outbox-lane-read.ts"
import { OutboxNonceRead } from "./events/outbox-nonce-read.ts"
import { OutboxRangeRead, upcastOutboxRangeReadV1 } from "./events/outbox-range-read.ts"
import { ProofRefused } from "./events/proof-refused.ts"
import { RegistrySetRead } from "./events/registry-set-read.ts"
import { RetryRefused } from "./events/retry-refused.ts"
import { RetryRequested } from "./events/retry-requested.ts"
import { RootCommitted } from "./events/root-committed.ts"
import { ChainReadFailed, ChainReadRecovered, WatcherRecovered, WatcherStalled } from "./events/rpc-stall.ts"
import { SignatureVerdict, upcastSignatureVerdictV1 } from "./events/signature-verdict.ts"
import { WatcherCursor } from "./events/watcher-cursor.ts"
import { type Checkpoint, type Lane, laneKey } from "./lane.ts"
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
  /**
   * The instance whose fact the event states, for events a per-instance producer writes: a watcher's chain,
   * a submitter's destination, an operator's address. A producer bound to one instance may write only its
   * own (`bus/authentication/`); null for events no instance owns.
   */
  readonly owner: (event: E) => string | null
}

/**
 * A catalog entry. Most events are at version 1 with no upcasters and are
 * about no single message; `overrides` says where one is not.
 */
const define = <E>(
  schema: Schema.Codec<E, unknown>,
  key: (event: E) => string,
  overrides: Partial<Pick<EventDefinition<E>, "version" | "correlationId" | "upcasters" | "owner">> = {},
): EventDefinition<E> => ({
  schema,
  key,
  version: 1,
  correlationId: () => null,
  upcasters: {},
  owner: () => null,
  ...overrides,
})

// The owners: the chain a watcher reads, the destination a submitter writes, the operator that answered.
const ofChain = (e: { readonly chainId: number }) => String(e.chainId)
const ofDestination = (e: { readonly lane: Lane }) => String(e.lane.dstChainId)
const ofCheckpointDestination = (e: { readonly checkpoint: Checkpoint }) => String(e.checkpoint.dstChainId)
const ofOperator = (e: { readonly operator: string }) => e.operator
const ofReader = (e: { readonly reader: string }) => e.reader
const ofDestinationChain = (e: { readonly destination: number }) => String(e.destination)

/** The messages a destination step is about. */
const stepMessageIds = (step: DestinationRead["step"]): ReadonlyArray<MessageId> =>
  step._tag === "RootHeld" ? [] : step._tag === "RetryDeclined" ? [step.messageId] : step.messageIds

const single = (ids: ReadonlyArray<MessageId>): MessageId | null => (ids.length === 1 ? ids[0]! : null)

// The partition keys: by the lane of the event's checkpoint or lane, or by its chain.
const byCheckpoint = (e: { readonly checkpoint: Checkpoint }) => laneKey(e.checkpoint)
const byLane = (e: { readonly lane: Lane }) => laneKey(e.lane)
const byChain = (e: { readonly chainId: number }) => String(e.chainId)
const byDestinationChain = (e: { readonly destination: number }) => String(e.destination)

export const EventCatalog = {
  MessageObserved: define<MessageObserved>(MessageObserved, (e) => laneKey(e.message), {
    correlationId: (e) => e.messageId,
    owner: (e) => String(e.message.srcChainId),
  }),
  CheckpointProposed: define<CheckpointProposed>(CheckpointProposed, byCheckpoint),
  MessageProven: define<MessageProven>(MessageProven, byCheckpoint, {
    correlationId: (e) => single(e.messageIds),
  }),
  AttestationSigned: define<AttestationSigned>(AttestationSigned, byCheckpoint, {
    // 2: `epoch`, the epoch of the destination's set it was signed under (part of the digest).
    version: 2,
    upcasters: { 1: upcastAttestationSignedV1 },
    owner: ofOperator,
  }),
  CheckpointAttested: define<CheckpointAttested>(CheckpointAttested, byCheckpoint),
  RootCommitted: define<RootCommitted>(RootCommitted, byCheckpoint, { owner: ofCheckpointDestination }),
  DeliverySubmitted: define<DeliverySubmitted>(DeliverySubmitted, byLane, {
    correlationId: (e) => single(e.messageIds),
    owner: ofDestination,
  }),
  DeliveryConfirmed: define<DeliveryConfirmed>(DeliveryConfirmed, byLane, {
    correlationId: (e) => single(e.outcomes.map((o) => o.messageId)),
    owner: ofDestination,
  }),
  DeliveryFailed: define<DeliveryFailed>(DeliveryFailed, byLane, {
    correlationId: (e) => single(e.messageIds),
    owner: ofDestination,
  }),
  WatcherCursor: define<WatcherCursor>(WatcherCursor, byChain, { owner: ofChain }),
  ChainHalted: define<ChainHalted>(ChainHalted, byChain, { owner: ofChain }),
  // Written by the `chain-resume` tool, not by the chain's watcher: consumers take it from that tool alone.
  ChainResumed: define<ChainResumed>(ChainResumed, byChain),
  OutboxRangeRead: define<OutboxRangeRead>(OutboxRangeRead, byChain, {
    // 2: `lanes` (each lane's Outbox count around the range, the proof it is complete) and `rpc`.
    version: 2,
    upcasters: { 1: upcastOutboxRangeReadV1 },
    owner: ofChain,
  }),
  // A watcher's targeted re-read of one message (a proof-builder's nonce gap): with its range reads, by chain.
  OutboxNonceRead: define<OutboxNonceRead>(OutboxNonceRead, byChain, { owner: ofChain }),
  OutboxLaneRead: define<OutboxLaneRead>(OutboxLaneRead, laneKey, { owner: ofReader }),
  OperatorSetRead: define<OperatorSetRead>(OperatorSetRead, byLane),
  OperatorSetObserved: define<OperatorSetObserved>(OperatorSetObserved, byChain, { owner: ofChain }),
  // The operator-set flow is keyed by the hub chain: every step of one hub's updates stays on one partition.
  RegistrySetRead: define<RegistrySetRead>(RegistrySetRead, byChain, { owner: ofReader }),
  OperatorSetSigned: define<OperatorSetSigned>(OperatorSetSigned, byChain, { owner: ofOperator }),
  OperatorSetRefused: define<OperatorSetRefused>(OperatorSetRefused, byChain, { owner: ofOperator }),
  InboxSetRead: define<InboxSetRead>(InboxSetRead, byChain),
  // An operator's read for one checkpoint: with the lane's other reads.
  InboxEpochRead: define<InboxEpochRead>(InboxEpochRead, byLane, { owner: ofReader }),
  // From the hub's flow to one destination: keyed by the destination, as its submitter's records are.
  OperatorSetAttested: define<OperatorSetAttested>(OperatorSetAttested, byDestinationChain),
  OperatorSetSubmitted: define<OperatorSetSubmitted>(OperatorSetSubmitted, byDestinationChain, {
    owner: ofDestinationChain,
  }),
  OperatorSetApplied: define<OperatorSetApplied>(OperatorSetApplied, byDestinationChain, {
    owner: ofDestinationChain,
  }),
  OperatorSetUpdateFailed: define<OperatorSetUpdateFailed>(OperatorSetUpdateFailed, byDestinationChain, {
    owner: ofDestinationChain,
  }),
  ChainHeadRead: define<ChainHeadRead>(ChainHeadRead, byLane, { owner: ofReader }),
  ChainHaltRead: define<ChainHaltRead>(ChainHaltRead, byLane, { owner: ofReader }),
  ChainReadFailed: define<ChainReadFailed>(ChainReadFailed, byLane, { owner: ofReader }),
  ChainReadRecovered: define<ChainReadRecovered>(ChainReadRecovered, byLane, { owner: ofReader }),
  WatcherStalled: define<WatcherStalled>(WatcherStalled, byChain, { owner: ofChain }),
  WatcherRecovered: define<WatcherRecovered>(WatcherRecovered, byChain, { owner: ofChain }),
  LaneStalled: define<LaneStalled>(LaneStalled, byLane),
  MessageRejected: define<MessageRejected>(MessageRejected, byLane, { correlationId: (e) => e.messageId }),
  AttestationRefused: define<AttestationRefused>(AttestationRefused, byCheckpoint, {
    // 2: the reason `rpc-invalid` (the operator's own RPC answered what does not decode).
    // 3: the reason `chain-halted` (the proposal's source chain is halted on the log).
    version: 3,
    upcasters: { 1: upcastAttestationRefusedV1, 2: upcastAttestationRefusedV2 },
    owner: ofOperator,
  }),
  OperatorAttestedInvalid: define<OperatorAttestedInvalid>(OperatorAttestedInvalid, (e) =>
    laneKey(e.signed.checkpoint),
  ),
  SignatureVerdict: define<SignatureVerdict>(SignatureVerdict, byCheckpoint, {
    // 2: the result `stale-epoch` (signed under an epoch the destination left).
    version: 2,
    upcasters: { 1: upcastSignatureVerdictV1 },
  }),
  CheckpointResignRequested: define<CheckpointResignRequested>(CheckpointResignRequested, byCheckpoint),
  CheckpointExpired: define<CheckpointExpired>(CheckpointExpired, byCheckpoint),
  OperatorEquivocated: define<OperatorEquivocated>(OperatorEquivocated, (e) => laneKey(e.first.checkpoint), {
    // 2: each signed checkpoint names its epoch.
    version: 2,
    upcasters: { 1: upcastOperatorEquivocatedV1 },
  }),
  DeliverySkipped: define<DeliverySkipped>(DeliverySkipped, byLane, {
    // 2: `statuses`, what the Inbox showed for each skipped message.
    version: 2,
    correlationId: (e) => single(e.messageIds),
    upcasters: { 1: upcastDeliverySkippedV1 },
    owner: ofDestination,
  }),
  RetryRequested: define<RetryRequested>(RetryRequested, byLane, { correlationId: (e) => e.messageId }),
  RetryRefused: define<RetryRefused>(RetryRefused, byLane, {
    correlationId: (e) => e.messageId,
    owner: ofDestination,
  }),
  // The destination's answers behind a submitter's step; correlated as the records made beside it.
  DestinationRead: define<DestinationRead>(DestinationRead, byLane, {
    correlationId: (e) => single(stepMessageIds(e.step)),
    owner: ofDestination,
  }),
  // Correlated as its cause, the MessageProven it refuses: a one-message chunk names its message.
  ProofRefused: define<ProofRefused>(ProofRefused, byCheckpoint, {
    correlationId: (e) => (e.messageCount === 1 ? single(e.messageIds) : null),
    owner: ofCheckpointDestination,
  }),
} as const

export type EventType = keyof typeof EventCatalog

/** Every enveloped Chorus event. */
export type ChorusEvent =
  | MessageObserved
  | CheckpointProposed
  | CheckpointResignRequested
  | MessageProven
  | AttestationSigned
  | CheckpointAttested
  | RootCommitted
  | DeliverySubmitted
  | DeliveryConfirmed
  | DeliveryFailed
  | WatcherCursor
  | ChainHalted
  | ChainResumed
  | OutboxRangeRead
  | OutboxNonceRead
  | OutboxLaneRead
  | OperatorSetRead
  | OperatorSetObserved
  | RegistrySetRead
  | OperatorSetSigned
  | OperatorSetRefused
  | InboxSetRead
  | InboxEpochRead
  | OperatorSetAttested
  | OperatorSetSubmitted
  | OperatorSetApplied
  | OperatorSetUpdateFailed
  | ChainHeadRead
  | ChainHaltRead
  | ChainReadFailed
  | ChainReadRecovered
  | WatcherStalled
  | WatcherRecovered
  | LaneStalled
  | MessageRejected
  | AttestationRefused
  | SignatureVerdict
  | CheckpointExpired
  | OperatorEquivocated
  | OperatorAttestedInvalid
  | DeliverySkipped
  | RetryRequested
  | RetryRefused
  | ProofRefused
  | DestinationRead

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
