/**
 * The finalized and latest heads and block headers of an EVM chain, checked.
 *
 * The one finality rule of Chorus lives here, in `readFinalizedHead`: the
 * `finalized` tag, the `safe` tag, or `latest` minus a confirmation depth.
 * While the chain is shallower than the depth no block is final and the
 * answer is null ("not yet"): clamping to block 0 would call final a block
 * the rule does not, and a reader would sign or propose against it.
 *
 * @module
 */
import { BlockRef, Bytes32 } from "../../schemas/index.ts"
import type { BlockHeader, Finality } from "../chain-access.ts"
import type { EvmClient } from "./client.ts"
import { InvalidRpcResponseError } from "./errors.ts"

interface RawBlock {
  readonly number: bigint | null
  readonly hash: string | null
  readonly timestamp: bigint
}

/** The header of a block as the RPC gave it, checked to be `expected` (when asked by number) and complete. */
const checkedHeader = (
  client: EvmClient,
  block: RawBlock,
  what: string,
  expected: number | undefined,
): BlockHeader => {
  const problems: string[] = []
  if (block.number === null || block.number < 0n || block.number > BigInt(Number.MAX_SAFE_INTEGER)) {
    problems.push(`the block has no valid number (${String(block.number)})`)
  } else if (expected !== undefined && block.number !== BigInt(expected)) {
    problems.push(`asked for block ${expected}, got block ${block.number}`)
  }
  if (block.hash === null || !/^0x[0-9a-fA-F]{64}$/.test(block.hash)) {
    problems.push(`the block has no valid hash (${String(block.hash)})`)
  }
  if (typeof block.timestamp !== "bigint" || block.timestamp > BigInt(Number.MAX_SAFE_INTEGER)) {
    problems.push(`the block has no valid timestamp (${String(block.timestamp)})`)
  }
  if (problems.length > 0) throw new InvalidRpcResponseError(client.chainId, what, problems)
  return {
    ref: new BlockRef({ number: Number(block.number), hash: Bytes32.make(block.hash!.toLowerCase()) }),
    timestamp: Number(block.timestamp),
  }
}

/**
 * The header of block `number`, checked to be that block and to have a hash.
 *
 * @example
 * ```ts
 * const { ref, timestamp } = await readHeader(client, 1_234)
 * ```
 */
export const readHeader = async (client: EvmClient, number: number): Promise<BlockHeader> => {
  const what = `eth_getBlockByNumber(${number})`
  const block = await client.viem.getBlock({ blockNumber: BigInt(number) })
  return checkedHeader(client, block, what, number)
}

const readTagged = async (client: EvmClient, tag: "latest" | "safe" | "finalized"): Promise<BlockHeader> => {
  const block = await client.viem.getBlock({ blockTag: tag })
  return checkedHeader(client, block, `eth_getBlockByNumber(${tag})`, undefined)
}

/**
 * The chain's `latest` block, checked like any header; no finality rule applies to it.
 *
 * @example
 * ```ts
 * const head = await readLatestHead(client) // { number: 1_240, hash: "0x…" }
 * ```
 */
export const readLatestHead = async (client: EvmClient): Promise<BlockRef> =>
  (await readTagged(client, "latest")).ref

/**
 * The highest block `finality` calls final, or null while none is.
 *
 * @example
 * ```ts
 * await readFinalizedHead(client, { tag: "finalized" })  // the `finalized` block
 * await readFinalizedHead(client, { confirmations: 2 })  // latest - 2; null while latest < 2
 * ```
 */
export const readFinalizedHead = async (client: EvmClient, finality: Finality): Promise<BlockRef | null> => {
  if ("tag" in finality) return (await readTagged(client, finality.tag)).ref
  const latest = await readTagged(client, "latest")
  const number = latest.ref.number - finality.confirmations
  if (number < 0) return null
  if (number === latest.ref.number) return latest.ref
  const known = finalUnder.get(client)
  const under =
    known !== undefined &&
    known.latest.hash === latest.ref.hash &&
    known.latest.number === latest.ref.number &&
    known.confirmations === finality.confirmations
  if (under && known.confirmed) return known.final
  const final = (await readHeader(client, number)).ref
  const confirmed = under && known.final.hash === final.hash
  finalUnder.set(client, { latest: latest.ref, confirmations: finality.confirmations, final, confirmed })
  return final
}

/**
 * Per client, the block last read as final and the latest block it was read under. A block's hash commits to
 * every block below it, so while `latest` is the same block, so is the block `confirmations` below it: a
 * reader polling faster than the chain makes blocks asks for it twice per block, not once per poll.
 *
 * Twice, because the two reads of one poll are two requests, and nothing proves the second was answered from
 * the chain the first was (a fallback URL, a backend of a load-balanced URL that has not reorganised yet, a
 * node that flipped forks in between). The block is remembered only once a second read under the same latest
 * block gave it again (`confirmed`): a mismatched read is read anew at the next poll, as without the memo,
 * rather than kept for as long as the latest block stays the same (on an idle chain, for good).
 */
const finalUnder = new WeakMap<
  EvmClient,
  {
    readonly latest: BlockRef
    readonly confirmations: number
    readonly final: BlockRef
    readonly confirmed: boolean
  }
>()
