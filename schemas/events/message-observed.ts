import { Schema } from "effect"
import { BlockRef } from "../lane.ts"
import { Message } from "../message.ts"
import { Address, MessageId, TxHash, Uint } from "../primitives.ts"

/** A message the chain-watcher read from a finalized Outbox log. */
export class MessageObserved extends Schema.TaggedClass<MessageObserved>()("MessageObserved", {
  message: Message,
  messageId: MessageId,
  outbox: Address,
  block: BlockRef,
  /** Seconds since the epoch, from the block header. */
  blockTimestamp: Uint,
  transactionHash: TxHash,
  logIndex: Uint,
}) {}
