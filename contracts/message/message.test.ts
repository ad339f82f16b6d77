import { encodeAbiParameters, keccak256, size, slice, toHex } from "viem"
import { describe, expect, it } from "vitest"
import { keccak256 as chorusKeccak } from "../../crypto/keccak.ts"
import {
  type ChorusMessage,
  encodeMessages,
  getMessageId,
  MessageEncodingError,
  messageAbiParameter,
} from "./index.ts"

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

describe("getMessageId, word by word", () => {
  // What getMessageId was before it wrote the words itself: viem's encoder, then this project's keccak.
  const viemId = (m: ChorusMessage) => chorusKeccak(encodeAbiParameters([messageAbiParameter], [m]))
  const lower: ChorusMessage = {
    ...message,
    sender: message.sender.toLowerCase() as `0x${string}`,
    recipient: message.recipient.toLowerCase() as `0x${string}`,
  }

  it("gives viem's id for every layout it writes itself: bodies of 0 to 97 bytes, every field at its bounds", () => {
    const bodies = [0, 1, 31, 32, 33, 64, 97].map((n) =>
      toHex(new Uint8Array(n).map((_, i) => (i * 37 + n) % 256)),
    )
    const cases: ChorusMessage[] = [
      ...bodies.map((body) => ({ ...lower, body })),
      { ...lower, body: "0xABcdEF" },
      { ...lower, version: 0, nonce: 0, srcChainId: 0n, dstChainId: 0n, gasLimit: 0n },
      {
        ...lower,
        version: 255,
        nonce: 2 ** 32 - 1,
        srcChainId: 2n ** 64n - 1n,
        dstChainId: 2n ** 64n - 1n,
        gasLimit: 2n ** 64n - 1n,
      },
      {
        ...lower,
        sender: "0xffffffffffffffffffffffffffffffffffffffff",
        recipient: "0x0000000000000000000000000000000000000000",
      },
    ]
    for (const m of cases)
      expect(
        getMessageId(m),
        JSON.stringify(m, (_, v) => (typeof v === "bigint" ? `${v}n` : v)),
      ).toBe(viemId(m))
  })

  it("leaves to viem what it does not write itself: checksummed addresses are hashed as viem hashes them", () => {
    expect(getMessageId(message)).toBe(viemId(message))
    expect(getMessageId(message)).toBe(getMessageId(lower))
  })

  it("refuses what viem refuses, with viem's error: out-of-range fields, a bad checksum, odd or non-hex bodies", () => {
    const bad: ChorusMessage[] = [
      { ...lower, version: 256 },
      { ...lower, version: 1.5 },
      { ...lower, nonce: 2 ** 32 },
      { ...lower, nonce: -1 },
      { ...lower, srcChainId: 2n ** 64n },
      { ...lower, gasLimit: -1n },
      { ...lower, sender: "0x000000000000000000000000000000000000BEEF" as `0x${string}` },
      { ...lower, recipient: "0x1234" as `0x${string}` },
      { ...lower, body: "0x123" as `0x${string}` },
      { ...lower, body: "0xzz" as `0x${string}` },
    ]
    for (const m of bad) {
      let viemError: unknown
      try {
        viemId(m)
      } catch (error) {
        viemError = error
      }
      if (viemError === undefined) expect(getMessageId(m)).toBe(viemId(m))
      else expect(() => getMessageId(m)).toThrow((viemError as Error).constructor as new () => Error)
    }
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
