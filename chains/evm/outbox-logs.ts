/**
 * The Outbox's `MessageSent` logs of the next range, checked, as the
 * chain-watcher core's input (`OutboxRangeRead`), with what proves them
 * complete.
 *
 * Pipeline of `readOutboxRange`:
 *   1. `eth_getLogs` from the cursor's next block towards the head, over a
 *      range that adapts to the RPC's limits (`adaptive-range.ts`);
 *   2. every log checked on its own (`checkLogs`);
 *   3. the header of the range's last block and of every block with logs,
 *      and each log's block hash checked against its header;
 *   4. when asked (`completeness`), each lane's `Outbox.count(dst)` at the
 *      range's last block, in one deployless multicall (one `eth_call`),
 *      alongside the headers; and at the block before the range for lanes
 *      no earlier read proved (a first read, a restart, a new lane);
 *   5. last, the block at the cursor's height (the core compares it to the
 *      cursor). Read after everything else, so a rewrite below the cursor
 *      during the read is seen in this read: logs of a new history are
 *      never folded as if they followed the cursor. A rewrite after it left
 *      every answer of the read on the old history, which the cursor's
 *      next check catches.
 * Any failed check throws `InvalidRpcResponseError`: nothing of the answer is
 * used, and the caller reads again. Whether the logs match the counts is
 * not judged here but by the reader's caller (the watcher core), so the
 * judgement is replayed from the recorded read.
 *
 * Invariants:
 * - Every call of one read goes to the same place: the chain's fallback, or
 *   the one URL the request pins (`rpc`), which the read then names.
 * - The counts are read at fixed block numbers, never at a tag, so they are
 *   of the same blocks as the logs and headers.
 * - No Outbox code at a block counts as zero messages there: an Outbox that
 *   did not exist yet had emitted nothing (it cannot be destroyed).
 *
 * @module
 */
import { BaseError, ContractFunctionZeroDataError, custom, type EIP1193RequestFn } from "viem"
import { outboxAbi } from "../../contracts/index.ts"
import {
  type Address,
  type BlockRef,
  type ChainId,
  OutboxBlock,
  OutboxLaneCount,
  OutboxLog,
  OutboxRangeRead,
  TxHash,
} from "../../schemas/index.ts"
import type { BlockHeader, OutboxCompletenessRequest } from "../chain-access.ts"
import { getLogsAdaptive, type RangeSizer } from "./adaptive-range.ts"
import { checkLogs, MESSAGE_SENT_TOPIC } from "./check-logs.ts"
import { asChainError, type EvmClient, makeEvmClient } from "./client.ts"
import { InvalidRpcResponseError, redactUrl } from "./errors.ts"
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

/** The clients pinned to one URL of a chain's client, made once each. */
const pinned = new WeakMap<EvmClient, Map<number, EvmClient>>()

/**
 * A client of one of `client`'s URLs alone. It goes through the fallback's
 * own transport for that URL, so that URL's chain-id check and retries (and
 * a test's in-memory transport) still apply.
 */
const pinnedTo = (client: EvmClient, rpc: number): EvmClient => {
  const index = ((rpc % client.rpcUrls.length) + client.rpcUrls.length) % client.rpcUrls.length
  let clients = pinned.get(client)
  if (clients === undefined) {
    clients = new Map()
    pinned.set(client, clients)
  }
  const known = clients.get(index)
  if (known !== undefined) return known
  const transports = (client.viem.transport as { transports?: ReadonlyArray<{ request: EIP1193RequestFn }> })
    .transports
  const one = transports?.[index]
  if (one === undefined) {
    throw new Error(`chain ${client.chainId}: its client has no transport for RPC URL #${index}`)
  }
  const made = makeEvmClient({
    chainId: client.chainId,
    rpcUrls: [client.rpcUrls[index]!],
    transports: [custom({ request: (args) => one.request(args) }, { retryCount: 0 })],
    retryCount: 0,
  })
  clients.set(index, made)
  return made
}

const isNoCode = (error: unknown) =>
  error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionZeroDataError) !== null

/**
 * `Outbox.count(dst)` of each lane at `blockNumber`, in one `eth_call`: a
 * deployless Multicall3 (its creation code runs inside the call), so it
 * needs no contract on the chain.
 *
 * @example
 * ```ts
 * await readCounts(client, outbox, [902, 903], 1_180) // Map { 902 => 41, 903 => 17 }
 * ```
 */
export const readCounts = async (
  client: EvmClient,
  outbox: Address,
  lanes: ReadonlyArray<number>,
  blockNumber: number,
): Promise<Map<number, number>> => {
  if (lanes.length === 0) return new Map()
  const results = await client.viem.multicall({
    contracts: lanes.map((dst) => ({
      address: outbox as `0x${string}`,
      abi: outboxAbi,
      functionName: "count" as const,
      args: [BigInt(dst)] as const,
    })),
    blockNumber: BigInt(blockNumber),
    deployless: true,
    allowFailure: true,
    // viem splits calldata past 1 KiB (28 lanes) into several calls by default; one call holds thousands.
    batchSize: 0,
  })
  const counts = new Map<number, number>()
  const problems: string[] = []
  results.forEach((result, i) => {
    const dst = lanes[i]!
    if (result.status === "success") counts.set(dst, Number(result.result))
    else if (isNoCode(result.error)) counts.set(dst, 0)
    else if (result.error instanceof BaseError && result.error.name === "ContractFunctionExecutionError") {
      // The call ran and its answer is unusable (a revert, or data that does not decode): Outbox.count never reverts.
      problems.push(`count(${dst}) failed: ${result.error.shortMessage}`)
    } else throw result.error // the call itself failed (transport): the caller's retry
  })
  if (problems.length > 0) {
    throw new InvalidRpcResponseError(client.chainId, `Outbox.count at block ${blockNumber}`, problems)
  }
  return counts
}

/** Each lane's count before and after the range, for every lane the caller knows or the logs name. */
const readLaneCounts = async (
  client: EvmClient,
  outbox: Address,
  completeness: OutboxCompletenessRequest,
  range: { readonly fromBlock: number; readonly toBlock: number },
  logLanes: ReadonlyArray<number>,
): Promise<OutboxLaneCount[]> => {
  const lanes = [...new Set([...completeness.lanes, ...completeness.countsBefore.keys(), ...logLanes])].sort(
    (a, b) => a - b,
  )
  const unknown = lanes.filter((dst) => !completeness.countsBefore.has(dst))
  const [after, read] = await Promise.all([
    readCounts(client, outbox, lanes, range.toBlock),
    // Nothing precedes block 0, so nothing was sent before it.
    range.fromBlock === 0
      ? Promise.resolve(new Map(unknown.map((dst) => [dst, 0])))
      : readCounts(client, outbox, unknown, range.fromBlock - 1),
  ])
  return lanes.map(
    (dst) =>
      new OutboxLaneCount({
        dstChainId: dst as ChainId,
        before: completeness.countsBefore.get(dst) ?? read.get(dst)!,
        after: after.get(dst)!,
      }),
  )
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
  /** Prove the range complete with each lane's counts around it (`OutboxRangeRead.lanes`). */
  readonly completeness?: OutboxCompletenessRequest
  /** Read through this one of the client's URLs alone (an index); the read names it. */
  readonly rpc?: number
}

/**
 * Reads and checks the next range of Outbox logs, as the watcher core's input.
 *
 * @example
 * ```ts
 * const read = await readOutboxRange(client, {
 *   chainId, outbox, cursor, fromBlock: cursor.number + 1, head, sizer,
 *   completeness: { lanes: [902, 903], countsBefore: new Map([[902, 17], [903, 4]]) },
 * })
 * read.lanes // [{ dstChainId: 902, before: 17, after: 19 }, { dstChainId: 903, before: 4, after: 4 }]
 * ```
 */
export const readOutboxRange = (
  chainClient: EvmClient,
  request: RangeReadRequest,
): Promise<OutboxRangeRead> =>
  readOn(chainClient, request.rpc, `reading Outbox logs from block ${request.fromBlock}`, (client, rpc) =>
    readRange(client, request, rpc),
  )

/**
 * Runs one read through the chain's fallback, or through one of its URLs alone (`rpc`, an index), which the
 * read is told (redacted) so it can name it.
 *
 * @example
 * ```ts
 * await readOn(client, 1, "reading Outbox logs from block 10", (pinned, rpc) => readRange(pinned, request, rpc))
 * ```
 */
export const readOn = async <T>(
  chainClient: EvmClient,
  rpc: number | undefined,
  what: string,
  read: (client: EvmClient, rpc: string | null) => Promise<T>,
): Promise<T> => {
  if (rpc === undefined) return read(chainClient, null)
  const client = pinnedTo(chainClient, rpc)
  try {
    return await read(client, redactUrl(client.rpcUrls[0]!))
  } catch (error) {
    // Named by the one URL it was pinned to, not by all of the chain's.
    throw asChainError(client, what, error)
  }
}

const readRange = async (
  client: EvmClient,
  request: RangeReadRequest,
  rpc: string | null,
): Promise<OutboxRangeRead> => {
  const { chainId, outbox, cursor, fromBlock } = request
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
  const logLanes = [...new Set(checked.logs.map((log) => log.message.dstChainId))]
  const [headers, lanes] = await Promise.all([
    readHeaders(client, numbers),
    request.completeness === undefined
      ? null
      : readLaneCounts(client, outbox, request.completeness, { fromBlock, toBlock }, logLanes),
  ])
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
  // Last, after every other answer: a rewrite at any moment of the read shows here, or came after it all.
  const cursorCheck = cursor === null ? null : (await readHeader(client, cursor.number)).ref
  return new OutboxRangeRead({
    chainId,
    outbox,
    cursorCheck,
    fromBlock,
    to: headers.get(toBlock)!.ref,
    blocks,
    lanes,
    rpc,
  })
}
