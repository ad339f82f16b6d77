import { describe, expect, it } from "vitest"
import type { ChainReader } from "../../chains/index.ts"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  Checkpoint,
  CheckpointProposed,
  makeEnvelope,
  Producer,
} from "../../schemas/index.ts"
import { quietLogger } from "../runtime/index.ts"
import { makeOutboxObserver } from "./observe-outbox.ts"

const OUTBOX = Address.make("0x00000000000000000000000000000000000a11ce")
const hashOf = (n: number) => Bytes32.make(`0x${n.toString(16).padStart(64, "0")}`)

/** A source chain whose finalized head stays at `head`, counting how often it is asked. */
const chainAt = (head: number) => {
  const polls = { count: 0 }
  const reader = {
    chainId: 901,
    finality: { confirmations: 2 },
    finalizedHead: async () => {
      polls.count++
      return new BlockRef({ number: head, hash: hashOf(head) })
    },
  } as unknown as ChainReader
  return { reader, polls }
}

const proposalAt = (block: number) =>
  makeEnvelope(
    new CheckpointProposed({
      checkpoint: new Checkpoint({
        srcChainId: ChainId.make(901),
        outbox: OUTBOX,
        dstChainId: ChainId.make(902),
        root: hashOf(0xabc),
        count: 1,
      }),
      previousCount: 0,
      block: new BlockRef({ number: block, hash: hashOf(block) }),
    }),
    {
      producer: new Producer({ service: "proof-builder", instance: "x", version: "t" }),
      causationId: null,
      time: new Date(),
    },
  )

describe("the operator's observation of a proposal", () => {
  it("given a proposal far past its own finalized head, when observed, then it refuses at once instead of holding the partition for finalityWaitMs", async () => {
    const { reader, polls } = chainAt(100)
    const observe = makeOutboxObserver({
      operator: "0x000000000000000000000000000000000000000a",
      chains: [
        { chainId: ChainId.make(901), outbox: OUTBOX },
        { chainId: ChainId.make(902), outbox: OUTBOX },
      ],
      readerFor: () => reader,
      finalityWaitMs: 3_600_000,
      maxBlocksAhead: 64,
      logger: quietLogger({ write: () => true }),
      signal: new AbortController().signal,
      pollIntervalMs: 1,
    })
    expect(await observe({ signed: new Map() }, proposalAt(1_000_000))).toEqual([])
    // One look at its head, no wait.
    expect(polls.count).toBe(1)
  })
})
