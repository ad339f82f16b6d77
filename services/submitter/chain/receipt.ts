/**
 * What an included transaction did, read from its receipt's Inbox logs:
 * each message of the batch was delivered (`MessageDelivered`), failed in its
 * recipient (`MessageFailed`, with the revert bytes), or neither — skipped,
 * because the Inbox had already attempted it; and whether the transaction
 * stored a root (`CheckpointCommitted`).
 *
 * @module
 */
import { type Address, decodeEventLog, type Log } from "viem"
import { inboxAbi } from "../../../contracts/index.ts"
import {
  Bytes32,
  ChainId,
  Checkpoint,
  Hex,
  type MessageId,
  MessageOutcome,
  toAddress,
} from "../../../schemas/index.ts"

export interface ReceiptOutcomes {
  readonly outcomes: ReadonlyArray<MessageOutcome>
  /** The checkpoint the transaction stored, if it emitted `CheckpointCommitted`. */
  readonly committed: Checkpoint | null
}

/**
 * Reads the Inbox logs of a receipt for the batch `messageIds`.
 *
 * @example
 * ```ts
 * const { outcomes, committed } = outcomesOf(receipt.logs, inbox, 902, flight.messageIds)
 * ```
 */
export const outcomesOf = (
  logs: ReadonlyArray<Pick<Log, "address" | "data" | "topics">>,
  inbox: Address,
  dstChainId: number,
  messageIds: ReadonlyArray<MessageId>,
): ReceiptOutcomes => {
  const delivered = new Set<string>()
  const failed = new Map<string, Hex>()
  let committed: Checkpoint | null = null
  for (const log of logs) {
    if (log.address.toLowerCase() !== inbox.toLowerCase()) continue
    let decoded: ReturnType<typeof decodeEventLog<typeof inboxAbi>>
    try {
      decoded = decodeEventLog({ abi: inboxAbi, data: log.data, topics: log.topics as never })
    } catch {
      continue // An Inbox event the submitter has no use for.
    }
    switch (decoded.eventName) {
      case "MessageDelivered":
        delivered.add(decoded.args.messageId.toLowerCase())
        break
      case "MessageFailed":
        failed.set(decoded.args.messageId.toLowerCase(), Hex.make(decoded.args.reason.toLowerCase()))
        break
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
  const outcomes = messageIds.map((messageId) =>
    delivered.has(messageId)
      ? new MessageOutcome({ messageId, result: "delivered", reason: null })
      : failed.has(messageId)
        ? new MessageOutcome({ messageId, result: "failed", reason: failed.get(messageId)! })
        : new MessageOutcome({ messageId, result: "skipped", reason: null }),
  )
  return { outcomes, committed }
}
