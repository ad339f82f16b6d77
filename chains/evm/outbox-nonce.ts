/**
 * One message of an Outbox lane, read again by its nonce: what the
 * chain-watcher asks when the proof-builder stalls on a nonce gap the range
 * reads should have closed (`OutboxNonceRead`).
 *
 * Pipeline of `readOutboxMessage`:
 *   1. one `eth_getLogs` on the Outbox with topics [MessageSent, dstChainId,
 *      nonce] (both indexed in `event MessageSent`) over the whole range. A
 *      range the RPC refuses as too large (`isRangeLimitError`) is not
 *      walked: the block where the lane's `Outbox.count(dst)` first passes
 *      the nonce is found by bisection (one `eth_call` per halving), and
 *      that block alone is asked for its logs;
 *   2. every log checked as a range read checks its own (`checkLogs`), and
 *      each must be of the lane and nonce asked for; more than one is a
 *      false answer (a nonce is sent once);
 *   3. the header of the log's block, and the log's block hash checked
 *      against it.
 * Any failed check throws `InvalidRpcResponseError`: nothing of the answer is
 * used.
 *
 * Invariants:
 * - Every call of one read goes to the same place: the chain's fallback, or
 *   the one URL the request pins (`rpc`), which the read then names.
 * - No log is not an error: it is the answer, for the caller to judge
 *   against the lane's count (an RPC that drops logs answers it too).
 *
 * @module
 */
import { numberToHex } from "viem"
import { type ChainId, OutboxBlock, OutboxLog, TxHash } from "../../schemas/index.ts"
import type { OutboxMessageRead, OutboxMessageRequest } from "../chain-access.ts"
import { checkLogs, MESSAGE_SENT_TOPIC } from "./check-logs.ts"
import type { EvmClient } from "./client.ts"
import { InvalidRpcResponseError } from "./errors.ts"
import { readHeader } from "./finalized-head.ts"
import { readCounts, readOn } from "./outbox-logs.ts"
import { isRangeLimitError } from "./range-limit.ts"

export interface MessageReadRequest extends OutboxMessageRequest {
  readonly chainId: ChainId
}

/** `eth_getLogs` of the lane's `MessageSent` with this nonce, from `from` to `to`. */
const nonceLogs = (client: EvmClient, request: MessageReadRequest, from: number, to: number) =>
  client.viem.request({
    method: "eth_getLogs",
    params: [
      {
        address: request.outbox as `0x${string}`,
        topics: [
          MESSAGE_SENT_TOPIC,
          numberToHex(request.dstChainId, { size: 32 }),
          numberToHex(request.nonce, { size: 32 }),
        ],
        fromBlock: numberToHex(from),
        toBlock: numberToHex(to),
      },
    ],
  }) as Promise<unknown>

/**
 * The first block of the request's range at which the lane's count passes the nonce (the block that sent it),
 * by bisection on `Outbox.count(dst)`; null when the count at the range's end does not pass it.
 */
const blockOfNonce = async (client: EvmClient, request: MessageReadRequest): Promise<number | null> => {
  const { outbox, dstChainId, nonce } = request
  const countAt = async (block: number) =>
    (await readCounts(client, outbox, [dstChainId], block)).get(dstChainId)!
  if ((await countAt(request.toBlock)) <= nonce) return null
  let low = request.fromBlock
  let high = request.toBlock
  while (low < high) {
    const middle = Math.floor((low + high) / 2)
    if ((await countAt(middle)) > nonce) high = middle
    else low = middle + 1
  }
  return low
}

const findMessage = async (client: EvmClient, request: MessageReadRequest): Promise<OutboxBlock | null> => {
  const { chainId, outbox, dstChainId, nonce } = request
  let from = request.fromBlock
  let to = request.toBlock
  let raw: unknown
  try {
    raw = await nonceLogs(client, request, from, to)
  } catch (error) {
    if (!isRangeLimitError(error)) throw error
    // Too many blocks for one request: the block where the lane's count first passes the nonce holds its log.
    const block = await blockOfNonce(client, request)
    if (block === null) return null
    from = block
    to = block
    raw = await nonceLogs(client, request, block, block)
  }
  const what = `eth_getLogs of lane ${chainId} → ${dstChainId}, nonce ${nonce}, blocks ${from}..${to}`
  if (!Array.isArray(raw)) throw new InvalidRpcResponseError(chainId, what, ["the answer is not an array"])
  const checked = checkLogs(raw, { chainId, outbox, fromBlock: from, toBlock: to })
  const problems = [...checked.problems]
  for (const log of checked.logs) {
    if (log.message.dstChainId !== dstChainId || log.message.nonce !== nonce)
      problems.push(
        `log ${log.logIndex} of tx ${log.transactionHash} is of lane ${chainId} → ${log.message.dstChainId}, nonce ${log.message.nonce}: not the one asked for`,
      )
  }
  if (checked.logs.length > 1)
    problems.push(`${checked.logs.length} logs answer one nonce, which the Outbox sends once`)
  if (problems.length > 0) throw new InvalidRpcResponseError(chainId, what, problems)
  const log = checked.logs[0]
  if (log === undefined) return null
  const header = await readHeader(client, log.blockNumber)
  if (log.blockHash !== header.ref.hash)
    throw new InvalidRpcResponseError(chainId, `${what} (header)`, [
      `log ${log.logIndex} of tx ${log.transactionHash} names block ${log.blockNumber} as ${log.blockHash}, but its header's hash is ${header.ref.hash}`,
    ])
  return new OutboxBlock({
    block: header.ref,
    timestamp: header.timestamp,
    logs: [
      new OutboxLog({
        transactionHash: TxHash.make(log.transactionHash),
        logIndex: log.logIndex,
        message: log.message,
      }),
    ],
  })
}

/**
 * Reads one message of a lane again, by its nonce, checked.
 *
 * @example
 * ```ts
 * const { found } = await readOutboxMessage(client, { chainId, outbox, dstChainId: 902, nonce: 23, fromBlock: 0, toBlock: 1_180 })
 * found?.logs[0]?.message.nonce // 23
 * ```
 */
export const readOutboxMessage = (
  chainClient: EvmClient,
  request: MessageReadRequest,
): Promise<OutboxMessageRead> =>
  readOn(
    chainClient,
    request.rpc,
    `reading the Outbox message of lane ${request.chainId} → ${request.dstChainId}, nonce ${request.nonce}`,
    async (client, rpc) => ({ found: await findMessage(client, request), rpc }),
  )
