import { toHex } from "viem"
import { describe, expect, it } from "vitest"
import { createMerkleTree, getRangeProof } from "../../services/proof-builder/merkle/index.ts"
import { type ChorusMessage, encodeMessages, getMessageId } from "../message/index.ts"
import { buildDeliverArgs, DeliveryRangeError } from "./index.ts"

const outbox = "0x00000000000000000000000000000000000a11cE" as const
const messages: ChorusMessage[] = Array.from({ length: 6 }, (_, nonce) => ({
  version: 1,
  nonce,
  srcChainId: 901n,
  sender: "0x000000000000000000000000000000000000bEEF",
  dstChainId: 902n,
  recipient: "0x000000000000000000000000000000000000dEaD",
  gasLimit: 50_000n,
  body: toHex(`m${nonce}`),
}))
const tree = createMerkleTree(messages.map(getMessageId))

describe("buildDeliverArgs", () => {
  it("lays out deliver's arguments from the range and its proof", () => {
    const proof = getRangeProof(tree, { start: 2, end: 5 })
    expect(buildDeliverArgs({ outbox, messages: messages.slice(2, 5), proof })).toEqual([
      901n,
      outbox,
      902n,
      proof.root,
      2,
      encodeMessages(messages.slice(2, 5)),
      proof.siblings,
    ])
  })

  it("refuses gaps, mixed lanes, empty input and a proof of another range", () => {
    const proof = getRangeProof(tree, { start: 2, end: 5 })
    expect(() => buildDeliverArgs({ outbox, messages: [], proof })).toThrow(DeliveryRangeError)
    expect(() => buildDeliverArgs({ outbox, messages: [messages[2]!, messages[4]!], proof })).toThrow(
      /breaks the run/,
    )
    const mixed = [messages[2]!, { ...messages[3]!, dstChainId: 903n }, messages[4]!]
    expect(() => buildDeliverArgs({ outbox, messages: mixed, proof })).toThrow(/another lane/)
    expect(() => buildDeliverArgs({ outbox, messages: messages.slice(1, 4), proof })).toThrow(/proof covers/)
  })
})
