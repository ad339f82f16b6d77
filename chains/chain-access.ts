/**
 * How a service reaches a chain: one small interface, whatever the chain's
 * kind, answering in Chorus's own types (`schemas/`) and never in a client
 * library's. Each kind (today only EVM, in `chains/evm/`) implements it
 * once; `makeChainAccess` (`chains/index.ts`) builds it from the config.
 *
 * Pipeline: config → `makeChainAccess(config, options)` → per chain, on
 * first use and once: one connection (the RPC URLs with fallback and retry,
 * each URL's chain id checked before it answers anything) → its
 * `ChainReader`, and for the submitter a `ChainWriter` over the same
 * connection.
 *
 * Invariants every kind keeps:
 * - Finality is one rule in one function: the `finalized` tag, the `safe`
 *   tag, or a confirmation depth below `latest`. While the chain is
 *   shallower than the depth nothing is final (`null`, "not yet"); block 0
 *   is never assumed final.
 * - An RPC answer is checked before anything is built from it; one that
 *   fails a check, or does not decode, throws `InvalidRpcResponseError`
 *   naming the URL, and nothing of it is used. Only a failure to get an
 *   answer at all is an `RpcCallError`.
 * - An RPC URL that serves another chain answers nothing (`WrongChainError`).
 * - Whatever a reader or writer throws is a `ChorusError`; one about an RPC
 *   names its URL, with credentials and keys redacted.
 *
 * @module
 */
import type {
  Address,
  BlockRef,
  Bytes32,
  Checkpoint,
  Hex,
  Lane,
  Message,
  OperatorWeight,
  OutboxBlock,
  OutboxRangeRead,
  Signature,
  TxHash,
} from "../schemas/index.ts"
import type { Finality } from "../services/config/index.ts"

export type { Finality }

/** A `0x`-prefixed hex string as a chain takes it (calldata, an account, a signed transaction). */
export type HexString = `0x${string}`

/** A block header as a reader checked it. */
export interface BlockHeader {
  readonly ref: BlockRef
  /** Seconds since the epoch. */
  readonly timestamp: number
}

/** Which Outbox lane to read; the reader's chain is its source chain. */
export interface OutboxLaneRef {
  readonly outbox: Address
  readonly dstChainId: number
}

/** A lane's Outbox state at one block: the one way a lane is read. */
export interface OutboxLaneState {
  /** The header of the block read at, as this RPC has it. */
  readonly block: BlockRef
  readonly root: Bytes32
  readonly count: number
  /** The finalized head read alongside; null while no block is final under the chain's rule. */
  readonly finalized: BlockRef | null
}

/** What a log read needs to prove its range complete (issue 12: an RPC may drop logs and say nothing). */
export interface OutboxCompletenessRequest {
  /** Destination chains to count even when the range holds none of their logs: every lane the caller knows. */
  readonly lanes: ReadonlyArray<number>
  /** Counts at the block before `fromBlock` that an earlier read proved; a lane not here is read at that block. */
  readonly countsBefore: ReadonlyMap<number, number>
}

/** The next range of Outbox logs to read, from `fromBlock` towards `head`. */
export interface OutboxLogsRequest {
  readonly outbox: Address
  /** The block the caller's cursor points at (its header is read again); null on a first read. */
  readonly cursor: BlockRef | null
  readonly fromBlock: number
  /** The finalized head: the range never goes past it. */
  readonly head: number
  /** Told when the RPC refused a range as too large and the reader asks for a smaller one. */
  readonly onShrink?: (refused: {
    readonly fromBlock: number
    readonly toBlock: number
    readonly nextSize: number
    readonly error: unknown
  }) => void
  /**
   * Prove the range complete: each lane's Outbox count before the range and at its end, read with it
   * (`OutboxRangeRead.lanes`; one more call per range). Without it the read proves nothing (`lanes: null`).
   */
  readonly completeness?: OutboxCompletenessRequest
  /**
   * Read from this one of the chain's RPC URLs alone (an index, modulo their number) instead of the
   * fallback over all of them, so a short answer can be read again elsewhere; the read names it (`rpc`).
   */
  readonly rpc?: number
}

/**
 * One message of a lane to read again, by its nonce: its `MessageSent` log, searched for from `fromBlock` to
 * `toBlock` (both inclusive), as the chain-watcher asks when the proof-builder stalls on a nonce gap.
 */
export interface OutboxMessageRequest {
  readonly outbox: Address
  readonly dstChainId: number
  readonly nonce: number
  readonly fromBlock: number
  readonly toBlock: number
  /** Read from this one of the chain's RPC URLs alone (an index, modulo their number); the read names it. */
  readonly rpc?: number
}

/** What a read of one message found: the block holding its log, with that log alone, or none. */
export interface OutboxMessageRead {
  /** The block of the one log found, checked against its header; null when the RPC answered none. */
  readonly found: OutboxBlock | null
  /** The RPC the read was pinned to (redacted); null when the chain's fallback chose. */
  readonly rpc: string | null
}

/** The operator set an Inbox holds. */
export interface InboxOperatorSet {
  readonly epoch: number
  readonly operators: ReadonlyArray<OperatorWeight>
  readonly thresholdBps: number
}

/** What an Inbox shows for one nonce of a lane. */
export type InboxMessageStatus = "none" | "delivered" | "failed"

/** The reads of one Inbox. */
export interface InboxReader {
  /** The operator-set epoch at the latest block, with that block; 0 while no set was configured. */
  epoch(): Promise<{ readonly block: BlockRef; readonly epoch: number }>
  /** The operator set at `block`. */
  operatorSet(block: BlockRef): Promise<InboxOperatorSet>
  /** The count `root` was committed with for the lane, or 0. */
  committedCount(lane: Lane, root: Bytes32): Promise<number>
  /** The nonces in `[start, end)` the Inbox has attempted (delivered or failed). */
  attempted(lane: Lane, start: number, end: number): Promise<ReadonlySet<number>>
  messageStatus(lane: Lane, nonce: number): Promise<InboxMessageStatus>
  /**
   * The transactions that attempted `messageIds` (their `MessageDelivered` or `MessageFailed`), searched from
   * `sinceBlock` to the latest block, stopping once every one is found; an id not found is absent.
   */
  attemptsOf(
    messageIds: ReadonlyArray<string>,
    sinceBlock: number,
  ): Promise<ReadonlyMap<string, InboxAttempt>>
}

/** The transaction that attempted a message, as the Inbox's event names it. */
export interface InboxAttempt {
  readonly transactionHash: TxHash
  readonly blockNumber: number
  readonly result: "delivered" | "failed"
}

/** The reads of the hub's operator registry: the one source of the operator set. */
export interface RegistryReader {
  /** The registry's whole set at `block`: its epoch, operators (ascending) with their weights, and threshold. */
  operatorSet(block: BlockRef): Promise<InboxOperatorSet>
}

/** The Inbox reads that tell the submitter what is already done. */
export type InboxDeliveries = Pick<
  InboxReader,
  "committedCount" | "attempted" | "messageStatus" | "attemptsOf" | "epoch"
>

/** Everything a service reads from one chain. */
export interface ChainReader {
  readonly chainId: number
  readonly finality: Finality
  /** The highest block the chain's finality rule calls final; null ("not yet") while none is. */
  finalizedHead(): Promise<BlockRef | null>
  /**
   * The chain's `latest` block, whatever the finality rule: how far the chain has got on this RPC. Never a
   * reason to trust a block (only `finalizedHead` is); a block past it does not exist here yet.
   */
  latestHead(): Promise<BlockRef>
  header(number: number): Promise<BlockHeader>
  /** A lane's root and count at `blockNumber`, with that block's header and the finalized head. */
  outboxLane(lane: OutboxLaneRef, blockNumber: number): Promise<OutboxLaneState>
  /** The next range of `MessageSent` logs, every log checked against its block's header. */
  outboxLogs(request: OutboxLogsRequest): Promise<OutboxRangeRead>
  /**
   * One message of a lane, by its nonce: its `MessageSent` log (the event's indexed dstChainId and nonce
   * select it), checked as `outboxLogs` checks its logs and against its block's header.
   */
  outboxMessage(request: OutboxMessageRequest): Promise<OutboxMessageRead>
  /** Whether a contract is deployed at `address` (at the latest block). */
  hasCode(address: Address): Promise<boolean>
  inbox(address: Address): InboxReader
  /** The operator registry at `address` (on the hub chain). */
  registry(address: Address): RegistryReader
}

/** An Inbox function call, in Chorus's terms (the writer encodes it). */
export type InboxCall =
  | {
      readonly kind: "commit"
      readonly checkpoint: Checkpoint
      /** The epoch the signatures were made under. */
      readonly epoch: number
      readonly signatures: ReadonlyArray<Signature>
    }
  | {
      readonly kind: "deliver"
      readonly outbox: Address
      /** The first message's nonce; the messages are consecutive. */
      readonly start: number
      readonly messages: ReadonlyArray<Message>
      readonly root: Bytes32
      readonly proof: ReadonlyArray<Bytes32>
    }
  | {
      readonly kind: "commitAndDeliver"
      readonly checkpoint: Checkpoint
      /** The epoch the signatures were made under. */
      readonly epoch: number
      readonly signatures: ReadonlyArray<Signature>
      readonly start: number
      readonly messages: ReadonlyArray<Message>
      readonly proof: ReadonlyArray<Bytes32>
    }
  | {
      readonly kind: "retry"
      readonly message: Message
      readonly root: Bytes32
      readonly proof: ReadonlyArray<Bytes32>
    }
  | {
      /** The hub registry's set at `epoch`, signed by a quorum of the set the Inbox trusts now. */
      readonly kind: "updateOperatorSet"
      readonly epoch: number
      readonly operators: ReadonlyArray<OperatorWeight>
      readonly thresholdBps: number
      readonly signatures: ReadonlyArray<Signature>
    }

/** A decoded revert: the human-readable reason, the raw revert data, and the custom error if known. */
export interface Revert {
  readonly reason: string
  readonly revertData: HexString
  readonly errorName: string | null
  readonly args: ReadonlyArray<unknown>
}

export interface Fees {
  readonly maxFeePerGas: bigint
  readonly maxPriorityFeePerGas: bigint
}

export interface TransactionRequest extends Fees {
  readonly to: HexString
  readonly data: HexString
  readonly gas: bigint
  readonly nonce: number
}

/** A transaction the node knows, with the account that sent it and the Inbox function it called. */
export interface SentTransaction extends TransactionRequest {
  readonly from: HexString
  /** The Inbox function it called; null when it is no call of this Inbox's. */
  readonly inboxFunction: "commit" | "deliver" | "commitAndDeliver" | "retry" | null
}

export interface SignedTransaction {
  readonly request: TransactionRequest
  readonly serialized: HexString
  readonly hash: TxHash
}

/** How a node answered a broadcast. */
export type SendVerdict =
  /** Accepted, or already known (a retry of the same bytes). */
  | { readonly kind: "accepted" }
  /** Unknown: the request may or may not have reached the node; treat the transaction as sent. */
  | { readonly kind: "ambiguous"; readonly reason: string }
  /** Refused: the transaction is not in the node's pool. */
  | { readonly kind: "refused"; readonly reason: string; readonly nonceTooLow: boolean }

/** An included transaction, and what its Inbox events say. */
export interface InboxReceipt {
  readonly transactionHash: TxHash
  readonly block: BlockRef
  readonly succeeded: boolean
  readonly gasUsed: bigint
  /** Message ids (lowercase) the Inbox delivered. */
  readonly delivered: ReadonlySet<string>
  /** Message ids (lowercase) whose recipient reverted, with the revert bytes. */
  readonly failed: ReadonlyMap<string, Hex>
  /** The checkpoint the transaction committed, if any. */
  readonly committed: Checkpoint | null
}

/**
 * A remote signer holding an account's key: Web3Signer's signing API (`POST <url>/api/v1/eth1/sign/<publicKey>`
 * with `{"data": <bytes>}`, answering the signature of their keccak256). The key never enters the process.
 */
export interface RemoteSignerRef {
  readonly kind: "web3signer"
  readonly url: string
  /** The key's identifier on the signer: its public key, as the signer lists it. */
  readonly publicKey: HexString
  /** The account it signs as (derived from the public key). */
  readonly address: HexString
}

/** How a writer signs: a private key in this process, or a remote signer. */
export type SigningKey = HexString | RemoteSignerRef

/** One account writing to one chain's Inbox: the submitter's side of its destination. */
export interface ChainWriter {
  readonly chainId: number
  readonly inbox: Address
  /** The account that signs and pays. */
  readonly sender: HexString
  /** Why the writer cannot work (its RPC serves another chain, no Inbox at the address), or null. */
  misconfiguration(): Promise<string | null>
  /** Gas for `call` from the sender, or the decoded revert that refuses it. */
  estimate(call: InboxCall): Promise<{ readonly gas: bigint } | { readonly revert: Revert }>
  fees(): Promise<Fees>
  /** The sender's transaction count; `pending` counts the node's pool too. */
  transactionCount(blockTag: "pending" | "latest"): Promise<number>
  /** The transaction of `call`, to sign. */
  request(
    call: InboxCall,
    fields: { readonly gas: bigint; readonly nonce: number } & Fees,
  ): TransactionRequest
  sign(request: TransactionRequest): Promise<SignedTransaction>
  broadcast(signed: SignedTransaction): Promise<SendVerdict>
  /** The receipt of `hash`, or null while it is not included. */
  receipt(hash: TxHash): Promise<InboxReceipt | null>
  /** What the node knows was sent as `hash`, or null if it knows no such transaction. */
  sentTransaction(hash: TxHash): Promise<SentTransaction | null>
  blockNumber(): Promise<number>
  /** The sender's balance in wei, at the latest block. */
  balance(): Promise<bigint>
  /** `request` run again at `blockNumber`: its revert, or null if it does not revert there. */
  simulate(request: TransactionRequest, blockNumber: number): Promise<Revert | null>
}

/** The chains a service reaches, each connected once, on first use. */
export interface ChainAccess {
  reader(chainId: number): ChainReader
  writer(chainId: number, key: SigningKey): ChainWriter
}

/** How a service wants its chains reached. */
export interface ChainAccessOptions {
  /** The service's own RPC URLs, by chain id (the chain's `rpcUrls` where absent). */
  readonly rpcUrlsOverride?: Readonly<Record<string, ReadonlyArray<string>>>
  /** Retries per RPC URL before the fallback moves on. Default 3. */
  readonly retryCount?: number
  /** Blocks per log request: the first size, and the most it grows to. */
  readonly logRange?: { readonly initial: number; readonly max: number }
}

/** One chain as a kind is asked to connect to it. */
export interface ChainEndpoint {
  readonly chainId: number
  readonly rpcUrls: ReadonlyArray<string>
  readonly finality: Finality
  readonly retryCount: number
  readonly logRange: { readonly initial: number; readonly max: number }
}

/** One chain, connected: its reader, and writers over the same connection. */
export interface ChainConnection {
  readonly reader: ChainReader
  writer(inbox: Address, key: SigningKey): ChainWriter
}

/** What a chain kind implements. */
export interface ChainKind {
  readonly name: string
  connect(endpoint: ChainEndpoint): ChainConnection
}

/**
 * The short line of any error a reader or writer throws, for tick results and logs: a
 * `ChorusError`'s (or a client library's) short message, else its message.
 *
 * @example
 * ```ts
 * describeError(new Error("boom")) // "boom"
 * ```
 */
export const describeError = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const short = (error as { shortMessage?: unknown }).shortMessage
    if (typeof short === "string") return short
    if (error instanceof Error) return error.message
  }
  return String(error)
}
