/**
 * The Outbox's `MessageSent` logs of the next range, checked, as the
 * chain-watcher core's input (`OutboxRangeRead`).
 *
 * Pipeline of `readOutboxRange`:
 *   1. the block at the cursor's height (the core compares it to the cursor);
 *   2. `eth_getLogs` from the cursor's next block towards the head, over a
 *      range that adapts to the RPC's limits (`adaptive-range.ts`);
 *   3. every log checked on its own (`checkLogs`);
 *   4. the header of the range's last block and of every block with logs,
 *      and each log's block hash checked against its header.
 * Any failed check throws `InvalidRpcResponseError`: nothing of the answer is
 * used, and the caller reads again.
 *
 * @module
 */
import {
  type Address,
  type BlockRef,
  type ChainId,
  OutboxBlock,
  OutboxLog,
  OutboxRangeRead,
  TxHash,
} from "../../schemas/index.ts"
import type { BlockHeader } from "../chain-access.ts"
import { getLogsAdaptive, type RangeSizer } from "./adaptive-range.ts"
import { checkLogs, MESSAGE_SENT_TOPIC } from "./check-logs.ts"
import type { EvmClient } from "./client.ts"
import { InvalidRpcResponseError } from "./errors.ts"
import { readHeader } from "./finalized-head.ts"

const toHex = (n: number) => `0x${n.toString(16)}` as const

/** Reads headers a few at a time: a range can hold logs in hundreds of blocks. */
const readHeaders = async (
  client: EvmClient,
  numbers: ReadonlyArray<number>,
): Promise<Map<number, BlockHeader>> => {
  const headers = new Map<number, BlockHeader>()
  const queue = [...numbers]
  const worker = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      headers.set(n, await readHeader(client, n))
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
  client: EvmClient,
  request: RangeReadRequest,
): Promise<OutboxRangeRead> => {
  const { chainId, outbox, cursor, fromBlock } = request
  const cursorCheck = cursor === null ? null : (await readHeader(client, cursor.number)).ref
  const { logs: raw, toBlock } = await getLogsAdaptive<unknown>({
    from: fromBlock,
    upTo: request.head,
    sizer: request.sizer,
    getLogs: (from, to) =>
      client.viem.request({
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
  const headers = await readHeaders(client, numbers)
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
