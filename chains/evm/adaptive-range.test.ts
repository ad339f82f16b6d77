import {
  ExecutionRevertedError,
  HttpRequestError,
  InvalidParamsRpcError,
  LimitExceededRpcError,
  RpcRequestError,
} from "viem"
import { describe, expect, it } from "vitest"
import { ChainId, toAddress } from "../../schemas/index.ts"
import { getLogsAdaptive, makeRangeSizer } from "./adaptive-range.ts"
import { LogRangeExhaustedError } from "./errors.ts"
import { readOutboxRange } from "./outbox-logs.ts"
import { isRangeLimitError } from "./range-limit.ts"
import { fakeClient, makeFakeChain, rpcError } from "./testing/fake-rpc.ts"

const OUTBOX = "0x00000000000000000000000000000000000a11ce" as const

describe("isRangeLimitError", () => {
  it.each([
    [
      "Infura/Alchemy result limit",
      new LimitExceededRpcError(new Error("query returned more than 10000 results")),
    ],
    ["a block range cap", new InvalidParamsRpcError(new Error("block range is too wide"))],
    [
      "a maximum block range",
      new RpcRequestError({
        body: {},
        url: "x",
        error: { code: -32000, message: "exceed maximum block range: 5000" },
      }),
    ],
    [
      "a response size cap",
      new RpcRequestError({
        body: {},
        url: "x",
        error: {
          code: -32000,
          message:
            "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range",
        },
      }),
    ],
    ["too many results", new Error("too many logs, narrow your query")],
    ["a bare -32005", Object.assign(new Error("something"), { code: -32005 })],
    [
      "an HTTP error body",
      new HttpRequestError({
        url: "x",
        status: 400,
        details: "ranges over 10000 blocks are not supported: range too large",
      }),
    ],
  ])("recognises %s", (_, error) => {
    expect(isRangeLimitError(error)).toBe(true)
  })

  it.each([
    ["a revert", new ExecutionRevertedError({ message: "execution reverted: more than allowed" })],
    [
      "other invalid params",
      new InvalidParamsRpcError(new Error("invalid argument 0: hex string has leading zero digits")),
    ],
    ["a rate limit", new LimitExceededRpcError(new Error("Too many requests, rate limit exceeded"))],
    ["a network failure", new HttpRequestError({ url: "x", details: "fetch failed" })],
  ])("does not take %s for a range limit", (_, error) => {
    expect(isRangeLimitError(error)).toBe(false)
  })
})

describe("getLogsAdaptive", () => {
  const tooMany = () => new LimitExceededRpcError(new Error("query returned more than 10000 results"))

  it("halves on range errors until the RPC answers, then grows by a quarter per full-size success, up to the max", async () => {
    const sizer = makeRangeSizer({ initial: 800, max: 160 })
    expect(sizer.size()).toBe(160)
    const requests: Array<[number, number]> = []
    const getLogs = async (from: number, to: number) => {
      requests.push([from, to])
      if (to - from + 1 > 50) throw tooMany()
      return [from]
    }

    const first = await getLogsAdaptive({ from: 1_000, upTo: 100_000, sizer, getLogs })

    expect(requests).toEqual([
      [1_000, 1_159],
      [1_000, 1_079],
      [1_000, 1_039],
    ])
    expect(first).toEqual({ logs: [1_000], toBlock: 1_039, shrinks: 2 })
    expect(sizer.size()).toBe(50)

    const sizes: number[] = []
    for (let from = 2_000, i = 0; i < 3; i++) {
      const { toBlock } = await getLogsAdaptive({ from, upTo: 100_000, sizer, getLogs: async () => [] })
      sizes.push(toBlock - from + 1)
      from = toBlock + 1
    }
    expect(sizes).toEqual([50, 63, 79])
    for (let i = 0; i < 10; i++) sizer.grow(sizer.size())
    expect(sizer.size()).toBe(160)
  })

  it("does not grow on a range cut short by the head", async () => {
    const sizer = makeRangeSizer({ initial: 100, max: 1_000 })
    await getLogsAdaptive({ from: 10, upTo: 12, sizer, getLogs: async () => [] })
    expect(sizer.size()).toBe(100)
  })

  it("gives up at once on other errors, without halving", async () => {
    const sizer = makeRangeSizer({ initial: 100, max: 1_000 })
    let calls = 0
    const refusal = new InvalidParamsRpcError(new Error("invalid argument 0: hex string without 0x prefix"))
    await expect(
      getLogsAdaptive({
        from: 0,
        upTo: 1_000,
        sizer,
        getLogs: async () => {
          calls += 1
          throw refusal
        },
      }),
    ).rejects.toBe(refusal)
    expect(calls).toBe(1)
    expect(sizer.size()).toBe(100)
  })

  it("fails with LogRangeExhaustedError when even one block is refused", async () => {
    const sizer = makeRangeSizer({ initial: 4, max: 4 })
    const error = await getLogsAdaptive({
      from: 7,
      upTo: 100,
      sizer,
      getLogs: async () => {
        throw tooMany()
      },
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LogRangeExhaustedError)
    expect((error as LogRangeExhaustedError).block).toBe(7)
    expect((error as Error).message).toMatch(/refused block 7 alone/)
  })
})

describe("readOutboxRange over a fake RPC that caps eth_getLogs", () => {
  it("halves through viem's error mapping, reads every message once, and grows again", async () => {
    const chain = makeFakeChain({
      chainId: 901,
      outbox: OUTBOX,
      blocks: 400,
      sends: [{ block: 3 }, { block: 3 }, { block: 60 }, { block: 61, dstChainId: 903 }, { block: 300 }],
    })
    const refused: Array<[number, number]> = []
    const client = fakeClient(chain, {
      getLogs: ({ fromBlock, toBlock }, logs) => {
        if (toBlock - fromBlock + 1 > 64) {
          refused.push([fromBlock, toBlock])
          throw rpcError(-32602, `block range too large: ${toBlock - fromBlock + 1} > 64`)
        }
        return logs
      },
    })
    const sizer = makeRangeSizer({ initial: 200, max: 200 })
    const request = { chainId: ChainId.make(901), outbox: toAddress(OUTBOX), sizer, head: 400 }

    const first = await readOutboxRange(client, { ...request, cursor: null, fromBlock: 0 })

    expect(refused).toEqual([
      [0, 199],
      [0, 99],
    ])
    expect(first.fromBlock).toBe(0)
    expect(first.to.number).toBe(49)
    expect(first.cursorCheck).toBeNull()
    expect(first.blocks.map((b) => [b.block.number, b.logs.length])).toEqual([[3, 2]])
    expect(sizer.size()).toBe(63)

    const second = await readOutboxRange(client, { ...request, cursor: first.to, fromBlock: 50 })
    expect(second.cursorCheck).toEqual(first.to)
    expect(second.to.number).toBe(112)
    expect(
      second.blocks.flatMap((b) =>
        b.logs.map((l) => [b.block.number, l.message.dstChainId, l.message.nonce]),
      ),
    ).toEqual([
      [60, 902, 2],
      [61, 903, 0],
    ])
    expect(second.blocks[0]!.block.hash).toBe(chain.hashes.get(60))
    expect(second.blocks[0]!.timestamp).toBe(1_700_000_060)
    expect(sizer.size()).toBe(79)
  })
})
