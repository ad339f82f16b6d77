/**
 * An Inbox's state as readers need it: its operator set (the
 * attestation-collector counts signatures against it) and what it has done
 * (the submitter reads a committed root, attempted messages and a
 * message's status before every send, so nothing is sent twice).
 *
 * The operator set is read at the `latest` block, epoch first: a set only
 * changes with its epoch, so a reader that knows the epoch reads no more.
 *
 * @module
 */
import { toEventSelector, type Address as ViemAddress, type Hex as ViemHex } from "viem"
import { inboxAbi } from "../../contracts/index.ts"
import {
  type Address,
  BlockRef,
  Bytes32,
  OperatorWeight,
  TxHash,
  toAddress,
  toU256,
} from "../../schemas/index.ts"
import type { InboxAttempt, InboxMessageStatus, InboxReader } from "../chain-access.ts"
import { getLogsAdaptive, makeRangeSizer } from "./adaptive-range.ts"
import { type EvmClient, rpcCall } from "./client.ts"
import { InvalidRpcResponseError } from "./errors.ts"

const eventTopic = (name: string) =>
  toEventSelector(inboxAbi.find((item) => item.type === "event" && item.name === name)! as never)
const DELIVERED_TOPIC = eventTopic("MessageDelivered")
const FAILED_TOPIC = eventTopic("MessageFailed")

/** Blocks per `eth_getLogs` of a search for attempts; it halves on an RPC's range limit. */
const ATTEMPTS_RANGE = 5_000

const STATUSES: ReadonlyArray<InboxMessageStatus> = ["none", "delivered", "failed"]

/**
 * The reads of the Inbox at `address`.
 *
 * @example
 * ```ts
 * const inbox = makeInboxReader(client, "0x…")
 * const { block, epoch } = await inbox.epoch()
 * const done = await inbox.attempted(lane, 0, 64)
 * ```
 */
export const makeInboxReader = (client: EvmClient, address: Address): InboxReader => {
  const inbox = address as ViemAddress
  const read = <T>(what: string, run: () => Promise<T>) => rpcCall(client, `Inbox.${what}`, run)
  return {
    epoch: () =>
      read("epoch()", async () => {
        const block = await client.viem.getBlock({ blockTag: "latest" })
        if (block.number === null || block.hash === null) {
          throw new InvalidRpcResponseError(client.chainId, "eth_getBlockByNumber(latest)", [
            `the block has no number or hash (${String(block.number)}, ${String(block.hash)})`,
          ])
        }
        const epoch = await client.viem.readContract({
          address: inbox,
          abi: inboxAbi,
          functionName: "epoch",
          blockNumber: block.number,
        })
        const ref = new BlockRef({
          number: Number(block.number),
          hash: Bytes32.make(block.hash.toLowerCase()),
        })
        return { block: ref, epoch: Number(epoch) }
      }),
    operatorSet: (block) =>
      read("operatorSet()", async () => {
        const [operators, weights, thresholdBps, , , epoch] = await client.viem.readContract({
          address: inbox,
          abi: inboxAbi,
          functionName: "operatorSet",
          blockNumber: BigInt(block.number),
        })
        return {
          epoch: Number(epoch),
          operators: operators.map(
            (operator, i) =>
              new OperatorWeight({ address: toAddress(operator), weight: toU256(weights[i]!) }),
          ),
          thresholdBps,
        }
      }),
    committedCount: (lane, root) =>
      read("committedCount()", async () =>
        Number(
          await client.viem.readContract({
            address: inbox,
            abi: inboxAbi,
            functionName: "committedCount",
            args: [BigInt(lane.srcChainId), lane.outbox as ViemAddress, root as ViemHex],
          }),
        ),
      ),
    attempted: (lane, start, end) =>
      read("deliveryBitmaps()", async () => {
        const done = new Set<number>()
        if (end <= start) return done
        // One read per 256 nonces: the bitmaps hold a word each.
        for (let word = Math.floor(start / 256); word <= Math.floor((end - 1) / 256); word++) {
          const [attempted] = await client.viem.readContract({
            address: inbox,
            abi: inboxAbi,
            functionName: "deliveryBitmaps",
            args: [BigInt(lane.srcChainId), lane.outbox as ViemAddress, BigInt(word)],
          })
          for (let nonce = Math.max(start, word * 256); nonce < Math.min(end, word * 256 + 256); nonce++) {
            if ((attempted >> BigInt(nonce - word * 256)) & 1n) done.add(nonce)
          }
        }
        return done
      }),
    messageStatus: (lane, nonce) =>
      read("messageStatus()", async () => {
        const status = await client.viem.readContract({
          address: inbox,
          abi: inboxAbi,
          functionName: "messageStatus",
          args: [BigInt(lane.srcChainId), lane.outbox as ViemAddress, nonce],
        })
        const known = STATUSES[status]
        if (known === undefined) {
          throw new InvalidRpcResponseError(client.chainId, "Inbox.messageStatus", [
            `it returned ${status}, not 0, 1 or 2`,
          ])
        }
        return known
      }),
    attemptsOf: (messageIds, sinceBlock) =>
      read("attempts (MessageDelivered, MessageFailed)", async () => {
        const found = new Map<string, InboxAttempt>()
        const wanted = new Set(messageIds.map((id) => id.toLowerCase()))
        if (wanted.size === 0) return found
        const latest = Number(await client.viem.getBlockNumber({ cacheTime: 0 }))
        const sizer = makeRangeSizer({ initial: ATTEMPTS_RANGE, max: ATTEMPTS_RANGE })
        for (let from = Math.max(0, sinceBlock); from <= latest && found.size < wanted.size; ) {
          const { logs, toBlock } = await getLogsAdaptive({
            from,
            upTo: latest,
            sizer,
            getLogs: (fromBlock, to) =>
              client.viem.request({
                method: "eth_getLogs",
                params: [
                  {
                    address: inbox,
                    topics: [[DELIVERED_TOPIC, FAILED_TOPIC], [...wanted] as ViemHex[]],
                    fromBlock: `0x${fromBlock.toString(16)}`,
                    toBlock: `0x${to.toString(16)}`,
                  },
                ],
              }) as Promise<
                ReadonlyArray<{ topics: ViemHex[]; transactionHash: ViemHex; blockNumber: ViemHex }>
              >,
          })
          for (const log of logs) {
            const id = log.topics[1]?.toLowerCase()
            if (id === undefined || !wanted.has(id) || found.has(id)) continue
            found.set(id, {
              transactionHash: TxHash.make(log.transactionHash.toLowerCase()),
              blockNumber: Number(log.blockNumber),
              result: log.topics[0]?.toLowerCase() === DELIVERED_TOPIC ? "delivered" : "failed",
            })
          }
          from = toBlock + 1
        }
        return found
      }),
  }
}
