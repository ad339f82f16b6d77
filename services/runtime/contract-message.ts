/**
 * The message between its two forms: as viem decodes it from a `MessageSent`
 * log (bigints, checksummed addresses) and as Chorus events carry it
 * (safe integers, lowercase hex, uint256 as decimal strings).
 *
 * @module
 */
import { type ChorusMessage, getMessageId } from "../../contracts/index.ts"
import { ChainId, Hex, Message, toAddress, U256 } from "../../schemas/index.ts"

/**
 * `keccak256(abi.encode(message))` of a message in its event form.
 *
 * @example
 * ```ts
 * messageIdOf(observed.message) === observed.messageId // true for every message the watcher emits
 * ```
 */
export const messageIdOf = (message: Message): `0x${string}` => getMessageId(toChorusMessage(message))

/**
 * The ABI form of an event-form message, for hashing and encoding.
 *
 * @example
 * ```ts
 * getMessageId(toChorusMessage(message))
 * ```
 */
export const toChorusMessage = (message: Message): ChorusMessage => ({
  version: message.version,
  nonce: message.nonce,
  srcChainId: BigInt(message.srcChainId),
  sender: message.sender as `0x${string}`,
  dstChainId: BigInt(message.dstChainId),
  recipient: message.recipient as `0x${string}`,
  gasLimit: BigInt(message.gasLimit),
  body: message.body as `0x${string}`,
})

/**
 * The event form of a message decoded from a log. Throws (a schema error
 * naming the field) if a value does not fit, e.g. a chain id past 2^53.
 *
 * @example
 * ```ts
 * const message = fromChorusMessage(decoded.args.message)
 * ```
 */
export const fromChorusMessage = (message: ChorusMessage): Message => {
  const chainId = (value: bigint, field: string) => {
    if (value <= 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`message.${field} ${value} is not a positive safe integer`)
    }
    return ChainId.make(Number(value))
  }
  return new Message({
    version: message.version,
    nonce: message.nonce,
    srcChainId: chainId(message.srcChainId, "srcChainId"),
    sender: toAddress(message.sender),
    dstChainId: chainId(message.dstChainId, "dstChainId"),
    recipient: toAddress(message.recipient),
    gasLimit: U256.make(message.gasLimit.toString()),
    body: Hex.make(message.body.toLowerCase()),
  })
}
