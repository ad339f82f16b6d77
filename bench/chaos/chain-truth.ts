/**
 * What the chains say at the end of a chaos run, the ground truth every
 * count starts from:
 *
 * - each traffic transaction's receipt, and the message its `MessageSent`
 *   log names (id, nonce, block): what was sent;
 * - each Inbox's delivery bitmaps: which messages it attempted, and which of
 *   those failed at their recipient;
 * - the recipient side: each PingRecipient's `Pinged` events by body, and
 *   each Inbox's `MessageDelivered` / `MessageFailed` events by message id,
 *   so a message a recipient ran twice shows.
 *
 * @module
 */
import { decodeEventLog, type Hex, type PublicClient, parseAbiItem } from "viem"
import type { DevnetChain } from "../../cli/devnet/world.ts"
import { inboxAbi, outboxAbi } from "../../contracts/index.ts"
import type { SentTransaction } from "./traffic.ts"

/** A traffic message as its source chain holds it. */
export interface SentMessage {
  readonly sent: SentTransaction
  readonly messageId: Hex
  readonly nonce: number
  readonly blockNumber: number
}

export interface Receipts {
  readonly messages: ReadonlyArray<SentMessage>
  /** Transactions with no receipt, or a receipt without a message (reverted). */
  readonly missing: ReadonlyArray<{ readonly sent: SentTransaction; readonly why: string }>
}

export type InboxStatus = "none" | "delivered" | "failed"

export interface RecipientSide {
  /** `Pinged` events by `<dst>:<src>:<body>`. */
  readonly pinged: ReadonlyMap<string, number>
  /** `MessageDelivered` and `MessageFailed` events by message id. */
  readonly delivered: ReadonlyMap<string, number>
  readonly failed: ReadonlyMap<string, number>
  /** The time (unix seconds) of the last block with a `MessageDelivered` or `MessageFailed`, on any chain. */
  readonly lastSettledAt: number | null
}

const pingedEvent = parseAbiItem(
  "event Pinged(uint64 indexed srcChainId, address indexed sender, uint256 count, bytes body)",
)

/** Runs `work` over `items`, `width` at a time. */
const inBatches = async <T, R>(
  items: ReadonlyArray<T>,
  width: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> => {
  const results: R[] = []
  for (let i = 0; i < items.length; i += width)
    results.push(...(await Promise.all(items.slice(i, i + width).map(work))))
  return results
}

/**
 * The receipt of every traffic transaction, and the message it sent.
 *
 * @example
 * ```ts
 * const { messages, missing } = await readReceipts(world.devnet.chains, traffic.sent())
 * ```
 */
export const readReceipts = async (
  chains: ReadonlyArray<DevnetChain>,
  sent: ReadonlyArray<SentTransaction>,
  known: ReadonlyMap<Hex, SentMessage> = new Map(),
): Promise<Receipts> => {
  const messages: SentMessage[] = []
  const missing: Array<{ sent: SentTransaction; why: string }> = []
  const chainOf = new Map(chains.map((c) => [c.chainId, c]))
  await inBatches(sent, 32, async (tx) => {
    const cached = known.get(tx.transactionHash)
    if (cached !== undefined) {
      messages.push(cached)
      return
    }
    const chain = chainOf.get(tx.message.src)!
    const receipt = await chain.client.getTransactionReceipt({ hash: tx.transactionHash }).catch(() => null)
    if (receipt === null) {
      missing.push({ sent: tx, why: "no receipt" })
      return
    }
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== chain.outbox.toLowerCase()) continue
      const decoded = decodeEventLog({ abi: outboxAbi, data: log.data, topics: log.topics })
      if (decoded.eventName !== "MessageSent") continue
      messages.push({
        sent: tx,
        messageId: decoded.args.messageId,
        nonce: Number(decoded.args.nonce),
        blockNumber: Number(receipt.blockNumber),
      })
      return
    }
    missing.push({ sent: tx, why: `receipt status ${receipt.status} with no MessageSent log` })
  })
  messages.sort((a, b) => a.sent.message.index - b.sent.message.index)
  return { messages, missing }
}

/**
 * Each message's status on its destination's Inbox, from the delivery bitmaps (one call per 256 nonces of
 * a lane).
 *
 * @example
 * ```ts
 * const status = await readInboxStatus(chains, messages) // Map<messageId, "none" | "delivered" | "failed">
 * ```
 */
export const readInboxStatus = async (
  chains: ReadonlyArray<DevnetChain>,
  messages: ReadonlyArray<SentMessage>,
): Promise<Map<string, InboxStatus>> => {
  const chainOf = new Map(chains.map((c) => [c.chainId, c]))
  const words = new Map<string, { src: number; dst: number; word: number }>()
  for (const m of messages) {
    const word = m.nonce >> 8
    words.set(`${m.sent.message.src}:${m.sent.message.dst}:${word}`, {
      src: m.sent.message.src,
      dst: m.sent.message.dst,
      word,
    })
  }
  const bitmaps = new Map<string, { attempted: bigint; failed: bigint }>()
  await inBatches([...words.entries()], 16, async ([key, { src, dst, word }]) => {
    const destination = chainOf.get(dst)!
    const [attempted, failed] = (await (destination.client as PublicClient).readContract({
      address: destination.inbox,
      abi: inboxAbi,
      functionName: "deliveryBitmaps",
      args: [BigInt(src), chainOf.get(src)!.outbox, BigInt(word)],
    })) as readonly [bigint, bigint]
    bitmaps.set(key, { attempted, failed })
  })
  const status = new Map<string, InboxStatus>()
  for (const m of messages) {
    const bits = bitmaps.get(`${m.sent.message.src}:${m.sent.message.dst}:${m.nonce >> 8}`)!
    const bit = 1n << BigInt(m.nonce & 255)
    status.set(
      m.messageId,
      (bits.failed & bit) !== 0n ? "failed" : (bits.attempted & bit) !== 0n ? "delivered" : "none",
    )
  }
  return status
}

/**
 * Every recipient-side event of the run: `Pinged` by body, and the Inbox's per-message events by id.
 *
 * @example
 * ```ts
 * const side = await readRecipientSide(chains)
 * side.delivered.get(messageId) // 1 for a message delivered once
 * ```
 */
/**
 * Blocks per `eth_getLogs` at first: a long run's whole history in one answer passes viem's 10 MB response
 * limit. A page whose answer is still too large (a busy stretch) is split in two until it fits.
 */
const LOG_PAGE_BLOCKS = 2_000n

export const readRecipientSide = async (chains: ReadonlyArray<DevnetChain>): Promise<RecipientSide> => {
  const pinged = new Map<string, number>()
  const delivered = new Map<string, number>()
  const failed = new Map<string, number>()
  let lastSettledAt: number | null = null
  const bump = (map: Map<string, number>, keys: ReadonlyArray<string>) => {
    for (const key of keys) map.set(key, (map.get(key) ?? 0) + 1)
  }
  for (const chain of chains) {
    const head = await chain.client.getBlockNumber()
    let lastSettleBlock: bigint | null = null
    for (let from = 0n; from <= head; from += LOG_PAGE_BLOCKS) {
      const to = from + LOG_PAGE_BLOCKS - 1n < head ? from + LOG_PAGE_BLOCKS - 1n : head
      for (const page of await readPages(chain, from, to)) {
        bump(pinged, page.pinged)
        bump(delivered, page.delivered)
        bump(failed, page.failed)
        if (
          page.lastSettleBlock !== null &&
          (lastSettleBlock === null || page.lastSettleBlock > lastSettleBlock)
        )
          lastSettleBlock = page.lastSettleBlock
      }
    }
    if (lastSettleBlock !== null) {
      const at = Number((await chain.client.getBlock({ blockNumber: lastSettleBlock })).timestamp)
      lastSettledAt = Math.max(lastSettledAt ?? at, at)
    }
  }
  return { pinged, delivered, failed, lastSettledAt }
}

/**
 * The time (unix seconds) of the first block holding a traffic message, on any chain: with `lastSettledAt`,
 * the window the relay took for the whole run, as the chains date it.
 *
 * @example
 * ```ts
 * const from = await firstSentAt(world.devnet.chains, receipts.messages)
 * ```
 */
export const firstSentAt = async (
  chains: ReadonlyArray<DevnetChain>,
  messages: ReadonlyArray<SentMessage>,
): Promise<number | null> => {
  let first: number | null = null
  for (const chain of chains) {
    const blocks = messages.filter((m) => m.sent.message.src === chain.chainId).map((m) => m.blockNumber)
    if (blocks.length === 0) continue
    const block = await chain.client.getBlock({ blockNumber: BigInt(Math.min(...blocks)) })
    first = Math.min(first ?? Number(block.timestamp), Number(block.timestamp))
  }
  return first
}

interface Page {
  readonly pinged: ReadonlyArray<string>
  readonly delivered: ReadonlyArray<string>
  readonly failed: ReadonlyArray<string>
  readonly lastSettleBlock: bigint | null
}

/** The pages of `[fromBlock, toBlock]`, halved wherever an answer is too large; none is counted twice. */
const readPages = async (chain: DevnetChain, fromBlock: bigint, toBlock: bigint): Promise<Page[]> => {
  try {
    return [await readPage(chain, fromBlock, toBlock)]
  } catch (error) {
    const tooLarge =
      error instanceof Error &&
      /ResponseBodyTooLarge|exceeded the size limit/.test(`${error.name} ${error.message}`)
    if (!tooLarge || fromBlock === toBlock) throw error
    const middle = fromBlock + (toBlock - fromBlock) / 2n
    return [...(await readPages(chain, fromBlock, middle)), ...(await readPages(chain, middle + 1n, toBlock))]
  }
}

/** One page's facts, counted by the caller only once both reads answered. */
const readPage = async (chain: DevnetChain, fromBlock: bigint, toBlock: bigint): Promise<Page> => {
  const pings = await chain.client.getLogs({
    address: chain.recipient,
    event: pingedEvent,
    fromBlock,
    toBlock,
  })
  const pinged = pings.map(
    (log) => `${chain.chainId}:${Number(log.args.srcChainId)}:${log.args.body!.toLowerCase()}`,
  )
  const delivered: string[] = []
  const failed: string[] = []
  let lastSettleBlock: bigint | null = null
  for (const log of await chain.client.getLogs({ address: chain.inbox, fromBlock, toBlock })) {
    try {
      const decoded = decodeEventLog({ abi: inboxAbi, data: log.data, topics: log.topics })
      if (decoded.eventName === "MessageDelivered") delivered.push(decoded.args.messageId.toLowerCase())
      if (decoded.eventName === "MessageFailed") failed.push(decoded.args.messageId.toLowerCase())
      if (decoded.eventName === "MessageDelivered" || decoded.eventName === "MessageFailed")
        lastSettleBlock = log.blockNumber
    } catch {
      // An event of another ABI: not the Inbox's.
    }
  }
  return { pinged, delivered, failed, lastSettleBlock }
}
