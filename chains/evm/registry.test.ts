import { custom, decodeFunctionData, encodeFunctionResult, type Hex } from "viem"
import { describe, expect, it } from "vitest"
import { operatorRegistryAbi } from "../../contracts/index.ts"
import { Address, BlockRef, Bytes32 } from "../../schemas/index.ts"
import { makeEvmClient } from "./client.ts"
import { InvalidRpcResponseError } from "./errors.ts"
import { makeRegistryReader } from "./registry.ts"

const CHAIN_ID = 901
const REGISTRY = Address.make(`0x${"11".repeat(20)}`)
const BLOCK = new BlockRef({ number: 7, hash: Bytes32.make(`0x${"07".repeat(32)}`) })
const A = `0x${"0a".repeat(20)}` as const
const B = `0x${"0b".repeat(20)}` as const

interface Answer {
  readonly operators: ReadonlyArray<`0x${string}`>
  readonly weights: ReadonlyArray<bigint>
  readonly thresholdBps: number
  readonly epoch: bigint
}

/** A registry whose RPC answers `answer`, each call at the block it was asked for. */
const readerAnswering = (answer: Answer, blocks: string[] = []) =>
  makeRegistryReader(
    makeEvmClient({
      chainId: CHAIN_ID,
      rpcUrls: ["http://registry.test"],
      retryCount: 0,
      transports: [
        custom({
          request: async ({ method, params }: { method: string; params: unknown[] }) => {
            if (method === "eth_chainId") return `0x${CHAIN_ID.toString(16)}`
            if (method !== "eth_call") throw new Error(`unexpected ${method}`)
            const [call, block] = params as [{ data: Hex }, string]
            blocks.push(block)
            const { functionName } = decodeFunctionData({ abi: operatorRegistryAbi, data: call.data })
            const result =
              functionName === "operators"
                ? [answer.operators, answer.weights]
                : functionName === "thresholdBps"
                  ? answer.thresholdBps
                  : answer.epoch
            return encodeFunctionResult({ abi: operatorRegistryAbi, functionName, result } as never)
          },
        }),
      ],
    }),
    REGISTRY,
  )

const honest: Answer = { operators: [A, B], weights: [1n, 2n], thresholdBps: 6667, epoch: 3n }

describe("the registry reader", () => {
  it("given a set the registry could hold, then it is read whole at the block asked for", async () => {
    const blocks: string[] = []
    const set = await readerAnswering(honest, blocks).operatorSet(BLOCK)
    expect(set).toMatchObject({ epoch: 3, thresholdBps: 6667 })
    expect(set.operators.map((o) => [o.address, o.weight])).toEqual([
      [A, "1"],
      [B, "2"],
    ])
    expect(blocks).toEqual(["0x7", "0x7", "0x7"])
  })

  it.each([
    ["operators out of order", { operators: [B, A] }, "operator 1 is not above operator 0"],
    ["an operator twice", { operators: [A, A] }, "operator 1 is not above operator 0"],
    ["a zero weight", { weights: [1n, 0n] }, "an operator has weight 0"],
    ["no operator", { operators: [], weights: [] }, "0 operators"],
    ["more weights than operators", { weights: [1n, 2n, 3n] }, "2 operators but 3 weights"],
    ["a threshold of 0", { thresholdBps: 0 }, "threshold 0 bps"],
    ["a threshold above 100%", { thresholdBps: 10_001 }, "threshold 10001 bps"],
    ["epoch 0", { epoch: 0n }, "epoch 0"],
    ["an epoch past 2^53", { epoch: 2n ** 60n }, `epoch ${2n ** 60n}`],
  ])(
    "given an RPC that answers %s, then it is refused as invalid, naming what is wrong",
    async (_what, lie, problem) => {
      const error = await readerAnswering({ ...honest, ...lie } as Answer)
        .operatorSet(BLOCK)
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidRpcResponseError)
      expect((error as Error).message).toContain(problem)
    },
  )
})
