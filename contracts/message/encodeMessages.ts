import { type Hex, size } from "viem"
import { ChorusError } from "../../errors/index.ts"
import type { ChorusMessage } from "./types.ts"

/** A message that cannot be packed for `Inbox.deliver`. */
export class MessageEncodingError extends ChorusError {
  override readonly name = "MessageEncodingError"
  declare readonly details: { index: number; nonce: number; reason: string }
  constructor(details: { index: number; nonce: number; reason: string }) {
    super(`message ${details.index} (nonce ${details.nonce}) cannot be packed: ${details.reason}`, {
      details,
      hint: "Fix the message: the Inbox takes a one-byte version, a uint64 gasLimit and a body under 4 GiB.",
    })
  }
}

const hexPart = (value: bigint | number, bytes: number) => value.toString(16).padStart(bytes * 2, "0")

/**
 * Packs messages for `Inbox.deliver` / `commitAndDeliver`:
 * `version (1) | sender (20) | recipient (20) | gasLimit (8) | bodyLength (4) | body` per message, concatenated in
 * nonce order. Nonce and chain ids are not sent: the Inbox derives them from the range and the lane.
 *
 * @example
 * const packed = encodeMessages(messages.slice(0, 64))
 */
export function encodeMessages(messages: readonly ChorusMessage[]): Hex {
  let out = "0x"
  messages.forEach((m, index) => {
    const fail = (reason: string) => new MessageEncodingError({ index, nonce: m.nonce, reason })
    if (m.version < 0 || m.version > 255) throw fail(`version ${m.version} does not fit a byte`)
    if (m.gasLimit < 0n || m.gasLimit >= 2n ** 64n) throw fail(`gasLimit ${m.gasLimit} does not fit uint64`)
    const bodySize = size(m.body)
    if (bodySize >= 2 ** 32) throw fail("body larger than 4 GiB")
    out +=
      hexPart(m.version, 1) +
      m.sender.slice(2).toLowerCase() +
      m.recipient.slice(2).toLowerCase() +
      hexPart(m.gasLimit, 8) +
      hexPart(bodySize, 4) +
      m.body.slice(2)
  })
  return out as Hex
}
