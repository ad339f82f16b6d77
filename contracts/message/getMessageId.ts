import { encodeAbiParameters, type Hex } from "viem"
import { keccak256 } from "../../crypto/keccak.ts"
import { type ChorusMessage, messageAbiParameter } from "./types.ts"

/**
 * The message id, which is also its Merkle leaf: `keccak256(abi.encode(message))` with the struct encoded as a
 * tuple (a leading offset word, since the struct has a dynamic `body`), exactly as the Outbox computes it.
 *
 * Every service derives the ids of the messages it handles, so the encoding is written here word by word
 * (viem's general encoder was 7% of a replay's CPU). A message this layout cannot take as it is (a field out
 * of its type's range, a checksummed or malformed address, a body that is not even-length hex) goes to viem's
 * encoder, which throws the same errors as before or encodes what it accepts: `message.test.ts` holds both
 * paths to viem's bytes.
 *
 * @example
 * const id = getMessageId(log.args.message) // equals log.args.messageId
 */
export function getMessageId(message: ChorusMessage): Hex {
  return keccak256(encodeWordByWord(message) ?? encodeAbiParameters([messageAbiParameter], [message]))
}

const LOWERCASE_ADDRESS = /^0x[0-9a-f]{40}$/
const EVEN_HEX = /^0x(?:[0-9a-fA-F]{2})*$/
const WORD = 32
/** The offset word, the struct's eight head words, the body's length word. */
const FIXED_BYTES = WORD * 10
const UINT64_MAX = 2n ** 64n - 1n

const isUint = (value: unknown, max: number): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max
const isUint64 = (value: unknown): value is bigint =>
  typeof value === "bigint" && value >= 0n && value <= UINT64_MAX

/** `abi.encode(message)` as bytes, or undefined when the message needs viem's encoder (see above). */
const encodeWordByWord = (message: ChorusMessage): Uint8Array | undefined => {
  const { version, nonce, srcChainId, sender, dstChainId, recipient, gasLimit, body } = message
  if (
    !isUint(version, 0xff) ||
    !isUint(nonce, 0xffff_ffff) ||
    !isUint64(srcChainId) ||
    !isUint64(dstChainId) ||
    !isUint64(gasLimit) ||
    typeof sender !== "string" ||
    typeof recipient !== "string" ||
    typeof body !== "string" ||
    !LOWERCASE_ADDRESS.test(sender) ||
    !LOWERCASE_ADDRESS.test(recipient) ||
    !EVEN_HEX.test(body)
  ) {
    return undefined
  }
  const bodyBytes = (body.length - 2) / 2
  const out = Buffer.alloc(FIXED_BYTES + Math.ceil(bodyBytes / WORD) * WORD)
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  // Each head word is its value right-aligned; the word's last byte is at (index + 1) * 32 - 1.
  const end = (word: number) => (word + 1) * WORD
  view.setUint8(end(0) - 1, WORD) // the tuple starts one word in
  view.setUint8(end(1) - 1, version)
  view.setUint32(end(2) - 4, nonce)
  view.setBigUint64(end(3) - 8, srcChainId)
  out.write(sender.slice(2), end(4) - 20, "hex")
  view.setBigUint64(end(5) - 8, dstChainId)
  out.write(recipient.slice(2), end(6) - 20, "hex")
  view.setBigUint64(end(7) - 8, gasLimit)
  view.setUint16(end(8) - 2, WORD * 8) // the body's offset from the tuple's start: after its eight head words
  view.setUint32(end(9) - 4, bodyBytes)
  out.write(body.slice(2), FIXED_BYTES, "hex")
  return out
}
