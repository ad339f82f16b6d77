/**
 * fast-check arbitraries for every Chorus event, for property tests here and
 * in the services.
 *
 * @module
 */
import fc from "fast-check"
import type { ChorusEvent } from "../catalog.ts"
import { AttestationRefused } from "../events/attestation-refused.ts"
import { AttestationSigned } from "../events/attestation-signed.ts"
import { ChainHalted } from "../events/chain-halted.ts"
import { CheckpointAttested, Signature } from "../events/checkpoint-attested.ts"
import { CheckpointExpired } from "../events/checkpoint-expired.ts"
import { CheckpointProposed } from "../events/checkpoint-proposed.ts"
import { DeliveryConfirmed, MessageOutcome } from "../events/delivery-confirmed.ts"
import { DeliveryFailed } from "../events/delivery-failed.ts"
import { DeliverySkipped, type SkippedStatus } from "../events/delivery-skipped.ts"
import { DeliverySubmitted } from "../events/delivery-submitted.ts"
import { LaneStalled } from "../events/lane-stalled.ts"
import { MessageObserved } from "../events/message-observed.ts"
import { MessageProven } from "../events/message-proven.ts"
import { OperatorSetRead, OperatorWeight } from "../events/operator-set-read.ts"
import { OutboxLaneRead } from "../events/outbox-lane-read.ts"
import { OutboxBlock, OutboxLog, OutboxRangeRead } from "../events/outbox-range-read.ts"
import { RetryRefused } from "../events/retry-refused.ts"
import { RetryRequested } from "../events/retry-requested.ts"
import { RootCommitted } from "../events/root-committed.ts"
import { SignatureVerdict } from "../events/signature-verdict.ts"
import { WatcherCursor } from "../events/watcher-cursor.ts"
import { BlockRef, Checkpoint, Lane } from "../lane.ts"
import { Message } from "../message.ts"
import { Address, Bytes32, ChainId, EventId, Hex, IsoTime, MessageId, TxHash, U256 } from "../primitives.ts"

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

export const lane = fc
  .record({ srcChainId: chainId, outbox: address, dstChainId: chainId })
  .map((l) => new Lane(l))
export const checkpoint = fc
  .record({ srcChainId: chainId, outbox: address, dstChainId: chainId, root: bytes32, count: uint })
  .map((c) => new Checkpoint(c))
export const blockRef = fc.record({ number: uint, hash: bytes32 }).map((b) => new BlockRef(b))
export const message = fc
  .record({
    version: fc.integer({ min: 0, max: 255 }),
    nonce: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    srcChainId: chainId,
    sender: address,
    dstChainId: chainId,
    recipient: address,
    gasLimit: u256,
    body: hex,
  })
  .map((m) => new Message(m))

const action = fc.constantFrom("commit", "deliver", "commitAndDeliver", "retry") as fc.Arbitrary<
  "commit" | "deliver" | "commitAndDeliver" | "retry"
>

/** One arbitrary per event type; `event` picks any of them. */
export const events = {
  MessageObserved: fc
    .record({
      message,
      messageId,
      outbox: address,
      block: blockRef,
      blockTimestamp: uint,
      transactionHash: txHash,
      logIndex: uint,
    })
    .map((e) => new MessageObserved(e)),
  CheckpointProposed: fc
    .record({ checkpoint, previousCount: uint, block: blockRef })
    .map((e) => new CheckpointProposed(e)),
  MessageProven: fc
    .record({
      checkpoint,
      kind: fc.constantFrom("range", "single") as fc.Arbitrary<"range" | "single">,
      start: uint,
      messages: fc.array(message, { maxLength: 3 }),
      messageIds: fc.array(messageId, { maxLength: 3 }),
      proof: fc.array(bytes32, { maxLength: 4 }),
    })
    .map((e) => new MessageProven(e)),
  AttestationSigned: fc
    .record({ checkpoint, digest: bytes32, operator: address, signature: hex })
    .map((e) => new AttestationSigned(e)),
  CheckpointAttested: fc
    .record({
      checkpoint,
      digest: bytes32,
      epoch: uint,
      signatures: fc.array(
        fc.record({ signer: address, signature: hex }).map((s) => new Signature(s)),
        { maxLength: 4 },
      ),
      signedStake: u256,
      totalStake: u256,
      thresholdBps: fc.integer({ min: 0, max: 10_000 }),
    })
    .map((e) => new CheckpointAttested(e)),
  RootCommitted: fc
    .record({ checkpoint, transactionHash: txHash, block: blockRef })
    .map((e) => new RootCommitted(e)),
  DeliverySubmitted: fc
    .record({
      lane,
      action,
      messageIds: fc.array(messageId, { maxLength: 3 }),
      transactionHash: txHash,
      nonce: uint,
      maxFeePerGas: u256,
      gasLimit: u256,
      replaces: fc.option(txHash, { nil: null }),
    })
    .map((e) => new DeliverySubmitted(e)),
  DeliveryConfirmed: fc
    .record({
      lane,
      action,
      transactionHash: txHash,
      block: blockRef,
      gasUsed: u256,
      outcomes: fc.array(
        fc
          .record({
            messageId,
            result: fc.constantFrom("delivered", "failed", "skipped") as fc.Arbitrary<
              "delivered" | "failed" | "skipped"
            >,
            reason: fc.option(hex, { nil: null }),
          })
          .map((o) => new MessageOutcome(o)),
        { maxLength: 3 },
      ),
    })
    .map((e) => new DeliveryConfirmed(e)),
  DeliveryFailed: fc
    .record({
      lane,
      action,
      messageIds: fc.array(messageId, { maxLength: 3 }),
      transactionHash: fc.option(txHash, { nil: null }),
      reason: fc.string(),
      revertData: fc.option(hex, { nil: null }),
    })
    .map((e) => new DeliveryFailed(e)),
  WatcherCursor: fc.record({ chainId, block: blockRef }).map((e) => new WatcherCursor(e)),
  ChainHalted: fc
    .record({ chainId, blockNumber: uint, expectedHash: bytes32, observedHash: bytes32, reason: fc.string() })
    .map((e) => new ChainHalted(e)),
  OutboxRangeRead: fc
    .record({
      chainId,
      outbox: address,
      cursorCheck: fc.option(blockRef, { nil: null }),
      fromBlock: uint,
      to: blockRef,
      blocks: fc.array(
        fc
          .record({
            block: blockRef,
            timestamp: uint,
            logs: fc.array(
              fc.record({ transactionHash: txHash, logIndex: uint, message }).map((l) => new OutboxLog(l)),
              { maxLength: 2 },
            ),
          })
          .map((b) => new OutboxBlock(b)),
        { maxLength: 2 },
      ),
    })
    .map((e) => new OutboxRangeRead(e)),
  OutboxLaneRead: fc
    .record({
      reader: fc.string({ minLength: 1 }),
      srcChainId: chainId,
      outbox: address,
      dstChainId: chainId,
      block: blockRef,
      finalized: blockRef,
      root: bytes32,
      count: uint,
    })
    .map((e) => new OutboxLaneRead(e)),
  OperatorSetRead: fc
    .record({
      lane,
      inbox: address,
      epoch: uint,
      block: blockRef,
      operators: fc.array(
        fc.record({ address, weight: u256 }).map((o) => new OperatorWeight(o)),
        {
          maxLength: 4,
        },
      ),
      thresholdBps: fc.integer({ min: 0, max: 10_000 }),
    })
    .map((e) => new OperatorSetRead(e)),
  LaneStalled: fc
    .record({
      lane,
      reason: fc.constantFrom("nonce-gap", "root-mismatch", "conflicting-message") as fc.Arbitrary<
        "nonce-gap" | "root-mismatch" | "conflicting-message"
      >,
      treeCount: uint,
      detail: fc.string(),
    })
    .map((e) => new LaneStalled(e)),
  AttestationRefused: fc
    .record({
      checkpoint,
      operator: address,
      reason: fc.constantFrom(
        "root-mismatch",
        "count-mismatch",
        "block-mismatch",
        "not-finalized",
        "conflicting-signature",
        "wrong-network",
      ) as fc.Arbitrary<AttestationRefused["reason"]>,
      detail: fc.string(),
    })
    .map((e) => new AttestationRefused(e)),
  SignatureVerdict: fc
    .record({
      checkpoint,
      digest: bytes32,
      operator: address,
      signer: fc.option(address, { nil: null }),
      signature: hex,
      result: fc.constantFrom("accepted", "late", "duplicate", "unknown-signer", "invalid") as fc.Arbitrary<
        SignatureVerdict["result"]
      >,
      weight: u256,
      epoch: uint,
      reason: fc.string(),
    })
    .map((e) => new SignatureVerdict(e)),
  CheckpointExpired: fc
    .record({ checkpoint, digest: bytes32, signedStake: u256, requiredStake: u256, reason: fc.string() })
    .map((e) => new CheckpointExpired(e)),
  DeliverySkipped: fc
    .record({
      lane,
      action,
      skipped: fc.array(
        fc.tuple(messageId, fc.constantFrom<SkippedStatus>("delivered", "failed", "unknown")),
        { maxLength: 3 },
      ),
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
  RetryRequested: fc
    .record({
      messageId,
      lane,
      nonce: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      requestedBy: fc.string({ minLength: 1 }),
      reason: fc.option(fc.string(), { nil: null }),
      requestedAt: isoTime,
    })
    .map((e) => new RetryRequested(e)),
  RetryRefused: fc
    .record({
      messageId,
      lane,
      nonce: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      reason: fc.constantFrom(
        "unknown-message",
        "already-delivered",
        "in-flight",
        "queued",
        "no-proof",
        "no-committed-root",
      ) as fc.Arbitrary<RetryRefused["reason"]>,
      detail: fc.string(),
    })
    .map((e) => new RetryRefused(e)),
} satisfies Record<ChorusEvent["_tag"], fc.Arbitrary<ChorusEvent>>

export const event: fc.Arbitrary<ChorusEvent> = fc.oneof(...Object.values(events))
