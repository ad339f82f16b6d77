/**
 * The operator's look at its own RPC for a proposal (issue 11, far-future
 * proposals): what it reads, and that a block its chain has not reached never
 * holds the partition for `finalityWaitMs`.
 */
import { describe, expect, it } from "vitest"
import type { ChainReader, OutboxLaneRef } from "../../chains/index.ts"
import {
  BlockRef,
  ChainHeadRead,
  type ChorusEvent,
  type Envelope,
  OutboxLaneRead,
} from "../../schemas/index.ts"
import { bytes32, proposalOf, TEST_LANE, testCheckpoint } from "../../test/fixtures/checkpoint.ts"
import { quietLogger } from "../runtime/index.ts"
import { makeOutboxObserver } from "./observe-outbox.ts"
import { SignedRoots } from "./signed-roots.ts"

const ME = "0x000000000000000000000000000000000000000a"
const HOUR = 3_600_000
const hashOf = (n: number) => bytes32((n % 256).toString(16).padStart(2, "0"))
const refAt = (n: number) => new BlockRef({ number: n, hash: hashOf(n) })

/**
 * A source chain on the operator's RPC: its latest and finalized blocks (each
 * moved by `onPoll` after a finalized read, if given), counting every call.
 */
const chainOn = (heads: { latest: number; finalized: number; onPoll?: () => void }) => {
  const calls = { finalizedHead: 0, latestHead: 0, outboxLane: 0, header: 0 }
  const reader = {
    chainId: TEST_LANE.srcChainId,
    finality: { tag: "finalized" },
    finalizedHead: async () => {
      calls.finalizedHead++
      const head = refAt(heads.finalized)
      heads.onPoll?.()
      return head
    },
    latestHead: async () => {
      calls.latestHead++
      return refAt(heads.latest)
    },
    outboxLane: async (_lane: OutboxLaneRef, blockNumber: number) => {
      calls.outboxLane++
      return {
        block: refAt(blockNumber),
        root: testCheckpoint().root,
        count: testCheckpoint().count,
        finalized: refAt(heads.finalized),
      }
    },
    header: async (n: number) => {
      calls.header++
      return { ref: refAt(n), timestamp: 0 }
    },
  } as unknown as ChainReader
  return { reader, calls, total: () => Object.values(calls).reduce((a, b) => a + b, 0) }
}

const observerOf = (
  reader: ChainReader,
  options: { finalityWaitMs?: number; maxBlocksAhead?: number } = {},
) =>
  makeOutboxObserver({
    operator: ME,
    chains: [
      { chainId: TEST_LANE.srcChainId, outbox: TEST_LANE.outbox },
      { chainId: TEST_LANE.dstChainId, outbox: TEST_LANE.outbox },
    ],
    readerFor: () => reader,
    finalityWaitMs: options.finalityWaitMs ?? HOUR,
    maxBlocksAhead: options.maxBlocksAhead ?? 64,
    logger: quietLogger({ write: () => true }),
    signal: new AbortController().signal,
    pollIntervalMs: 5,
    rpcFaults: { unreachableAfterMs: 60_000, logEveryMs: 60_000 },
    record: async () => {},
  })

const proposalAt = (block: number, root = testCheckpoint().root): Envelope =>
  proposalOf(testCheckpoint({ root }), refAt(block), new Date("2026-01-01T00:00:00.000Z"))

const tagsOf = (events: ReadonlyArray<ChorusEvent>) => events.map((e) => e._tag)

describe("the operator's own look at its source chain for a proposal", () => {
  it("given its own RPC's latest head at 100 and a proposal for block 1,000,000, when observed with a one-hour finality wait, then it returns at once with its head read and waits for nothing", {
    timeout: 5_000,
  }, async () => {
    // given
    const chain = chainOn({ latest: 100, finalized: 98 })
    const observe = observerOf(chain.reader)
    // when
    const started = Date.now()
    const reads = await observe({ signed: new SignedRoots() }, proposalAt(1_000_000))
    // then: one head read, recorded for the core, no Outbox read, no polling
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(tagsOf(reads)).toEqual(["ChainHeadRead"])
    const head = reads[0] as ChainHeadRead
    expect(head).toBeInstanceOf(ChainHeadRead)
    expect(head.latest).toEqual(refAt(100))
    expect([head.reader, head.chainId, head.lane.dstChainId]).toEqual([
      ME,
      TEST_LANE.srcChainId,
      TEST_LANE.dstChainId,
    ])
    expect(chain.calls.outboxLane).toBe(0)
    expect(chain.calls.finalizedHead).toBeLessThanOrEqual(1)
  })

  it("given a flood of 200 junk proposals for far-future blocks, when observed one after another, then each costs at most one RPC call and none waits", {
    timeout: 5_000,
  }, async () => {
    // given
    const chain = chainOn({ latest: 100, finalized: 98 })
    const observe = observerOf(chain.reader)
    // when
    for (let i = 0; i < 200; i++) {
      const reads = await observe(
        { signed: new SignedRoots() },
        proposalAt(10_000 + i, bytes32((i % 200).toString(16).padStart(2, "0"))),
      )
      expect(tagsOf(reads)).toEqual(["ChainHeadRead"])
    }
    // then
    expect(chain.total()).toBeLessThanOrEqual(200)
    expect(chain.calls.outboxLane).toBe(0)
  })

  it("given a proposal its own RPC has already finalized, when observed, then it reads the Outbox at the block and nothing else", async () => {
    // given an honest proposal: the proposer's block is final on the operator's RPC too
    const chain = chainOn({ latest: 100, finalized: 98 })
    // when
    const reads = await observerOf(chain.reader)({ signed: new SignedRoots() }, proposalAt(90))
    // then
    expect(tagsOf(reads)).toEqual(["OutboxLaneRead"])
    const read = reads[0] as OutboxLaneRead
    expect(read).toBeInstanceOf(OutboxLaneRead)
    expect(read.block).toEqual(refAt(90))
    expect(read.finalized.number).toBeGreaterThanOrEqual(90)
    expect(chain.calls.latestHead).toBe(0)
  })

  it("given a proposal within the margin that its RPC finalizes while it waits, when observed, then it records its head read, then its Outbox read at the block", async () => {
    // given a block 20 past the latest head: its RPC lags the proposer's, and catches up
    const heads = {
      latest: 100,
      finalized: 98,
      onPoll: () => {
        heads.latest += 10
        heads.finalized += 10
      },
    }
    const chain = chainOn(heads)
    // when
    const reads = await observerOf(chain.reader)({ signed: new SignedRoots() }, proposalAt(120))
    // then
    expect(tagsOf(reads)).toEqual(["ChainHeadRead", "OutboxLaneRead"])
    // (its head when it began to wait: the block was not there yet)
    expect((reads[0] as ChainHeadRead).latest.number).toBeLessThan(120)
    expect((reads[1] as OutboxLaneRead).block.number).toBe(120)
  })

  it("given a proposal within the margin that its RPC never finalizes, when its wait is over, then it records only its head read (the core refuses: not-finalized)", async () => {
    const chain = chainOn({ latest: 100, finalized: 98 })
    const reads = await observerOf(chain.reader, { finalityWaitMs: 50 })(
      { signed: new SignedRoots() },
      proposalAt(150),
    )
    expect(tagsOf(reads)).toEqual(["ChainHeadRead"])
    expect(chain.calls.outboxLane).toBe(0)
  })

  it("given a forged proposal within the margin, whose block then appears on its RPC with another hash, when observed with a one-hour finality wait, then it stops waiting as soon as the block exists and records the read that refutes it (the core refuses: block-mismatch)", {
    timeout: 5_000,
  }, async () => {
    // given: the attacker could not know block 110's hash before block 110 existed
    const heads = {
      latest: 100,
      finalized: 98,
      onPoll: () => {
        heads.latest += 5
        heads.finalized += 5
      },
    }
    const chain = chainOn(heads)
    const forged = proposalOf(
      testCheckpoint(),
      new BlockRef({ number: 110, hash: bytes32("fb") }),
      new Date("2026-01-01T00:00:00.000Z"),
    )
    // when
    const reads = await observerOf(chain.reader)({ signed: new SignedRoots() }, forged)
    // then: its head, then its read of block 110 before it was final
    expect(tagsOf(reads)).toEqual(["ChainHeadRead", "OutboxLaneRead"])
    const read = reads[1] as OutboxLaneRead
    expect(read.block).toEqual(refAt(110))
    expect(read.finalized.number).toBeLessThan(110)
  })

  it("given a proposal of a forged root at a block its RPC has but not final yet, when observed with a one-hour finality wait, then its first read refutes it and it waits for nothing", {
    timeout: 5_000,
  }, async () => {
    const chain = chainOn({ latest: 100, finalized: 90 })
    const reads = await observerOf(chain.reader)({ signed: new SignedRoots() }, proposalAt(95, bytes32("de")))
    expect(tagsOf(reads)).toEqual(["ChainHeadRead", "OutboxLaneRead"])
    expect((reads[1] as OutboxLaneRead).root).not.toBe(bytes32("de"))
  })

  it("given a true checkpoint proposed early (its block not final yet), when observed, then the early read that agrees is dropped, and it waits for finality and records only the final read", async () => {
    const heads = {
      latest: 100,
      finalized: 90,
      onPoll: () => {
        heads.finalized += 3
      },
    }
    const chain = chainOn(heads)
    const reads = await observerOf(chain.reader)({ signed: new SignedRoots() }, proposalAt(95))
    expect(tagsOf(reads)).toEqual(["ChainHeadRead", "OutboxLaneRead"])
    expect((reads[1] as OutboxLaneRead).finalized.number).toBeGreaterThanOrEqual(95)
    expect(chain.calls.outboxLane).toBe(2)
  })
})
