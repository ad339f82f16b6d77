import { encodeAbiParameters, type Hex } from "viem"
import { keccak256 } from "../../crypto/keccak.ts"
import { type ChorusMessage, messageAbiParameter } from "./types.ts"

/**
 * The message id, which is also its Merkle leaf: `keccak256(abi.encode(message))` with the struct encoded as a
 * tuple (a leading offset word, since the struct has a dynamic `body`), exactly as the Outbox computes it.
 *
 * @example
 * const id = getMessageId(log.args.message) // equals log.args.messageId
 */
export function getMessageId(message: ChorusMessage): Hex {
  return keccak256(encodeAbiParameters([messageAbiParameter], [message]))
}
