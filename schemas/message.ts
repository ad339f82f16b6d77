/**
 * The cross-rollup message, exactly as the Outbox emits it and the Inbox
 * hashes it: `messageId = keccak256(abi.encode(message))`.
 *
 * @module
 */
import { Schema } from "effect"
import { Address, ChainId, Hex, U256, Uint } from "./primitives.ts"

export class Message extends Schema.Class<Message>("Message")({
  version: Schema.Number.check(
    Schema.makeFilter<number>((n) => (Number.isInteger(n) && n >= 0 && n <= 255) || "expected a uint8"),
  ),
  /** The message's leaf index in its lane's tree. */
  nonce: Uint,
  srcChainId: ChainId,
  sender: Address,
  dstChainId: ChainId,
  recipient: Address,
  gasLimit: U256,
  body: Hex,
}) {}
