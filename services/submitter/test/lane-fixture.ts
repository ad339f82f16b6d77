/**
 * A lane's messages, tree, checkpoints and the submitter's input and outcome
 * envelopes, built as the upstream services would emit them — for
 * given/when/then tests of the core and for the integration tests.
 *
 * @module
 */
import { type Address, toHex } from "viem"
import {
  type ChorusMessage,
  createMerkleTree,
  getMessageId,
  getRangeProof,
  type MerkleTree,
} from "../../../contracts/index.ts"
import {
  Address as AddressSchema,
  BlockRef,
  Bytes32,
  ChainId,
  Checkpoint,
  CheckpointAttested,
  type ChorusEvent,
  type DeliveryAction,
  DeliveryConfirmed,
  DeliveryFailed,
  DeliverySkipped,
  DeliverySubmitted,
  type Envelope,
  type EventId,
  Hex,
  IsoTime,
  Lane,
  Message,
  MessageId,
  MessageOutcome,
  MessageProven,
  makeEnvelope,
  Producer,
  RetryRefused,
  RetryRequested,
  RootCommitted,
  Signature,
  type SkippedStatus,
  TxHash,
  toU256,
} from "../../../schemas/index.ts"
import { producerOf } from "../../runtime/index.ts"

export const T0 = Date.parse("2026-01-01T00:00:00.000Z")

/**
 * A branded hex string as viem's template type.
 *
 * @example
 * ```ts
 * verifyRangeProof({ root: asHex(checkpoint.root), … })
 * ```
 */
export const asHex = (value: string): `0x${string}` => value as `0x${string}`

/**
 * Branded hex strings as viem's template type.
 *
 * @example
 * ```ts
 * verifyRangeProof({ leaves: asHexes(action.messageIds), … })
 * ```
 */
export const asHexes = (values: ReadonlyArray<string>): ReadonlyArray<`0x${string}`> =>
  values as ReadonlyArray<`0x${string}`>

export interface LaneFixtureOptions {
  readonly srcChainId: number
  readonly outbox: Address
  readonly dstChainId: number
  readonly recipient: Address
  readonly count: number
  /** Body of message `i`; default `ping <i>`. */
  readonly body?: (i: number) => `0x${string}`
  /** Recipient of message `i`; default `recipient`. */
  readonly recipientOf?: (i: number) => Address
  /** Gas limit of message `i`; default 200,000. */
  readonly gasLimit?: (i: number) => bigint
}

export type LaneFixture = ReturnType<typeof makeLaneFixture>

/**
 * A lane of `count` messages to `recipient`.
 *
 * @example
 * ```ts
 * const lane = makeLaneFixture({ srcChainId: 777, outbox, dstChainId: 902, recipient, count: 7 })
 * const proven = lane.proven(0, 3, 3)
 * ```
 */
export const makeLaneFixture = (options: LaneFixtureOptions) => {
  const outbox = AddressSchema.make(options.outbox.toLowerCase())
  const chorusMessages: ChorusMessage[] = Array.from({ length: options.count }, (_, i) => ({
    version: 1,
    nonce: i,
    srcChainId: BigInt(options.srcChainId),
    sender: "0x000000000000000000000000000000000000beef",
    dstChainId: BigInt(options.dstChainId),
    recipient: options.recipientOf?.(i) ?? options.recipient,
    gasLimit: options.gasLimit?.(i) ?? 200_000n,
    body: options.body?.(i) ?? toHex(`ping ${i}`),
  }))
  const ids = chorusMessages.map((m) => MessageId.make(getMessageId(m).toLowerCase()))
  const messages = chorusMessages.map(
    (m) =>
      new Message({
        version: m.version,
        nonce: m.nonce,
        srcChainId: ChainId.make(options.srcChainId),
        sender: AddressSchema.make(m.sender),
        dstChainId: ChainId.make(options.dstChainId),
        recipient: AddressSchema.make(m.recipient.toLowerCase()),
        gasLimit: toU256(m.gasLimit),
        body: Hex.make(m.body.toLowerCase()),
      }),
  )
  const tree: MerkleTree = createMerkleTree(asHexes(ids))
  const lane = new Lane({
    srcChainId: ChainId.make(options.srcChainId),
    outbox,
    dstChainId: ChainId.make(options.dstChainId),
  })
  const upstream = producerOf("proof-builder", "proof-builder")
  const collector = producerOf("attestation-collector", "attestation-collector")
  const submitter = producerOf("submitter", String(options.dstChainId))
  const operatorTool = new Producer({ service: "retry", instance: "alice@ops", version: "test" })
  const at = (ms: number) => new Date(T0 + ms)

  const checkpoint = (count: number) =>
    new Checkpoint({
      srcChainId: lane.srcChainId,
      outbox,
      dstChainId: lane.dstChainId,
      root: Bytes32.make(getRangeProof(tree, { start: 0, end: count, count }).root),
      count,
    })

  /** A range (or single) proof of `[start, end)` against the checkpoint at `count`, at `ms` after T0. */
  const proven = (start: number, end: number, count: number, ms = 0, kind: "range" | "single" = "range") =>
    makeEnvelope(
      new MessageProven({
        checkpoint: checkpoint(count),
        kind,
        start,
        messages: messages.slice(start, end),
        messageIds: ids.slice(start, end),
        proof: getRangeProof(tree, { start, end, count }).siblings.map((s) => Bytes32.make(s)),
      }),
      { producer: upstream, causationId: null, time: at(ms) },
    )

  /** The range chunks of the checkpoint at `count` whose new messages start at `from`, `size` per chunk. */
  const chunks = (from: number, count: number, size: number, ms = 0) => {
    const out: Envelope<MessageProven>[] = []
    for (let start = from; start < count; start += size)
      out.push(proven(start, Math.min(start + size, count), count, ms))
    return out
  }

  /** The checkpoint at `count`, attested at `ms` with `signatures` (placeholders by default). */
  const attested = (count: number, ms = 0, signatures: ReadonlyArray<Signature> = placeholderSignatures) =>
    makeEnvelope(
      new CheckpointAttested({
        checkpoint: checkpoint(count),
        digest: Bytes32.make(`0x${"11".repeat(32)}`),
        epoch: 1,
        signatures,
        signedStake: toU256(3n),
        totalStake: toU256(4n),
        thresholdBps: 6667,
      }),
      { producer: collector, causationId: null, time: at(ms) },
    )

  const own = <E extends ChorusEvent>(event: E, cause: EventId | null, ms: number) =>
    makeEnvelope(event, { producer: submitter, causationId: cause, time: at(ms) })

  const hashOf = (n: number) => TxHash.make(`0x${n.toString(16).padStart(64, "0")}`)
  const block = new BlockRef({ number: 10, hash: Bytes32.make(`0x${"bb".repeat(32)}`) })

  return {
    lane,
    outbox,
    messages,
    ids,
    tree,
    checkpoint,
    proven,
    chunks,
    attested,
    hashOf,
    /** The submitter's `DeliverySubmitted`, caused by `cause`. */
    submitted: (
      cause: EventId,
      fields: {
        action: DeliveryAction
        ids: ReadonlyArray<MessageId>
        tx: number
        nonce: number
        replaces?: number
        /** The root the messages are proven against (as the submitter records it since it splits batches). */
        proofRoot?: Bytes32
      },
      ms = 0,
    ) =>
      own(
        new DeliverySubmitted({
          lane,
          action: fields.action,
          messageIds: fields.ids,
          transactionHash: hashOf(fields.tx),
          nonce: fields.nonce,
          maxFeePerGas: toU256(1_000_000_000n),
          gasLimit: toU256(500_000n),
          replaces: fields.replaces === undefined ? null : hashOf(fields.replaces),
          ...(fields.proofRoot === undefined ? {} : { proofRoot: fields.proofRoot }),
        }),
        cause,
        ms,
      ),
    /** The submitter's `DeliveryConfirmed` with every message of `ids` delivered (or as `results` says). */
    confirmed: (
      cause: EventId,
      fields: {
        action: DeliveryAction
        ids: ReadonlyArray<MessageId>
        tx: number
        results?: ReadonlyArray<"delivered" | "failed" | "skipped">
      },
      ms = 0,
    ) =>
      own(
        new DeliveryConfirmed({
          lane,
          action: fields.action,
          transactionHash: hashOf(fields.tx),
          block,
          gasUsed: toU256(100_000n),
          outcomes: fields.ids.map(
            (messageId, i) =>
              new MessageOutcome({
                messageId,
                result: fields.results?.[i] ?? "delivered",
                reason: fields.results?.[i] === "failed" ? Hex.make("0x") : null,
              }),
          ),
        }),
        cause,
        ms,
      ),
    rootCommitted: (cause: EventId, count: number, tx: number, ms = 0) =>
      own(
        new RootCommitted({ checkpoint: checkpoint(count), transactionHash: hashOf(tx), block }),
        cause,
        ms,
      ),
    failed: (
      cause: EventId,
      fields: {
        action: DeliveryAction
        ids: ReadonlyArray<MessageId>
        tx: number | null
        revertData: `0x${string}` | null
        reason?: string
      },
      ms = 0,
    ) =>
      own(
        new DeliveryFailed({
          lane,
          action: fields.action,
          messageIds: fields.ids,
          transactionHash: fields.tx === null ? null : hashOf(fields.tx),
          reason: fields.reason ?? "test",
          revertData: fields.revertData === null ? null : Hex.make(fields.revertData),
        }),
        cause,
        ms,
      ),
    /** A `chorus retry` request for message `nonce` (or for `id`, claimed at `nonce`), at `ms` after T0. */
    retryRequested: (nonce: number, ms = 0, id: MessageId = ids[nonce]!) =>
      makeEnvelope(
        new RetryRequested({
          messageId: id,
          lane,
          nonce,
          requestedBy: "alice@ops",
          reason: "recipient fixed",
          requestedAt: IsoTime.make(at(ms).toISOString()),
        }),
        { producer: operatorTool, causationId: null, time: at(ms) },
      ),
    /** The submitter's `RetryRefused` of `request`. */
    retryRefused: (request: Envelope<RetryRequested>, reason: RetryRefused["reason"], ms = 0) =>
      own(
        new RetryRefused({
          messageId: request.event.messageId,
          lane,
          nonce: request.event.nonce,
          reason,
          detail: "test",
        }),
        request.id,
        ms,
      ),
    /** The submitter's `DeliverySkipped` of `ids`, each shown delivered by the Inbox (or as `statuses` says). */
    skipped: (
      cause: EventId,
      fields: {
        action: DeliveryAction
        ids: ReadonlyArray<MessageId>
        statuses?: ReadonlyArray<SkippedStatus>
      },
      ms = 0,
    ) =>
      own(
        new DeliverySkipped({
          lane,
          action: fields.action,
          messageIds: fields.ids,
          statuses: fields.ids.map((_, i) => fields.statuses?.[i] ?? "delivered"),
          reason: "already delivered",
        }),
        cause,
        ms,
      ),
  }
}

const placeholderSignatures: ReadonlyArray<Signature> = [
  new Signature({
    signer: AddressSchema.make(`0x${"01".repeat(20)}`),
    signature: Hex.make(`0x${"22".repeat(65)}`),
  }),
]
