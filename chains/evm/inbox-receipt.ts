/**
 * What an included transaction did at the Inbox, read from its receipt's
 * logs: which messages were delivered (`MessageDelivered`), which failed in
 * their recipient (`MessageFailed`, with the revert bytes), and whether it
 * stored a root (`CheckpointCommitted`). Logs of other contracts, and Inbox
 * events no writer needs, are passed over. A `MessageFailed` whose reason is
 * longer than the Inbox ever writes makes the whole answer invalid
 * (`InvalidRpcResponseError`): nothing of it is used, and it is read again.
 *
 * @module
 */
import { type Address, decodeEventLog, type TransactionReceipt } from "viem"
import { inboxAbi } from "../../contracts/index.ts"
import { BlockRef, Bytes32, ChainId, Checkpoint, Hex, TxHash, toAddress, Uint } from "../../schemas/index.ts"
import type { InboxReceipt } from "../chain-access.ts"
import { InvalidRpcResponseError } from "./errors.ts"

/** The Inbox's `MAX_REASON_SIZE`: the most bytes of a failing recipient's revert data it copies into its events. */
export const INBOX_MAX_REASON_BYTES = 256

/**
 * The Inbox's view of a receipt.
 *
 * @example
 * ```ts
 * const { delivered, failed, committed } = inboxReceiptOf(receipt, inbox, 902)
 * ```
 */
export const inboxReceiptOf = (
  receipt: Pick<
    TransactionReceipt,
    "transactionHash" | "blockNumber" | "blockHash" | "status" | "gasUsed" | "logs"
  >,
  inbox: Address,
  dstChainId: number,
): InboxReceipt => {
  const delivered = new Set<string>()
  const failed = new Map<string, Hex>()
  const problems: string[] = []
  let committed: Checkpoint | null = null
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== inbox.toLowerCase()) continue
    let decoded: ReturnType<typeof decodeEventLog<typeof inboxAbi>>
    try {
      decoded = decodeEventLog({ abi: inboxAbi, data: log.data, topics: log.topics as never })
    } catch {
      continue
    }
    switch (decoded.eventName) {
      case "MessageDelivered":
        delivered.add(decoded.args.messageId.toLowerCase())
        break
      case "MessageFailed": {
        const bytes = (decoded.args.reason.length - 2) / 2
        // The Inbox copies at most MAX_REASON_SIZE bytes: a longer reason is not a log it wrote.
        if (bytes > INBOX_MAX_REASON_BYTES) {
          problems.push(
            `MessageFailed of ${decoded.args.messageId} at log ${log.logIndex} carries a ${bytes}-byte reason; the Inbox writes at most ${INBOX_MAX_REASON_BYTES}`,
          )
          break
        }
        failed.set(decoded.args.messageId.toLowerCase(), Hex.make(decoded.args.reason.toLowerCase()))
        break
      }
      case "CheckpointCommitted":
        committed = new Checkpoint({
          srcChainId: ChainId.make(Number(decoded.args.srcChainId)),
          outbox: toAddress(decoded.args.outbox),
          dstChainId: ChainId.make(dstChainId),
          root: Bytes32.make(decoded.args.root.toLowerCase()),
          count: decoded.args.count,
        })
        break
    }
  }
  if (problems.length > 0)
    throw new InvalidRpcResponseError(
      dstChainId,
      `eth_getTransactionReceipt(${receipt.transactionHash})`,
      problems,
    )
  return {
    transactionHash: TxHash.make(receipt.transactionHash.toLowerCase()),
    block: new BlockRef({
      number: Uint.make(Number(receipt.blockNumber)),
      hash: Bytes32.make(receipt.blockHash.toLowerCase()),
    }),
    succeeded: receipt.status === "success",
    gasUsed: receipt.gasUsed,
    delivered,
    failed,
    committed,
  }
}
