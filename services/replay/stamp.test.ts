// The one-pass stamping a replay uses must give, byte for byte, the record the codec gives for the envelope
// the runtime stamps: for events a core really outputs (a proof-builder's proposal and proofs, a rejection)
// and for facts read from chains, and its canonical JSON must be `canonicalJson`'s for every JSON value.
import fc from "fast-check"
import type { Hex } from "viem"
import { describe, expect, it } from "vitest"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  type ChorusEvent,
  canonicalJson,
  type Envelope,
  MessageId,
  MessageObserved,
  makeEnvelope,
  OutboxLaneRead,
  TxHash,
  WatcherCursor,
} from "../../schemas/index.ts"
import { testMessage } from "../../test/fixtures/message.ts"
import { decodeConfig } from "../config/index.ts"
import { PROOF_BUILDER_READER, proofBuilderCoreFor } from "../proof-builder/index.ts"
import { createMerkleTree, getRoot } from "../proof-builder/merkle/index.ts"
import { messageIdOf, producerOf, stampOutputs } from "../runtime/index.ts"
import { canonicalJsonText, encodeOutput, stampEncoded, stamper } from "./stamp.ts"

const OUTBOX = Address.make("0x00000000000000000000000000000000000a11ce")
const hashOf = (n: number) => Bytes32.make(`0x${n.toString(16).padStart(64, "0")}`)
const config = decodeConfig({
  network: { registryChainId: 901, registry: "0x00000000000000000000000000000000000000aa" },
  chains: [901, 902].map((chainId) => ({
    chainId,
    rpcUrls: ["http://127.0.0.1:1"],
    outbox: OUTBOX,
    inbox: "0x00000000000000000000000000000000000000bb",
  })),
  proofBuilder: { chunkSize: 2 },
})
const watcher = producerOf("chain-watcher", "901")
const builder = producerOf("proof-builder", "proof-builder")

const observe = (nonce: number, block: number, body = `m${nonce}`) => {
  const message = testMessage({ nonce, body })
  return new MessageObserved({
    message,
    messageId: MessageId.make(messageIdOf(message)),
    outbox: OUTBOX,
    block: new BlockRef({ number: block, hash: hashOf(block) }),
    blockTimestamp: 1_700_000_000 + block,
    transactionHash: TxHash.make(hashOf(5_000 + nonce)),
    logIndex: nonce,
  })
}
const laneRead = (held: ReadonlyArray<MessageObserved>, block: number) =>
  new OutboxLaneRead({
    reader: PROOF_BUILDER_READER,
    srcChainId: ChainId.make(901),
    outbox: OUTBOX,
    dstChainId: ChainId.make(902),
    block: new BlockRef({ number: block, hash: hashOf(block) }),
    finalized: new BlockRef({ number: block + 2, hash: hashOf(block + 2) }),
    root: Bytes32.make(getRoot(createMerkleTree(held.map((m) => m.messageId as Hex)))),
    count: held.length,
  })

/** Inputs and the events the proof-builder's core outputs for them: proposals, proofs and a rejection. */
const coreOutputs = (): Array<{ input: Envelope; event: ChorusEvent }> => {
  const core = proofBuilderCoreFor(config)
  const messages = [observe(0, 10), observe(1, 10), observe(2, 11)]
  const forged = observe(3, 11, "not what the chain holds")
  let state = core.initial
  const out: Array<{ input: Envelope; event: ChorusEvent }> = []
  for (const [i, observed] of [...messages, forged].entries()) {
    const input = makeEnvelope(observed, {
      producer: watcher,
      causationId: null,
      time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    })
    const held = messages.filter((m) => m.block.number <= observed.block.number)
    const read = makeEnvelope(laneRead(held, observed.block.number), {
      producer: builder,
      causationId: input.id,
      time: new Date(input.time),
    })
    const decision = core.decide(state, input, [read])
    state = decision.state
    for (const event of decision.outputs) out.push({ input, event })
  }
  return out
}

describe("stamping in one pass", () => {
  const outputs = coreOutputs()

  it("given a core's outputs, then the core made proposals, proofs and a rejection", () => {
    expect(new Set(outputs.map((o) => o.event._tag))).toEqual(
      new Set(["CheckpointProposed", "MessageProven", "MessageRejected"]),
    )
  })

  it("given each output, when stamped in one pass, then its record is the codec's, byte for byte", () => {
    for (const { input, event } of outputs) {
      const expected = encodeOutput(stampOutputs(builder, input, [event])[0]!)
      const made = stampEncoded(builder, input, event)
      expect(made.topic).toBe(expected.topic)
      expect(made.key).toBe(expected.key)
      expect(Object.entries(made.headers)).toEqual(Object.entries(expected.headers))
      expect(Buffer.from(made.value).toString()).toBe(Buffer.from(expected.value).toString())
    }
  })

  it("given facts read from chains and a cursor, when stamped, then their records are the codec's", () => {
    const input = makeEnvelope(observe(7, 20), { producer: watcher, causationId: null, time: new Date(0) })
    const events: ChorusEvent[] = [
      observe(8, 21),
      laneRead([observe(0, 1)], 22),
      new WatcherCursor({ chainId: ChainId.make(901), block: new BlockRef({ number: 9, hash: hashOf(9) }) }),
    ]
    const stamp = stamper(watcher)
    for (const event of events) {
      const expected = encodeOutput(stampOutputs(watcher, input, [event])[0]!)
      for (const made of [stampEncoded(watcher, input, event), stamp(input, event), stamp(input, event)]) {
        expect(Buffer.from(made.value).toString()).toBe(Buffer.from(expected.value).toString())
        expect(made.headers).toEqual(expected.headers)
        expect(made.key).toBe(expected.key)
      }
    }
  })

  it("given any JSON value, then its canonical text is canonicalJson's", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJsonText(value)).toBe(canonicalJson(value))
      }),
      { numRuns: 2000 },
    )
    expect(canonicalJsonText({ b: undefined, a: -0, "": [1.5e300, "é\u2028"] })).toBe(
      canonicalJson({ b: undefined, a: -0, "": [1.5e300, "é\u2028"] }),
    )
  })

  it("refuses what canonicalJson refuses", () => {
    for (const value of [{ a: 1n }, Number.NaN, [Number.POSITIVE_INFINITY], undefined, () => 1]) {
      expect(() => canonicalJson(value)).toThrow(TypeError)
      expect(() => canonicalJsonText(value)).toThrow(TypeError)
    }
  })
})
