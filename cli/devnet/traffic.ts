/**
 * Demo traffic: `messages` Outbox sends spread round-robin over every
 * ordered pair of chains (6 directions for 3 chains), at `rate` per second.
 * Each body is unique (`chorus devnet #<i>`), so the tracker and the tests can
 * tell every message apart and check the recipients received each exactly
 * once. A `reverting` share of the messages goes to the destination's
 * GatedRecipient instead of its PingRecipient, so that it fails at the
 * recipient for as long as the gate stays closed.
 *
 * Each send is one RPC call: the transaction is built and signed here, with
 * the sender's own nonce and fees fixed once per chain (ten times the base
 * fee at the start, at least 10 gwei: anvil's base fee only falls under this
 * load), not filled by the node per send. The traffic is the devnet's
 * load, not the relay; at 300 msg/s, three calls and a pure-JS signature per
 * send cost more CPU than the relay it feeds.
 *
 * @module
 */
import { type Address, encodeFunctionData, type Hex, parseGwei, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { outboxAbi } from "../../contracts/index.ts"
import { withFastTransactionSigning } from "../../crypto/secp256k1.ts"
import { ChorusError } from "../../errors/index.ts"
import { ANVIL_KEYS, type DevnetWorld } from "./world.ts"

export interface SentMessage {
  readonly index: number
  readonly srcChainId: number
  readonly dstChainId: number
  readonly recipient: Address
  /** Addressed to the destination's GatedRecipient (fails while it is closed) rather than its PingRecipient. */
  readonly gated: boolean
  readonly body: Hex
  readonly transactionHash: Hex
  readonly sentAt: number
}

export interface TrafficOptions {
  readonly messages: number
  /** Messages per second over all directions. */
  readonly rate: number
  /** Percentage (integer, 0–100) of the messages sent to the GatedRecipients; see {@link isGated}. Default 0. */
  readonly reverting?: number
  /** Gas each message asks its recipient call to get. Default 200 000. */
  readonly gasLimit?: bigint
  /**
   * The index of the first message (default 0): a later send on the same devnet starts past the earlier ones, so
   * every body stays unique (the tracker and the recipients tell messages apart by their bodies).
   */
  readonly firstIndex?: number
  readonly onSent?: (message: SentMessage) => void
  readonly signal?: AbortSignal
}

/** A send the source chain refused; traffic stops at the first one. */
export class TrafficError extends ChorusError {
  override readonly name = "TrafficError"
  constructor(index: number, srcChainId: number, cause: unknown) {
    super(
      `sending devnet message #${index} on chain ${srcChainId} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { details: { index, srcChainId }, cause },
    )
  }
}

/** A `reverting` share that is not an integer percentage from 0 to 100. */
export class RevertingShareError extends ChorusError {
  override readonly name = "RevertingShareError"
  constructor(value: number) {
    super(`the reverting share must be an integer percentage from 0 to 100, got ${value}`, {
      details: { value },
      hint: "Pass e.g. 10 to address every tenth message to a GatedRecipient.",
    })
  }
}

/**
 * Whether message `index` goes to a GatedRecipient when `percent` of the
 * traffic should: exactly when ⌊(index+1)·percent/100⌋ passes ⌊index·percent/100⌋.
 * So the gated messages are spread evenly (every k-th for 100/k percent), the
 * choice depends on nothing but the index, and of the first n messages exactly
 * ⌊n·percent/100⌋ are gated.
 *
 * @example
 * ```ts
 * [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => isGated(i, 25)) // [3, 7]
 * ```
 */
export const isGated = (index: number, percent: number): boolean =>
  Math.floor(((index + 1) * percent) / 100) > Math.floor((index * percent) / 100)

/**
 * The ordered (source, destination) pairs of the world's chains.
 *
 * @example
 * ```ts
 * directions([901, 902, 903]).length // 6
 * ```
 */
export const directions = (chainIds: ReadonlyArray<number>): ReadonlyArray<readonly [number, number]> =>
  chainIds.flatMap((src) => chainIds.filter((dst) => dst !== src).map((dst) => [src, dst] as const))

/**
 * The body of devnet message `index`.
 *
 * @example
 * ```ts
 * bodyOf(7) // "0x…" (UTF-8 of "chorus devnet #7")
 * ```
 */
export const bodyOf = (index: number): Hex => stringToHex(`chorus devnet #${index}`)

/**
 * Sends the traffic and resolves with every message sent, in order. Each
 * source chain's sender keeps its own nonce, so sends do not wait for blocks.
 *
 * @example
 * ```ts
 * const sent = await sendTraffic(world, { messages: 60, rate: 10 })
 * ```
 */
export const sendTraffic = async (world: DevnetWorld, options: TrafficOptions): Promise<SentMessage[]> => {
  const reverting = options.reverting ?? 0
  if (!Number.isInteger(reverting) || reverting < 0 || reverting > 100)
    throw new RevertingShareError(reverting)
  const account = withFastTransactionSigning(privateKeyToAccount(ANVIL_KEYS.sender), ANVIL_KEYS.sender)
  const wallets = new Map(world.chains.map((c) => [c.chainId, { chain: c, nonce: -1, maxFeePerGas: 0n }]))
  const pairs = directions(world.chains.map((c) => c.chainId))
  const sent: SentMessage[] = []
  const started = Date.now()
  const first = options.firstIndex ?? 0
  for (let index = first; index < first + options.messages; index++) {
    if (options.signal?.aborted) break
    const due = started + ((index - first) * 1000) / options.rate
    const wait = due - Date.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    const [src, dst] = pairs[index % pairs.length]!
    const source = wallets.get(src)!
    const destination = world.chains.find((c) => c.chainId === dst)!
    try {
      if (source.nonce < 0) {
        source.nonce = await source.chain.client.getTransactionCount({
          address: account.address,
          blockTag: "pending",
        })
        const { baseFeePerGas } = await source.chain.client.getBlock({ blockTag: "latest" })
        const tenfold = (baseFeePerGas ?? 0n) * 10n
        source.maxFeePerGas = tenfold > parseGwei("10") ? tenfold : parseGwei("10")
      }
      const body = bodyOf(index)
      const gated = isGated(index, reverting)
      const recipient = gated ? destination.gatedRecipient : destination.recipient
      const serializedTransaction = await account.signTransaction({
        type: "eip1559",
        chainId: src,
        to: source.chain.outbox,
        data: encodeFunctionData({
          abi: outboxAbi,
          functionName: "send",
          args: [BigInt(dst), recipient, options.gasLimit ?? 200_000n, body],
        }),
        nonce: source.nonce,
        gas: 300_000n,
        maxFeePerGas: source.maxFeePerGas,
        maxPriorityFeePerGas: parseGwei("1"),
        value: 0n,
      })
      const transactionHash = await source.chain.client.sendRawTransaction({ serializedTransaction })
      source.nonce++
      const message = {
        index,
        srcChainId: src,
        dstChainId: dst,
        recipient,
        gated,
        body,
        transactionHash,
        sentAt: Date.now(),
      }
      sent.push(message)
      options.onSent?.(message)
    } catch (error) {
      throw new TrafficError(index, src, error)
    }
  }
  return sent
}
