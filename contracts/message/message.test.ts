import { encodeAbiParameters, keccak256, size, slice, toHex } from "viem"
import { describe, expect, it } from "vitest"
import { type ChorusMessage, encodeMessages, getMessageId, MessageEncodingError } from "./index.ts"

const message: ChorusMessage = {
  version: 1,
  nonce: 7,
  srcChainId: 901n,
  sender: "0x000000000000000000000000000000000000bEEF",
  dstChainId: 902n,
  recipient: "0x000000000000000000000000000000000000dEaD",
  gasLimit: 100_000n,
  body: toHex("hello"),
}

describe("getMessageId", () => {
  it("is keccak256 of the tuple encoding (leading offset word), as Solidity's abi.encode(struct)", () => {
    const encoded = encodeAbiParameters(
      [
        {
          type: "tuple",
          components: [
            { type: "uint8" },
            { type: "uint32" },
            { type: "uint64" },
            { type: "address" },
            { type: "uint64" },
            { type: "address" },
            { type: "uint64" },
            { type: "bytes" },
          ],
        },
      ],
      [[1, 7, 901n, message.sender, 902n, message.recipient, 100_000n, message.body]],
    )
    expect(slice(encoded, 0, 32)).toBe(`0x${"20".padStart(64, "0")}`)
    expect(getMessageId(message)).toBe(keccak256(encoded))
    expect(getMessageId({ ...message, nonce: 8 })).not.toBe(getMessageId(message))
  })
})

describe("encodeMessages", () => {
  it("packs version | sender | recipient | gasLimit | bodyLength | body, in order", () => {
    const packed = encodeMessages([message, { ...message, nonce: 8, body: "0x" }])
    expect(size(packed)).toBe(53 + 5 + 53)
    expect(slice(packed, 0, 1)).toBe("0x01")
    expect(slice(packed, 1, 21)).toBe(message.sender.toLowerCase())
    expect(slice(packed, 21, 41)).toBe(message.recipient.toLowerCase())
    expect(BigInt(slice(packed, 41, 49))).toBe(100_000n)
    expect(Number(slice(packed, 49, 53))).toBe(5)
    expect(slice(packed, 53, 58)).toBe(message.body)
    expect(Number(slice(packed, 58 + 49, 58 + 53))).toBe(0)
    expect(encodeMessages([])).toBe("0x")
  })

  it("refuses fields that do not fit", () => {
    expect(() => encodeMessages([{ ...message, gasLimit: 2n ** 64n }])).toThrow(MessageEncodingError)
    expect(() => encodeMessages([{ ...message, version: 256 }])).toThrow(MessageEncodingError)
  })
})
