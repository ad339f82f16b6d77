import { Schema } from "effect"
import { BlockRef, Checkpoint, Lane } from "../lane.ts"
import { Address, Bytes32, Hex, MessageId, TxHash, U256, Uint } from "../primitives.ts"
import { SkippedStatus } from "./delivery-skipped.ts"
import { DeliveryAction, SubmissionFields } from "./delivery-submitted.ts"
import { RetryRefusalReason } from "./retry-refused.ts"

/** What the Inbox's events in a receipt say of the messages a step is about (ids lowercase, as the Inbox logs them). */
export const ReceiptRead = Schema.Struct({
  transactionHash: TxHash,
  block: BlockRef,
  gasUsed: U256,
  /** Of the step's messages, those the Inbox delivered (`MessageDelivered`). */
  delivered: Schema.Array(MessageId),
  /** Of the step's messages, those whose recipient reverted (`MessageFailed`), with the revert bytes. */
  failed: Schema.Array(Schema.Struct({ messageId: MessageId, revertData: Hex })),
  /** The checkpoint the transaction stored (`CheckpointCommitted`), if any. */
  committed: Schema.NullOr(Checkpoint),
})
export type ReceiptRead = typeof ReceiptRead.Type

/** A revert as the chain's writer decoded it: its readable reason, raw bytes, custom error and arguments. */
export const RevertRead = Schema.Struct({
  reason: Schema.String,
  revertData: Hex,
  errorName: Schema.NullOr(Schema.String),
  /** The custom error's arguments, each as text. */
  args: Schema.Array(Schema.String),
})
export type RevertRead = typeof RevertRead.Type

/** One message's status on the Inbox (`unknown` when it could not be read), as a skip records it. */
export const StatusRead = Schema.Struct({ messageId: MessageId, status: SkippedStatus })
export type StatusRead = typeof StatusRead.Type

/** A transaction of the Inbox's events that attempted some of the messages, as the node describes it. */
export const AttemptRead = Schema.Struct({
  transactionHash: TxHash,
  /** The messages it attempted, in the order the submitter asked for them. */
  messageIds: Schema.Array(MessageId),
  /** Its sender (lowercase), or null when the node could not give the transaction. */
  from: Schema.NullOr(Schema.String),
  /** The Inbox function it called, when decoded. */
  inboxFunction: Schema.NullOr(DeliveryAction),
  receipt: Schema.NullOr(ReceiptRead),
})
export type AttemptRead = typeof AttemptRead.Type

/** The flight a step closes without its transactions landing: how many were sent, at which account nonce. */
const LostFlight = {
  /** The last of its transactions. */
  transactionHash: TxHash,
  transactions: Uint,
  nonce: Uint,
}

/**
 * The destination's answers behind one step the submitter records. Each
 * kind holds what was read and what the step was about; the records the
 * step makes follow from it alone (`services/submitter/core/step-outcomes.ts`).
 */
export const DestinationStep = Schema.Union([
  /** The Inbox already stores the root a planned commit would store (`committedCount > 0`). */
  Schema.TaggedStruct("RootHeld", {}),
  /**
   * The Inbox already attempted `count` of a planned delivery's `of` messages: the Inbox's events that name
   * them, each transaction with its sender and receipt, and each remaining message's status.
   */
  Schema.TaggedStruct("Attempted", {
    action: DeliveryAction,
    messageIds: Schema.Array(MessageId),
    of: Uint,
    /** The submitter's account: a transaction it sent is its own delivery, whose record was lost. */
    sender: Address,
    /** How far back the Inbox's events were searched. */
    lookbackBlocks: Uint,
    /** Why the search of the Inbox's events failed, or null. */
    searchFailed: Schema.NullOr(Schema.String),
    attempts: Schema.Array(AttemptRead),
    /** The status of each message not recorded as its own account's delivery. */
    statuses: Schema.Array(StatusRead),
  }),
  /** Gas estimation reverted (not a "not now" refusal): nothing was sent. */
  Schema.TaggedStruct("EstimateReverted", {
    action: DeliveryAction,
    messageIds: Schema.Array(MessageId),
    revert: RevertRead,
  }),
  /** The node took the signed transaction (or answered ambiguously and has it). */
  Schema.TaggedStruct("Broadcast", {
    ...SubmissionFields,
    /** The root its messages are proven against (null for a commit). */
    proofRoot: Schema.NullOr(Bytes32),
  }),
  /** The transaction was included, succeeded and has its confirmations. */
  Schema.TaggedStruct("Included", {
    action: DeliveryAction,
    messageIds: Schema.Array(MessageId),
    receipt: ReceiptRead,
  }),
  /** The transaction was included and reverted; the same call re-simulated at its block says why. */
  Schema.TaggedStruct("Reverted", {
    action: DeliveryAction,
    messageIds: Schema.Array(MessageId),
    transactionHash: TxHash,
    block: BlockRef,
    gasUsed: U256,
    resimulation: Schema.Union([
      Schema.TaggedStruct("NotReadBack", {}),
      Schema.TaggedStruct("SimulationFailed", { error: Schema.String }),
      Schema.TaggedStruct("SimulatedRevert", { reason: Schema.String, revertData: Hex }),
      Schema.TaggedStruct("SimulatedSuccess", { gasLimit: U256 }),
    ]),
  }),
  /**
   * None of the flight's transactions landed and its nonce was used by another: what the Inbox shows of its
   * root (null when not read), of its messages (those attempted, with their statuses), and of a retry's one.
   */
  Schema.TaggedStruct("Superseded", {
    action: DeliveryAction,
    messageIds: Schema.Array(MessageId),
    ...LostFlight,
    rootCommitted: Schema.NullOr(Schema.Boolean),
    attempted: Schema.Array(MessageId),
    statuses: Schema.Array(StatusRead),
    /** A retry's message on the Inbox: `none`, `delivered` or `failed`; null when its nonce is unknown. */
    retryStatus: Schema.NullOr(Schema.Literals(["none", "delivered", "failed"])),
  }),
  /** The node knows none of the flight's transactions and the nonce is free: it was never sent, or evicted. */
  Schema.TaggedStruct("Dropped", {
    action: DeliveryAction,
    messageIds: Schema.Array(MessageId),
    ...LostFlight,
  }),
  /**
   * A retry request the submitter will not act on, with what the Inbox showed: the message's status and the
   * held proofs' roots it has committed (both null and empty when the submitter's own state decided).
   */
  Schema.TaggedStruct("RetryDeclined", {
    messageId: MessageId,
    nonce: Uint,
    reason: RetryRefusalReason,
    detail: Schema.String,
    status: Schema.NullOr(Schema.Literals(["none", "delivered", "failed"])),
    committedRoots: Schema.Array(Bytes32),
  }),
])
export type DestinationStep = typeof DestinationStep.Type

/**
 * What the destination chain answered the submitter for one step it
 * records: recorded on `chorus.lane.reads` beside the records the step
 * made, with their cause and at their time, so a replay makes the same
 * records from it without calling the chain (the submitter's core,
 * `stepOutcomes`).
 */
export class DestinationRead extends Schema.TaggedClass<DestinationRead>()("DestinationRead", {
  /** The lane the step is about (it keys the event; its destination is the submitter's chain). */
  lane: Lane,
  step: DestinationStep,
}) {}
