/**
 * fast-check arbitraries for every Chorus event, for property tests here and
 * in the services.
 *
 * @module
 */
import fc from "fast-check"
import type { ChorusEvent } from "../catalog.ts"
import { AttestationRefused, RefusalReason } from "../events/attestation-refused.ts"
import { AttestationSigned } from "../events/attestation-signed.ts"
import { ChainHaltRead, HaltSeen, ResumeSeen } from "../events/chain-halt-read.ts"
import { ChainHalted } from "../events/chain-halted.ts"
import { ChainHeadRead } from "../events/chain-head-read.ts"
import { ChainResumed, ResumedLaneCount } from "../events/chain-resumed.ts"
import { CheckpointAttested, Signature } from "../events/checkpoint-attested.ts"
import { CheckpointExpired } from "../events/checkpoint-expired.ts"
import { CheckpointProposed } from "../events/checkpoint-proposed.ts"
import { CheckpointResignRequested } from "../events/checkpoint-resign-requested.ts"
import { DeliveryConfirmed, MessageOutcome } from "../events/delivery-confirmed.ts"
import { DeliveryFailed } from "../events/delivery-failed.ts"
import { DeliverySkipped, SkippedStatus } from "../events/delivery-skipped.ts"
import { DeliveryAction, DeliverySubmitted } from "../events/delivery-submitted.ts"
import { DestinationRead, type DestinationStep } from "../events/destination-read.ts"
import { InboxEpochRead } from "../events/inbox-epoch-read.ts"
import { InboxSetRead } from "../events/inbox-set-read.ts"
import { LaneStalled, StallReason } from "../events/lane-stalled.ts"
import { MessageObserved } from "../events/message-observed.ts"
import { MessageProven } from "../events/message-proven.ts"
import { MessageRejected, RejectionReason } from "../events/message-rejected.ts"
import { OperatorAttestedInvalid, SourceLaneSeen } from "../events/operator-attested-invalid.ts"
import { OperatorEquivocated, SignedCheckpoint } from "../events/operator-equivocated.ts"
import {
  OperatorSetApplied,
  OperatorSetSubmitted,
  OperatorSetUpdateFailed,
} from "../events/operator-set-applied.ts"
import { OperatorSetAttested } from "../events/operator-set-attested.ts"
import { OperatorSetObserved } from "../events/operator-set-observed.ts"
import { OperatorSetRead, OperatorWeight } from "../events/operator-set-read.ts"
import { OperatorSetRefused, OperatorSetSigned, SetRefusalReason } from "../events/operator-set-signed.ts"
import { OutboxLaneRead } from "../events/outbox-lane-read.ts"
import { OutboxNonceRead } from "../events/outbox-nonce-read.ts"
import { OutboxBlock, OutboxLaneCount, OutboxLog, OutboxRangeRead } from "../events/outbox-range-read.ts"
import { ProofRefusalReason, ProofRefused } from "../events/proof-refused.ts"
import { RegistrySetRead } from "../events/registry-set-read.ts"
import { RetryRefusalReason, RetryRefused } from "../events/retry-refused.ts"
import { RetryRequested } from "../events/retry-requested.ts"
import { RootCommitted } from "../events/root-committed.ts"
import {
  ChainReadFailed,
  ChainReadRecovered,
  RPC_TEXT_MAX,
  RpcFaultReason,
  WatcherRecovered,
  WatcherStalled,
} from "../events/rpc-stall.ts"
import { SignatureResult, SignatureVerdict } from "../events/signature-verdict.ts"
import { WatcherCursor } from "../events/watcher-cursor.ts"
import { BlockRef, Checkpoint, Lane } from "../lane.ts"
import { Message } from "../message.ts"
import { Address, Bytes32, ChainId, EventId, Hex, IsoTime, MessageId, TxHash, U256 } from "../primitives.ts"

/** Instances of a schema class, from arbitraries of its fields. */
const instancesOf = <T, A>(Class: new (fields: T) => A, fields: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(fields).map((f) => new Class(f as T))

/** Any of a literal schema's values. */
const literalOf = <const L extends ReadonlyArray<string>>(schema: { readonly literals: L }) =>
  fc.constantFrom<L[number]>(...schema.literals)

const hexOf = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString("hex")}`)

export const address = hexOf(20).map((h) => Address.make(h))
export const bytes32 = hexOf(32).map((h) => Bytes32.make(h))
export const messageId = hexOf(32).map((h) => MessageId.make(h))
export const eventIdArb = hexOf(32).map((h) => EventId.make(h))
export const txHash = hexOf(32).map((h) => TxHash.make(h))
export const hex = fc
  .uint8Array({ maxLength: 64 })
  .map((b) => Hex.make(`0x${Buffer.from(b).toString("hex")}`))
export const chainId = fc.integer({ min: 1, max: 2 ** 40 }).map((n) => ChainId.make(n))
export const uint = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
export const isoTime = fc
  .date({
    min: new Date("2000-01-01T00:00:00.000Z"),
    max: new Date("2100-01-01T00:00:00.000Z"),
    noInvalidDate: true,
  })
  .map((d) => IsoTime.make(d.toISOString()))
export const u256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }).map((n) => U256.make(n.toString()))

export const lane = instancesOf(Lane, { srcChainId: chainId, outbox: address, dstChainId: chainId })
export const checkpoint = instancesOf(Checkpoint, {
  srcChainId: chainId,
  outbox: address,
  dstChainId: chainId,
  root: bytes32,
  count: uint,
})
export const blockRef = instancesOf(BlockRef, { number: uint, hash: bytes32 })
export const message = instancesOf(Message, {
  version: fc.integer({ min: 0, max: 255 }),
  nonce: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  srcChainId: chainId,
  sender: address,
  dstChainId: chainId,
  recipient: address,
  gasLimit: u256,
  body: hex,
})

const action = literalOf(DeliveryAction)

const rpcText = fc.string({ maxLength: RPC_TEXT_MAX })
/** The fields every RPC fault record has. */
const rpcFault = {
  chainId,
  reason: literalOf(RpcFaultReason),
  rpc: rpcText,
  what: rpcText,
  problem: rpcText,
  since: isoTime,
  attempts: uint,
}
const rpcRecovery = {
  chainId,
  reason: literalOf(RpcFaultReason),
  rpc: rpcText,
  since: isoTime,
  attempts: uint,
}

/** One arbitrary per event type; `event` picks any of them. */
const messageIds = fc.array(messageId, { maxLength: 3 })
const operatorWeights = fc.array(instancesOf(OperatorWeight, { address, weight: u256 }), { maxLength: 4 })
const registrySet = {
  chainId,
  registry: address,
  block: blockRef,
  epoch: uint,
  operators: operatorWeights,
  thresholdBps: uint,
}
const statusRead = fc.record({ messageId, status: literalOf(SkippedStatus) })
const inboxStatus = fc.constantFrom("none" as const, "delivered" as const, "failed" as const)
const receiptRead = fc.record({
  transactionHash: txHash,
  block: blockRef,
  gasUsed: u256,
  delivered: messageIds,
  failed: fc.array(fc.record({ messageId, revertData: hex }), { maxLength: 2 }),
  committed: fc.option(checkpoint, { nil: null }),
})
const lostFlight = { transactionHash: txHash, transactions: uint, nonce: uint }
const destinationStep: fc.Arbitrary<DestinationStep> = fc.oneof(
  fc.constant({ _tag: "RootHeld" as const }),
  fc.record({
    _tag: fc.constant("Attempted" as const),
    action,
    messageIds,
    of: uint,
    sender: address,
    lookbackBlocks: uint,
    searchFailed: fc.option(fc.string(), { nil: null }),
    attempts: fc.array(
      fc.record({
        transactionHash: txHash,
        messageIds,
        from: fc.option(address, { nil: null }),
        inboxFunction: fc.option(action, { nil: null }),
        receipt: fc.option(receiptRead, { nil: null }),
      }),
      { maxLength: 2 },
    ),
    statuses: fc.array(statusRead, { maxLength: 3 }),
  }),
  fc.record({
    _tag: fc.constant("EstimateReverted" as const),
    action,
    messageIds,
    revert: fc.record({
      reason: fc.string(),
      revertData: hex,
      errorName: fc.option(fc.string(), { nil: null }),
      args: fc.array(fc.string(), { maxLength: 3 }),
    }),
  }),
  fc.record({
    _tag: fc.constant("Broadcast" as const),
    action,
    messageIds,
    transactionHash: txHash,
    nonce: uint,
    maxFeePerGas: u256,
    gasLimit: u256,
    replaces: fc.option(txHash, { nil: null }),
    proofRoot: fc.option(bytes32, { nil: null }),
  }),
  fc.record({ _tag: fc.constant("Included" as const), action, messageIds, receipt: receiptRead }),
  fc.record({
    _tag: fc.constant("Reverted" as const),
    action,
    messageIds,
    transactionHash: txHash,
    block: blockRef,
    gasUsed: u256,
    resimulation: fc.oneof(
      fc.constant({ _tag: "NotReadBack" as const }),
      fc.record({ _tag: fc.constant("SimulationFailed" as const), error: fc.string() }),
      fc.record({ _tag: fc.constant("SimulatedRevert" as const), reason: fc.string(), revertData: hex }),
      fc.record({ _tag: fc.constant("SimulatedSuccess" as const), gasLimit: u256 }),
    ),
  }),
  fc.record({
    _tag: fc.constant("Superseded" as const),
    action,
    messageIds,
    ...lostFlight,
    rootCommitted: fc.option(fc.boolean(), { nil: null }),
    attempted: messageIds,
    statuses: fc.array(statusRead, { maxLength: 3 }),
    retryStatus: fc.option(inboxStatus, { nil: null }),
  }),
  fc.record({ _tag: fc.constant("Dropped" as const), action, messageIds, ...lostFlight }),
  fc.record({
    _tag: fc.constant("RetryDeclined" as const),
    messageId,
    nonce: uint,
    reason: literalOf(RetryRefusalReason),
    detail: fc.string(),
    status: fc.option(inboxStatus, { nil: null }),
    committedRoots: fc.array(bytes32, { maxLength: 2 }),
  }),
)

export const events = {
  MessageObserved: instancesOf(MessageObserved, {
    message,
    messageId,
    outbox: address,
    block: blockRef,
    blockTimestamp: uint,
    transactionHash: txHash,
    logIndex: uint,
  }),
  CheckpointProposed: instancesOf(CheckpointProposed, { checkpoint, previousCount: uint, block: blockRef }),
  CheckpointResignRequested: instancesOf(CheckpointResignRequested, {
    checkpoint,
    previousCount: uint,
    block: blockRef,
    epoch: uint,
    reason: fc.string(),
  }),
  MessageProven: instancesOf(MessageProven, {
    checkpoint,
    kind: fc.constantFrom("range", "single") as fc.Arbitrary<"range" | "single">,
    start: uint,
    messages: fc.array(message, { maxLength: 3 }),
    messageIds: fc.array(messageId, { maxLength: 3 }),
    proof: fc.array(bytes32, { maxLength: 4 }),
  }),
  AttestationSigned: instancesOf(AttestationSigned, {
    checkpoint,
    epoch: uint,
    digest: bytes32,
    operator: address,
    signature: hex,
  }),
  CheckpointAttested: instancesOf(CheckpointAttested, {
    checkpoint,
    digest: bytes32,
    epoch: uint,
    signatures: fc.array(instancesOf(Signature, { signer: address, signature: hex }), { maxLength: 4 }),
    signedStake: u256,
    totalStake: u256,
    thresholdBps: fc.integer({ min: 0, max: 10_000 }),
  }),
  RootCommitted: instancesOf(RootCommitted, { checkpoint, transactionHash: txHash, block: blockRef }),
  DeliverySubmitted: instancesOf(DeliverySubmitted, {
    lane,
    action,
    messageIds: fc.array(messageId, { maxLength: 3 }),
    transactionHash: txHash,
    nonce: uint,
    maxFeePerGas: u256,
    gasLimit: u256,
    replaces: fc.option(txHash, { nil: null }),
  }),
  DeliveryConfirmed: instancesOf(DeliveryConfirmed, {
    lane,
    action,
    transactionHash: txHash,
    block: blockRef,
    gasUsed: u256,
    outcomes: fc.array(
      instancesOf(MessageOutcome, {
        messageId,
        result: fc.constantFrom("delivered", "failed", "skipped") as fc.Arbitrary<
          "delivered" | "failed" | "skipped"
        >,
        reason: fc.option(hex, { nil: null }),
      }),
      { maxLength: 3 },
    ),
  }),
  DeliveryFailed: instancesOf(DeliveryFailed, {
    lane,
    action,
    messageIds: fc.array(messageId, { maxLength: 3 }),
    transactionHash: fc.option(txHash, { nil: null }),
    reason: fc.string(),
    revertData: fc.option(hex, { nil: null }),
  }),
  WatcherCursor: fc
    .record({ chainId, block: blockRef, resumedBy: fc.option(eventIdArb, { nil: undefined }) })
    .map(({ resumedBy, ...fields }) =>
      resumedBy === undefined ? new WatcherCursor(fields) : new WatcherCursor({ ...fields, resumedBy }),
    ),
  ChainHalted: instancesOf(ChainHalted, {
    chainId,
    blockNumber: uint,
    expectedHash: bytes32,
    observedHash: bytes32,
    reason: fc.string(),
  }),
  ChainResumed: instancesOf(ChainResumed, {
    chainId,
    outbox: address,
    block: blockRef,
    lanes: fc.array(instancesOf(ResumedLaneCount, { dstChainId: chainId, count: uint }), { maxLength: 3 }),
    halt: eventIdArb,
    by: fc.string({ minLength: 1 }),
    reason: fc.option(fc.string(), { nil: null }),
  }),
  OutboxRangeRead: instancesOf(OutboxRangeRead, {
    chainId,
    outbox: address,
    cursorCheck: fc.option(blockRef, { nil: null }),
    fromBlock: uint,
    to: blockRef,
    blocks: fc.array(
      instancesOf(OutboxBlock, {
        block: blockRef,
        timestamp: uint,
        logs: fc.array(instancesOf(OutboxLog, { transactionHash: txHash, logIndex: uint, message }), {
          maxLength: 2,
        }),
      }),
      { maxLength: 2 },
    ),
    lanes: fc.option(
      fc.array(instancesOf(OutboxLaneCount, { dstChainId: chainId, before: uint, after: uint })),
      { nil: null },
    ),
    rpc: fc.option(fc.string(), { nil: null }),
  }),
  OutboxNonceRead: instancesOf(OutboxNonceRead, {
    chainId,
    outbox: address,
    dstChainId: chainId,
    nonce: uint,
    count: uint,
    cursor: blockRef,
    fromBlock: uint,
    found: fc.option(
      instancesOf(OutboxBlock, {
        block: blockRef,
        timestamp: uint,
        logs: fc.array(instancesOf(OutboxLog, { transactionHash: txHash, logIndex: uint, message }), {
          minLength: 1,
          maxLength: 1,
        }),
      }),
      { nil: null },
    ),
    rpc: fc.option(fc.string(), { nil: null }),
  }),
  OutboxLaneRead: instancesOf(OutboxLaneRead, {
    reader: fc.string({ minLength: 1 }),
    srcChainId: chainId,
    outbox: address,
    dstChainId: chainId,
    block: blockRef,
    finalized: blockRef,
    root: bytes32,
    count: uint,
  }),
  MessageRejected: instancesOf(MessageRejected, {
    lane,
    messageId,
    nonce: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    block: blockRef,
    transactionHash: txHash,
    logIndex: uint,
    reason: literalOf(RejectionReason),
    outboxBlock: fc.option(blockRef, { nil: null }),
    chainMessageId: fc.option(messageId, { nil: null }),
    detail: fc.string(),
  }),
  ChainHeadRead: instancesOf(ChainHeadRead, {
    reader: fc.string({ minLength: 1 }),
    lane,
    chainId,
    latest: blockRef,
  }),
  ChainHaltRead: instancesOf(ChainHaltRead, {
    reader: fc.string({ minLength: 1 }),
    lane,
    chainId,
    halt: instancesOf(HaltSeen, { eventId: eventIdArb, blockNumber: uint, reason: fc.string() }),
    resumed: fc.option(
      instancesOf(ResumeSeen, { eventId: eventIdArb, block: blockRef, by: fc.string(), at: isoTime }),
      { nil: null },
    ),
  }),
  ChainReadFailed: instancesOf(ChainReadFailed, {
    reader: fc.string({ minLength: 1 }),
    lane,
    outage: fc.boolean(),
    ...rpcFault,
  }),
  ChainReadRecovered: instancesOf(ChainReadRecovered, {
    reader: fc.string({ minLength: 1 }),
    lane,
    ...rpcRecovery,
  }),
  WatcherStalled: instancesOf(WatcherStalled, rpcFault),
  WatcherRecovered: instancesOf(WatcherRecovered, rpcRecovery),
  OperatorSetRead: instancesOf(OperatorSetRead, {
    lane,
    inbox: address,
    epoch: uint,
    block: blockRef,
    operators: operatorWeights,
    thresholdBps: fc.integer({ min: 0, max: 10_000 }),
  }),
  LaneStalled: instancesOf(LaneStalled, {
    lane,
    reason: literalOf(StallReason),
    treeCount: uint,
    detail: fc.string(),
  }),
  AttestationRefused: instancesOf(AttestationRefused, {
    checkpoint,
    operator: address,
    reason: literalOf(RefusalReason),
    detail: fc.string(),
  }),
  SignatureVerdict: instancesOf(SignatureVerdict, {
    checkpoint,
    digest: bytes32,
    operator: address,
    signer: fc.option(address, { nil: null }),
    signature: hex,
    result: literalOf(SignatureResult),
    weight: u256,
    epoch: uint,
    reason: fc.string(),
  }),
  CheckpointExpired: instancesOf(CheckpointExpired, {
    checkpoint,
    digest: bytes32,
    signedStake: u256,
    requiredStake: u256,
    reason: fc.string(),
  }),
  OperatorSetObserved: instancesOf(OperatorSetObserved, registrySet),
  RegistrySetRead: instancesOf(RegistrySetRead, { reader: address, ...registrySet }),
  OperatorSetSigned: instancesOf(OperatorSetSigned, {
    chainId,
    registry: address,
    epoch: uint,
    operators: operatorWeights,
    thresholdBps: uint,
    digest: bytes32,
    operator: address,
    signature: hex,
  }),
  OperatorSetRefused: instancesOf(OperatorSetRefused, {
    chainId,
    registry: address,
    epoch: uint,
    operator: address,
    reason: literalOf(SetRefusalReason),
    detail: fc.string(),
  }),
  InboxEpochRead: instancesOf(InboxEpochRead, { reader: address, lane, block: blockRef, epoch: uint }),
  InboxSetRead: instancesOf(InboxSetRead, {
    chainId,
    destination: chainId,
    inbox: address,
    epoch: uint,
    block: blockRef,
    operators: operatorWeights,
    thresholdBps: uint,
  }),
  OperatorSetAttested: instancesOf(OperatorSetAttested, {
    chainId,
    registry: address,
    destination: chainId,
    inbox: address,
    fromEpoch: uint,
    epoch: uint,
    operators: operatorWeights,
    thresholdBps: uint,
    digest: bytes32,
    signatures: fc.array(instancesOf(Signature, { signer: address, signature: hex }), { maxLength: 3 }),
    signedStake: u256,
    totalStake: u256,
  }),
  OperatorSetSubmitted: instancesOf(OperatorSetSubmitted, {
    destination: chainId,
    epoch: uint,
    transactionHash: txHash,
    nonce: uint,
    gasLimit: u256,
    maxFeePerGas: u256,
  }),
  OperatorSetApplied: instancesOf(OperatorSetApplied, {
    destination: chainId,
    epoch: uint,
    transactionHash: txHash,
    blockNumber: uint,
    gasUsed: u256,
  }),
  OperatorSetUpdateFailed: instancesOf(OperatorSetUpdateFailed, {
    destination: chainId,
    epoch: uint,
    transactionHash: fc.option(txHash, { nil: null }),
    reason: fc.string(),
  }),
  OperatorEquivocated: instancesOf(OperatorEquivocated, {
    operator: address,
    first: instancesOf(SignedCheckpoint, { checkpoint, epoch: uint, digest: bytes32, signature: hex }),
    second: instancesOf(SignedCheckpoint, { checkpoint, epoch: uint, digest: bytes32, signature: hex }),
    reason: fc.string(),
  }),
  OperatorAttestedInvalid: instancesOf(OperatorAttestedInvalid, {
    operator: address,
    signed: instancesOf(SignedCheckpoint, { checkpoint, epoch: uint, digest: bytes32, signature: hex }),
    source: instancesOf(SourceLaneSeen, { block: blockRef, count: uint, root: bytes32 }),
    refusedBy: fc.array(address, { maxLength: 3 }),
    reason: fc.string(),
  }),
  DeliverySkipped: fc
    .record({
      lane,
      action,
      skipped: fc.array(fc.tuple(messageId, literalOf(SkippedStatus)), { maxLength: 3 }),
      reason: fc.string(),
    })
    .map(
      ({ skipped, ...e }) =>
        new DeliverySkipped({
          ...e,
          messageIds: skipped.map(([id]) => id),
          statuses: skipped.map(([, status]) => status),
        }),
    ),
  RetryRequested: instancesOf(RetryRequested, {
    messageId,
    lane,
    nonce: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    requestedBy: fc.string({ minLength: 1 }),
    reason: fc.option(fc.string(), { nil: null }),
    requestedAt: isoTime,
  }),
  RetryRefused: instancesOf(RetryRefused, {
    messageId,
    lane,
    nonce: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    reason: literalOf(RetryRefusalReason),
    detail: fc.string(),
  }),
  ProofRefused: instancesOf(ProofRefused, {
    checkpoint,
    start: uint,
    messageCount: uint,
    messageIds: fc.array(messageId, { maxLength: 3 }),
    reason: literalOf(ProofRefusalReason),
    index: fc.option(uint, { nil: null }),
    computedRoot: fc.option(bytes32, { nil: null }),
    detail: fc.string(),
  }),
  DestinationRead: fc
    .record({ lane, step: fc.constant(null) })
    .chain(({ lane: l }) => destinationStep.map((step) => new DestinationRead({ lane: l, step }))),
} satisfies Record<ChorusEvent["_tag"], fc.Arbitrary<ChorusEvent>>

export const event: fc.Arbitrary<ChorusEvent> = fc.oneof(...Object.values(events))
