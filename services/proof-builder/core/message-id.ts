import type { Message } from "../../../schemas/index.ts"
import { messageIdOf } from "../../runtime/contract-message.ts"

/**
 * The id the Outbox and the Inbox compute for a message,
 * `keccak256(abi.encode(message))`, or why it has none (a field outside its
 * Solidity type, such as a gas limit above `uint64`).
 *
 * @example
 * ```ts
 * const computed = computeMessageId(observed.message)
 * if (computed.ok && computed.id === observed.messageId) // the event is consistent
 * ```
 */
export const computeMessageId = (
  message: Message,
): { readonly ok: true; readonly id: string } | { readonly ok: false; readonly reason: string } => {
  try {
    return {
      ok: true,
      id: messageIdOf(message),
    }
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message.split("\n")[0]! : String(error) }
  }
}
