import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Message } from "../message.ts"
import { Bytes32, MessageId, Uint } from "../primitives.ts"

/**
 * A proof for consecutive messages `[start, start + messages.length)` of a
 * lane against a checkpoint root: a range proof for a chunk, or a single
 * proof (one message, for retries).
 */
export class MessageProven extends Schema.TaggedClass<MessageProven>()("MessageProven", {
  checkpoint: Checkpoint,
  kind: Schema.Literals(["range", "single"]),
  start: Uint,
  messages: Schema.Array(Message),
  messageIds: Schema.Array(MessageId),
  /** Siblings as the Inbox expects them for `kind` (see docs/contracts.md). */
  proof: Schema.Array(Bytes32),
}) {}
