import { describe, expect, it } from "vitest"
import { Address } from "../../schemas/index.ts"
import { InvalidRpcResponseError } from "./errors.ts"
import { fakeReader, makeFakeChain } from "./testing/fake-rpc.ts"

const OUTBOX = "0x00000000000000000000000000000000000a11ce" as const
const OTHER_OUTBOX = "0x00000000000000000000000000000000000b0b00" as const
const ROOT = `0x${"ab".repeat(32)}` as const

const chainAnswering = (answer: { srcChainId?: number; outbox?: `0x${string}`; dstChainId?: number }) => {
  const chain = makeFakeChain({ chainId: 901, outbox: OUTBOX, blocks: 20, sends: [] })
  chain.latestCheckpoint = {
    srcChainId: answer.srcChainId ?? 901,
    outbox: answer.outbox ?? OUTBOX,
    dstChainId: answer.dstChainId ?? 902,
    root: ROOT,
    count: 7,
  }
  return chain
}

describe("reading an Outbox lane", () => {
  it("given an honest RPC, when lane 901→902 is read at a block, then root and count are the Outbox's, with the block's header", async () => {
    const chain = chainAnswering({})
    const state = await fakeReader(chain, { confirmations: 2 }).outboxLane(
      { outbox: Address.make(OUTBOX), dstChainId: 902 },
      10,
    )
    expect(state).toMatchObject({ root: ROOT, count: 7, block: { number: 10, hash: chain.hashes.get(10) } })
    expect(state.finalized?.number).toBe(18)
  })

  it.each([
    ["another Outbox", { outbox: OTHER_OUTBOX }, /outbox is 0x00000000000000000000000000000000000b0b00/],
    ["another destination", { dstChainId: 903 }, /dstChainId is 903, expected 902/],
    ["another source chain", { srcChainId: 999 }, /srcChainId is 999, expected 901/],
  ])(
    "given an RPC that answers with %s's checkpoint, when the lane is read, then the answer is refused",
    async (_what, answer, reason) => {
      const reading = fakeReader(chainAnswering(answer), { confirmations: 2 }).outboxLane(
        { outbox: Address.make(OUTBOX), dstChainId: 902 },
        10,
      )
      await expect(reading).rejects.toBeInstanceOf(InvalidRpcResponseError)
      await expect(reading).rejects.toThrow(reason)
    },
  )
})
