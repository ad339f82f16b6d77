import type { Address, Hex } from "viem"

/**
 * A Chorus message, as emitted by `Outbox.MessageSent` (viem decodes the event's `message` to this shape).
 * `nonce` is the leaf index in the lane's tree; the message id is `keccak256(abi.encode(message))`.
 */
export type ChorusMessage = {
  version: number
  nonce: number
  srcChainId: bigint
  sender: Address
  dstChainId: bigint
  recipient: Address
  gasLimit: bigint
  body: Hex
}

/** The Solidity `Message` struct as an ABI parameter, for encoding and decoding. */
export const messageAbiParameter = {
  type: "tuple",
  components: [
    { name: "version", type: "uint8" },
    { name: "nonce", type: "uint32" },
    { name: "srcChainId", type: "uint64" },
    { name: "sender", type: "address" },
    { name: "dstChainId", type: "uint64" },
    { name: "recipient", type: "address" },
    { name: "gasLimit", type: "uint64" },
    { name: "body", type: "bytes" },
  ],
} as const

/** Current message wire version (Solidity `MESSAGE_VERSION`). */
export const MESSAGE_VERSION = 1
