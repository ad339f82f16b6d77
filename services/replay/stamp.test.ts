// A replay's stamping must give the record production gives the same output: for events a core really
// outputs (a proof-builder's proposal and proofs, a rejection) and for facts read from chains.
import type { Hex } from "viem"
import { describe, expect, it } from "vitest"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  type ChorusEvent,
  canonicalJson,
  decodeRecord,
  type Envelope,
  HEADERS,
  MessageId,
  MessageObserved,
  makeEnvelope,
  OutboxLaneRead,
  TxHash,
  WatcherCursor,
} from "../../schemas/index.ts"
import { testMessage } from "../../test/fixtures/message.ts"
import { topicFor } from "../../topology/index.ts"
import { decodeConfig } from "../config/index.ts"
import { PROOF_BUILDER_READER, proofBuilderCoreFor } from "../proof-builder/index.ts"
import { createMerkleTree, getRoot } from "../proof-builder/merkle/index.ts"
import { messageIdOf, producerOf } from "../runtime/index.ts"
import { stamper } from "./stamp.ts"

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

describe("stamping a replay's outputs", () => {
  const outputs = coreOutputs()

  it("given a core's outputs, then the core made proposals, proofs and a rejection", () => {
    expect(new Set(outputs.map((o) => o.event._tag))).toEqual(
      new Set(["CheckpointProposed", "MessageProven", "MessageRejected"]),
    )
  })

  it("given each output and facts read from chains, when stamped, then its record decodes to it, under production's id, its payload in canonical order", () => {
    const stamp = stamper(builder)
    for (const { input, event } of outputs) {
      const made = stamp(input, event)
      const production = makeEnvelope(event, {
        producer: builder,
        causationId: input.id,
        time: new Date(input.time),
      })
      const decoded = decodeRecord(made)
      if (!decoded.ok) throw decoded.error
      expect(decoded.value.id).toBe(production.id)
      expect(decoded.value.time).toBe(input.time)
      expect(decoded.value.event).toEqual(event)
      expect(made.topic).toBe(topicFor(event._tag))
      expect(made.headers[HEADERS.causationId]).toBe(input.id)
      const payload = JSON.parse(Buffer.from(made.value).toString()).payload
      // A consumer re-derives the id from this payload: in canonical order, the engine writes it for that.
      expect(JSON.stringify(payload)).toBe(canonicalJson(payload))
    }
  })
})
