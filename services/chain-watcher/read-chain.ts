/**
 * What the watcher reads from its chain in one step, as an `OutboxRangeRead`:
 * the finalized head, the block at the cursor's height, and the Outbox logs
 * of the next range with the headers of the blocks that hold them.
 *
 * Pipeline of `readOutboxRange`:
 *   1. the block at the cursor's height (the core compares it to the cursor);
 *   2. `eth_getLogs` from the cursor's next block towards the head, over a
 *      range that adapts to the RPC's limits;
 *   3. every log checked on its own (`checkLogs`);
 *   4. the header of the range's last block and of every block with logs,
 *      and each log's block hash checked against its header.
 * Any failed check throws `InvalidRpcResponseError`: nothing of the answer is
 * used, and the next tick reads again.
 *
 * @module
 */
import type { PublicClient } from "viem"
import {
  type Address,
  BlockRef,
  Bytes32,
  type ChainId,
  OutboxBlock,
  OutboxLog,
  OutboxRangeRead,
  TxHash,
} from "../../schemas/index.ts"
import type { Finality } from "../config/index.ts"
import { getLogsAdaptive, type RangeSizer } from "./adaptive-range.ts"
import { checkLogs, MESSAGE_SENT_TOPIC } from "./check-logs.ts"
import { InvalidRpcResponseError } from "./errors.ts"

/** A header as the watcher checked it. */
export interface Header {
  readonly ref: BlockRef
  /** Seconds since the epoch. */
  readonly timestamp: number
}

const toHex = (n: number) => `0x${n.toString(16)}` as const

/**
 * The highest block the chain's finality rule lets the watcher read: the
 * `finalized` tag, or `latest - confirmations`. Null while no block is deep
 * enough yet.
 *
 * @example
 * ```ts
 * const head = await readFinalizedHead(client, 901, { confirmations: 2 })
 * ```
 */
export const readFinalizedHead = async (
  client: PublicClient,
  chainId: number,
  finality: Finality,
): Promise<number | null> => {
  const tag = "tag" in finality ? "finalized" : "latest"
  const block = await client.getBlock({ blockTag: tag })
  if (block.number === null || block.number < 0n) {
    throw new InvalidRpcResponseError(chainId, `eth_getBlockByNumber(${tag})`, [
      `the block has no number (${String(block.number)})`,
    ])
  }
  const latest = Number(block.number)
  if ("tag" in finality) return latest
  const head = latest - finality.confirmations
  return head < 0 ? null : head
}

/**
 * The header of block `number`, checked to be that block and to have a hash.
 *
 * @example
 * ```ts
 * const { ref, timestamp } = await readHeader(client, 901, 1_234)
 * ```
 */
export const readHeader = async (client: PublicClient, chainId: number, number: number): Promise<Header> => {
  const block = await client.getBlock({ blockNumber: BigInt(number) })
  const problems: string[] = []
  if (block.number !== BigInt(number)) problems.push(`asked for block ${number}, got block ${block.number}`)
  if (block.hash === null || !/^0x[0-9a-fA-F]{64}$/.test(block.hash)) {
    problems.push(`block ${number} has no valid hash (${String(block.hash)})`)
  }
  if (typeof block.timestamp !== "bigint" || block.timestamp > BigInt(Number.MAX_SAFE_INTEGER)) {
    problems.push(`block ${number} has no valid timestamp (${String(block.timestamp)})`)
  }
  if (problems.length > 0)
    throw new InvalidRpcResponseError(chainId, `eth_getBlockByNumber(${number})`, problems)
  return {
    ref: new BlockRef({ number, hash: Bytes32.make(block.hash!.toLowerCase()) }),
    timestamp: Number(block.timestamp),
  }
}

/** Reads headers a few at a time: a range can hold logs in hundreds of blocks. */
const readHeaders = async (
  client: PublicClient,
  chainId: number,
  numbers: ReadonlyArray<number>,
): Promise<Map<number, Header>> => {
  const headers = new Map<number, Header>()
  const queue = [...numbers]
  const worker = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      headers.set(n, await readHeader(client, chainId, n))
    }
  }
  await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker))
  return headers
}

export interface RangeReadRequest {
  readonly chainId: ChainId
  readonly outbox: Address
  /** The block the cursor points at; null on a first read. */
  readonly cursor: BlockRef | null
  readonly fromBlock: number
  /** The finalized head: the range never goes past it. */
  readonly head: number
  readonly sizer: RangeSizer
  readonly onShrink?: (refused: { fromBlock: number; toBlock: number; error: unknown }) => void
}

/**
 * Reads and checks the next range of Outbox logs, as the watcher core's input.
 *
 * @example
 * ```ts
 * const read = await readOutboxRange(client, { chainId, outbox, cursor, fromBlock: cursor.number + 1, head, sizer })
 * ```
 */
export const readOutboxRange = async (
  client: PublicClient,
  request: RangeReadRequest,
): Promise<OutboxRangeRead> => {
  const { chainId, outbox, cursor, fromBlock } = request
  const cursorCheck = cursor === null ? null : (await readHeader(client, chainId, cursor.number)).ref
  const { logs: raw, toBlock } = await getLogsAdaptive<unknown>({
    from: fromBlock,
    upTo: request.head,
    sizer: request.sizer,
    getLogs: (from, to) =>
      client.request({
        method: "eth_getLogs",
        params: [
          {
            address: outbox as `0x${string}`,
            topics: [MESSAGE_SENT_TOPIC],
            fromBlock: toHex(from),
            toBlock: toHex(to),
          },
        ],
      }),
    ...(request.onShrink === undefined ? {} : { onShrink: request.onShrink }),
  })
  const what = `eth_getLogs ${fromBlock}..${toBlock}`
  if (!Array.isArray(raw)) throw new InvalidRpcResponseError(chainId, what, ["the answer is not an array"])
  const checked = checkLogs(raw, { chainId, outbox, fromBlock, toBlock })
  if (checked.problems.length > 0) throw new InvalidRpcResponseError(chainId, what, checked.problems)

  const numbers = [...new Set([...checked.logs.map((log) => log.blockNumber), toBlock])]
  const headers = await readHeaders(client, chainId, numbers)
  const problems: string[] = []
  const blocks: OutboxBlock[] = []
  for (const number of numbers) {
    if (number === toBlock && !checked.logs.some((log) => log.blockNumber === number)) continue
    const header = headers.get(number)!
    const inBlock = checked.logs.filter((log) => log.blockNumber === number)
    for (const log of inBlock) {
      if (log.blockHash !== header.ref.hash) {
        problems.push(
          `log ${log.logIndex} of tx ${log.transactionHash} names block ${number} as ${log.blockHash}, but its header's hash is ${header.ref.hash}`,
        )
      }
    }
    blocks.push(
      new OutboxBlock({
        block: header.ref,
        timestamp: header.timestamp,
        logs: inBlock.map(
          (log) =>
            new OutboxLog({
              transactionHash: TxHash.make(log.transactionHash),
              logIndex: log.logIndex,
              message: log.message,
            }),
        ),
      }),
    )
  }
  if (problems.length > 0) throw new InvalidRpcResponseError(chainId, `${what} (headers)`, problems)
  blocks.sort((a, b) => a.block.number - b.block.number)
  return new OutboxRangeRead({
    chainId,
    outbox,
    cursorCheck,
    fromBlock,
    to: headers.get(toBlock)!.ref,
    blocks,
  })
}
