import { describe, expect, it } from "vitest"
import { InvalidRpcResponseError, RpcCallError } from "../../chains/evm/errors.ts"
import type { ChainReader } from "../../chains/index.ts"
import {
  BlockRef,
  CheckpointProposed,
  CheckpointResignRequested,
  InboxEpochRead,
  toAddress,
} from "../../schemas/index.ts"
import { bytes32, TEST_LANE, testCheckpoint } from "../../test/fixtures/checkpoint.ts"
import { quietLogger } from "../runtime/index.ts"
import { makeInboxEpochObserver } from "./observe-inbox-epoch.ts"

const ME = toAddress(`0x${"11".repeat(20)}`)
const INBOX = toAddress(`0x${"1b".repeat(20)}`)
const BLOCK = new BlockRef({ number: 40, hash: bytes32("40") })
const proposal = new CheckpointProposed({ checkpoint: testCheckpoint(), previousCount: 0, block: BLOCK })
const resign = (epoch: number) =>
  new CheckpointResignRequested({
    checkpoint: testCheckpoint(),
    previousCount: 0,
    block: BLOCK,
    epoch,
    reason: "the Inbox moved",
  })

/** The destination's RPC: the Inbox's epoch at its latest block, or down as an RPC is. */
const readerOf = (rpc: {
  down: boolean
  garbage?: boolean
  epoch: number
  calls: number
  inbox?: string
}): ChainReader =>
  ({
    chainId: TEST_LANE.dstChainId,
    inbox: (address: string) => ({
      epoch: async () => {
        rpc.calls++
        rpc.inbox = address
        if (rpc.down)
          throw new RpcCallError({
            chainId: TEST_LANE.dstChainId,
            what: "reading the Inbox's epoch",
            urls: ["http://127.0.0.1:1"],
            cause: new Error("connect ECONNREFUSED"),
          })
        if (rpc.garbage)
          throw new InvalidRpcResponseError(TEST_LANE.dstChainId, "eth_call epoch()", ["a bare word"])
        return { block: new BlockRef({ number: 70 + rpc.calls, hash: bytes32("70") }), epoch: rpc.epoch }
      },
    }),
  }) as unknown as ChainReader

const observerOf = (
  rpc: Parameters<typeof readerOf>[0],
  limits: { finalityWaitMs: number; unreachableAfterMs: number },
) =>
  makeInboxEpochObserver({
    operator: ME,
    chains: [{ chainId: TEST_LANE.dstChainId, inbox: INBOX }],
    readerFor: () => readerOf(rpc),
    finalityWaitMs: limits.finalityWaitMs,
    rpcFaults: { unreachableAfterMs: limits.unreachableAfterMs, logEveryMs: 60_000 },
    logger: quietLogger(),
    signal: new AbortController().signal,
    pollIntervalMs: 5,
  })

describe("an operator reading the destination Inbox's epoch before it signs", () => {
  it("records the epoch its own destination RPC shows for a proposal, at its latest block, in one call", async () => {
    const rpc: Parameters<typeof readerOf>[0] = { down: false, epoch: 3, calls: 0 }
    const [read] = await observerOf(rpc, { finalityWaitMs: 5_000, unreachableAfterMs: 5_000 })(proposal)
    expect(read).toBeInstanceOf(InboxEpochRead)
    expect(read).toMatchObject({ reader: ME, epoch: 3, lane: TEST_LANE, block: { number: 71 } })
    expect(rpc.calls).toBe(1)
    expect(rpc.inbox).toBe(INBOX)
  })

  it("given a request naming an epoch its RPC does not show yet, then it waits for it, and records the epoch it read, not the one named", async () => {
    const rpc = { down: false, epoch: 1, calls: 0 }
    setTimeout(() => {
      rpc.epoch = 2
    }, 30)
    const [read] = await observerOf(rpc, { finalityWaitMs: 5_000, unreachableAfterMs: 5_000 })(resign(2))
    expect(read).toMatchObject({ epoch: 2 })
    expect(rpc.calls).toBeGreaterThan(1)
    // A request naming an epoch the Inbox never reaches: what its RPC showed at the deadline.
    const stuck = { down: false, epoch: 1, calls: 0 }
    const [last] = await observerOf(stuck, { finalityWaitMs: 40, unreachableAfterMs: 5_000 })(resign(9))
    expect(last).toMatchObject({ epoch: 1 })
  })

  it("holds the checkpoint while its destination RPC gives no answer, and records the epoch once it answers: a refusal would strand the checkpoint", async () => {
    const rpc: Parameters<typeof readerOf>[0] = { down: true, epoch: 2, calls: 0 }
    setTimeout(() => {
      rpc.down = false
    }, 300)
    const [read] = await observerOf(rpc, { finalityWaitMs: 60_000, unreachableAfterMs: 100 })(proposal)
    expect(read).toMatchObject({ epoch: 2 })
    expect(rpc.calls).toBeGreaterThan(1)
  })

  it("records nothing when its destination RPC answers what does not decode, three times, so the core refuses rpc-invalid", async () => {
    const rpc: Parameters<typeof readerOf>[0] = { down: false, garbage: true, epoch: 2, calls: 0 }
    expect(await observerOf(rpc, { finalityWaitMs: 60_000, unreachableAfterMs: 60_000 })(proposal)).toEqual(
      [],
    )
    expect(rpc.calls).toBe(3)
  })
})
