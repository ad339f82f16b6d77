/**
 * Chain faults on an anvil: replacing its last blocks with others
 * (`anvil_reorg`) that hold the same transactions in the same order, after
 * a marker transaction that makes every replaced block differ.
 *
 * - A reorg above finality replaces only blocks past `finalized` (anvil's
 *   `finalized` trails `latest` by two blocks here): nothing final changes,
 *   so no watcher may notice.
 * - A rewrite below finality replaces blocks `finalized` already covered:
 *   the chain broke its finality, and its watcher must halt (`ChainHalted`).
 *
 * Every transaction of the replaced blocks is re-included, in its block
 * and order (senders keep their nonces, every message keeps its nonce and
 * block), so the fault changes block hashes and nothing else. Mining is
 * paused while the blocks are read and replaced, so no block comes between.
 *
 * @module
 */
import { type Hex, parseGwei } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { ANVIL_KEYS, rpc } from "../../cli/devnet/world.ts"

interface RpcBlock {
  readonly number: Hex
  readonly hash: Hex
  readonly transactions: ReadonlyArray<Hex>
}

export interface ReplacedBlocks {
  readonly chainId: number
  readonly depth: number
  /** The first and last block replaced, and the finalized head when they were. */
  readonly from: number
  readonly to: number
  readonly finalized: number
  readonly transactions: number
  /** Replaced transactions without a receipt afterwards (anvil refused to re-include them). */
  readonly lost: ReadonlyArray<Hex>
  /** Blocks whose hash did not change (none expected). */
  readonly unchanged: number
}

/** A raw JSON-RPC call (the devnet's helper), typed by its caller. */
const call = async <T>(url: string, method: string, params: unknown[] = []): Promise<T> =>
  (await rpc(url, method, params)) as T

const hex = (n: number) => `0x${n.toString(16)}`

/**
 * Replaces the last `depth` blocks of the chain; `aboveFinality` caps the depth at the blocks past
 * `finalized`, so the fault cannot reach a final block.
 *
 * @example
 * ```ts
 * await replaceBlocks(chain.rpcUrl, 902, { depth: 6, aboveFinality: false, blockTime: 1, from: cursor - 1 }) // below finality
 * ```
 */
export const replaceBlocks = async (
  url: string,
  chainId: number,
  options: {
    readonly depth: number
    readonly aboveFinality: boolean
    readonly blockTime: number
    /** Replace at least from this block on (a rewrite reaches below the watcher's cursor however far behind it is). */
    readonly from?: number
  },
): Promise<ReplacedBlocks> => {
  await call(url, "evm_setIntervalMining", [0])
  try {
    const latest = Number(await call<Hex>(url, "eth_blockNumber"))
    const finalized = Number((await call<RpcBlock>(url, "eth_getBlockByNumber", ["finalized", false])).number)
    const deep =
      options.from === undefined ? options.depth : Math.max(options.depth, latest - options.from + 1)
    const depth = options.aboveFinality ? Math.min(deep, latest - finalized) : Math.min(deep, latest)
    if (depth < 1)
      throw new Error(`chain ${chainId} has no block to replace (latest ${latest}, finalized ${finalized})`)
    const from = latest - depth + 1
    const blocks: RpcBlock[] = []
    for (let n = from; n <= latest; n++)
      blocks.push(await call<RpcBlock>(url, "eth_getBlockByNumber", [hex(n), false]))
    const pairs: Array<[Hex, number]> = []
    const replaced: Hex[] = []
    // The marker: a transfer from the deployer (idle after setup), first in the first new block.
    const marker = privateKeyToAccount(ANVIL_KEYS.deployer)
    const nonce = Number(await call<Hex>(url, "eth_getTransactionCount", [marker.address, hex(from - 1)]))
    pairs.push([
      await marker.signTransaction({
        chainId,
        type: "eip1559",
        to: marker.address,
        value: 1n,
        gas: 21_000n,
        nonce,
        maxFeePerGas: parseGwei("100"),
        maxPriorityFeePerGas: parseGwei("1"),
      }),
      0,
    ])
    for (const [offset, block] of blocks.entries()) {
      for (const hash of block.transactions) {
        pairs.push([await call<Hex>(url, "eth_getRawTransactionByHash", [hash]), offset])
        replaced.push(hash)
      }
    }
    await call(url, "anvil_reorg", [depth, pairs])
    let unchanged = 0
    for (const block of blocks) {
      const now = await call<RpcBlock>(url, "eth_getBlockByNumber", [block.number, false])
      if (now.hash === block.hash) unchanged += 1
    }
    const lost: Hex[] = []
    for (const hash of replaced) {
      if ((await call<unknown>(url, "eth_getTransactionReceipt", [hash])) === null) lost.push(hash)
    }
    return { chainId, depth, from, to: latest, finalized, transactions: replaced.length, lost, unchanged }
  } finally {
    await call(url, "evm_setIntervalMining", [options.blockTime])
  }
}
