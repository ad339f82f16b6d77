import {
  custom,
  decodeAbiParameters,
  decodeFunctionData,
  deploylessCallViaBytecodeBytecode,
  encodeAbiParameters,
  encodeFunctionResult,
  type Hex,
  keccak256,
  multicall3Abi,
  stringToHex,
} from "viem"
import { describe, expect, it } from "vitest"
import { messageAbiParameter, outboxAbi } from "../../contracts/index.ts"
import { BlockRef, Bytes32, ChainId, toAddress } from "../../schemas/index.ts"
import { makeRangeSizer } from "./adaptive-range.ts"
import { makeEvmClient } from "./client.ts"
import { InvalidRpcResponseError, RpcCallError } from "./errors.ts"
import { readOutboxRange } from "./outbox-logs.ts"
import { makeEvmReader } from "./reader.ts"
import { type FakeChain, fakeClient, makeFakeChain, type RpcLog, rpcError } from "./testing/fake-rpc.ts"

const OUTBOX = "0x00000000000000000000000000000000000a11ce" as const
const word = (label: string) => keccak256(stringToHex(label))

/** Reads blocks 0..20 of a chain with messages at blocks 5 and 9, the RPC answer passed through `tamper`. */
const readTampered = async (tamper: (logs: RpcLog[]) => RpcLog[]) => {
  const chain = makeFakeChain({
    chainId: 901,
    outbox: OUTBOX,
    blocks: 20,
    sends: [{ block: 5 }, { block: 9 }],
  })
  const client = fakeClient(chain, { getLogs: (_, logs) => tamper(logs) })
  return readOutboxRange(client, {
    chainId: ChainId.make(901),
    outbox: toAddress(OUTBOX),
    cursor: null,
    fromBlock: 0,
    head: 20,
    sizer: makeRangeSizer({ initial: 100, max: 100 }),
  })
}

const problemsOf = async (tamper: (logs: RpcLog[]) => RpcLog[]) => {
  const error = await readTampered(tamper).catch((e: unknown) => e)
  if (!(error instanceof InvalidRpcResponseError))
    throw new Error(`expected InvalidRpcResponseError, got ${error}`)
  return error.problems
}

const otherMessage = (overrides: { srcChainId?: bigint; nonce?: number }) =>
  encodeAbiParameters(
    [messageAbiParameter],
    [
      {
        version: 1,
        nonce: overrides.nonce ?? 0,
        srcChainId: overrides.srcChainId ?? 901n,
        sender: "0x000000000000000000000000000000000000bEEF",
        dstChainId: 902n,
        recipient: "0x000000000000000000000000000000000000dEaD",
        gasLimit: 100_000n,
        body: stringToHex("ping 5-0"),
      },
    ],
  )

describe("readOutboxRange never trusts the RPC", () => {
  it("accepts an untouched answer", async () => {
    const read = await readTampered((logs) => logs)
    expect(read.blocks.map((b) => b.block.number)).toEqual([5, 9])
    expect(read.to.number).toBe(20)
  })

  it.each<[string, (logs: RpcLog[]) => RpcLog[], RegExp]>([
    [
      "a removed log",
      (logs) => [{ ...logs[0]!, removed: true }, logs[1]!],
      /log 0 \(block 5, .*\): is marked removed/,
    ],
    [
      "a log of another contract",
      (logs) => [logs[0]!, { ...logs[1]!, address: "0x000000000000000000000000000000000000b0b0" }],
      /log 1 \(block 9, .*\): was emitted by 0x0+b0b0, not the Outbox/,
    ],
    [
      "a log outside the requested range",
      (logs) => [...logs, { ...logs[1]!, blockNumber: "0x20", logIndex: "0x1" }],
      /log 2 \(block 32, .*\): is outside the requested range 0\.\.20/,
    ],
    [
      "a log without a block hash",
      (logs) => [{ ...logs[0]!, blockHash: null }],
      /has no valid block hash \(null\)/,
    ],
    [
      "a log whose block hash is not its header's",
      (logs) => [{ ...logs[0]!, blockHash: word("another fork") }],
      /log 0 of tx .* names block 5 as 0x.*, but its header's hash is 0x/,
    ],
    [
      "a messageId topic that is not the message's hash",
      (logs) => [{ ...logs[0]!, topics: [...logs[0]!.topics.slice(0, 3), word("forged id")] }],
      /its message hashes to 0x[0-9a-f]{64}, but its messageId topic is 0x/,
    ],
    [
      "a message from another chain",
      (logs) => [{ ...logs[0]!, data: otherMessage({ srcChainId: 999n }) }],
      /its message is from chain 999, but it was read from chain 901/,
    ],
    [
      "a nonce topic that is not the message's nonce",
      (logs) => [{ ...logs[0]!, data: otherMessage({ nonce: 4 }) }],
      /its message has nonce 4, but its nonce topic is 0/,
    ],
    [
      "a log that is not MessageSent",
      (logs) => [{ ...logs[0]!, topics: [word("Transfer(address,address,uint256)") as Hex] }],
      /is not a MessageSent log/,
    ],
    ["an undecodable payload", (logs) => [{ ...logs[0]!, data: "0x1234" }], /does not decode as MessageSent/],
    ["a duplicated log", (logs) => [logs[0]!, logs[0]!], /block 5 holds two logs with index 0/],
  ])("refuses %s", async (_, tamper, expected) => {
    const problems = await problemsOf(tamper)
    expect(problems.join("\n")).toMatch(expected)
  })
})

/** What the fake chain's Outbox counts on a lane at the end of a block (its logs up to there). */
const laneCount = (chain: FakeChain, dst: number, block: number) =>
  chain.logs.filter((log) => Number(log.blockNumber) <= block && BigInt(log.topics[1]!) === BigInt(dst))
    .length

/**
 * The fake chain's RPC, answering the deployless multicall of `Outbox.count` (which the fake cannot run:
 * it has no EVM) from the chain's logs. Before `deployedAt` the Outbox has no code, so each call returns no
 * data; a lane in `reverting` reverts.
 */
const countingTransport = (
  chain: FakeChain,
  options: {
    readonly getLogs?: (logs: RpcLog[]) => RpcLog[]
    readonly deployedAt?: number
    readonly reverting?: ReadonlyArray<number>
    readonly requests?: string[]
  } = {},
) => {
  const inner = fakeClient(
    chain,
    options.getLogs === undefined ? {} : { getLogs: (_, l) => options.getLogs!(l) },
  )
  return custom(
    {
      request: async ({ method, params }: { method: string; params?: unknown }) => {
        options.requests?.push(method)
        const args = (params ?? []) as [{ data?: Hex }, Hex]
        const data = args[0]?.data
        if (
          method !== "eth_call" ||
          data === undefined ||
          !data.startsWith(deploylessCallViaBytecodeBytecode)
        ) {
          return inner.viem.request({ method, params } as never)
        }
        const block = Number(args[1])
        const [, calldata] = decodeAbiParameters(
          [{ type: "bytes" }, { type: "bytes" }],
          `0x${data.slice(deploylessCallViaBytecodeBytecode.length)}`,
        )
        const { args: multicall } = decodeFunctionData({ abi: multicall3Abi, data: calldata })
        const calls = multicall![0] as ReadonlyArray<{ callData: Hex }>
        const results = calls.map(({ callData }) => {
          const dst = Number(decodeFunctionData({ abi: outboxAbi, data: callData }).args![0])
          if (block < (options.deployedAt ?? 0)) return { success: true, returnData: "0x" as Hex }
          if (options.reverting?.includes(dst)) return { success: false, returnData: "0x" as Hex }
          const count = laneCount(chain, dst, block)
          return {
            success: true,
            returnData: encodeFunctionResult({ abi: outboxAbi, functionName: "count", result: count }),
          }
        })
        return encodeFunctionResult({ abi: multicall3Abi, functionName: "aggregate3", result: results })
      },
    },
    { retryCount: 0 },
  )
}

const countingClient = (chain: FakeChain, options: Parameters<typeof countingTransport>[1] = {}) =>
  makeEvmClient({
    chainId: chain.chainId,
    rpcUrls: ["http://fake-rpc.invalid/901"],
    transports: [countingTransport(chain, options)],
    retryCount: 0,
  })

const countsOf = (read: {
  lanes: ReadonlyArray<{ dstChainId: number; before: number; after: number }> | null
}) => Object.fromEntries((read.lanes ?? []).map((lane) => [lane.dstChainId, [lane.before, lane.after]]))

describe("readOutboxRange proves what it read (issue 12)", () => {
  const sends = [
    { block: 5 },
    { block: 5, dstChainId: 903 },
    { block: 9 },
    { block: 12, dstChainId: 905 },
    { block: 15 },
  ]
  const chainOf = () => makeFakeChain({ chainId: 901, outbox: OUTBOX, blocks: 20, sends })
  const request = {
    chainId: ChainId.make(901),
    outbox: toAddress(OUTBOX),
    head: 20,
    sizer: makeRangeSizer({ initial: 100, max: 100 }),
  }

  it("given completeness asked on a first read from block 0, when the RPC answers in full, then each lane's counts around the range are recorded at the cost of one eth_call", async () => {
    const chain = chainOf()
    const requests: string[] = []

    const read = await readOutboxRange(countingClient(chain, { requests }), {
      ...request,
      cursor: null,
      fromBlock: 0,
      completeness: { lanes: [902, 903, 904], countsBefore: new Map() },
    })

    // 905 is counted because a log names it; 904 because the caller knows it.
    expect(countsOf(read)).toEqual({ 902: [0, 3], 903: [0, 1], 904: [0, 0], 905: [0, 1] })
    expect(requests.filter((m) => m === "eth_call")).toHaveLength(1)
    expect(read.rpc).toBeNull()
  })

  it("given forty known lanes, when a range is read, then their counts still take one eth_call", async () => {
    const requests: string[] = []
    const lanes = Array.from({ length: 40 }, (_, i) => 902 + i)

    const read = await readOutboxRange(countingClient(chainOf(), { requests }), {
      ...request,
      cursor: null,
      fromBlock: 0,
      completeness: { lanes, countsBefore: new Map() },
    })

    expect(read.lanes).toHaveLength(40)
    expect(requests.filter((m) => m === "eth_call")).toHaveLength(1)
  })

  it("given counts proven at the cursor for some lanes, when the next range is read, then only the others are counted at the cursor's block", async () => {
    const chain = chainOf()
    const requests: string[] = []

    const read = await readOutboxRange(countingClient(chain, { requests }), {
      ...request,
      cursor: new BlockRef({ number: 6, hash: Bytes32.make(chain.hashes.get(6)!) }),
      fromBlock: 7,
      completeness: { lanes: [902, 903], countsBefore: new Map([[902, 2]]) },
    })

    expect(countsOf(read)).toEqual({ 902: [2, 3], 903: [1, 1], 905: [0, 1] })
    expect(requests.filter((m) => m === "eth_call")).toHaveLength(2)
  })

  it("given an RPC that drops 20% of logs, when ranges are read, then their counts expose every dropped nonce", async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ block: 1 + (i % 19), dstChainId: 902 + (i % 3) }))
    const chain = makeFakeChain({ chainId: 901, outbox: OUTBOX, blocks: 20, sends: many })
    let seed = 20_251
    const random = () => {
      seed = (seed * 48_271) % 2_147_483_647
      return seed / 2_147_483_647
    }
    let dropped = 0
    const lossy = (logs: RpcLog[]) =>
      logs.filter(() => {
        const drop = random() < 0.2
        if (drop) dropped += 1
        return !drop
      })

    const read = await readOutboxRange(countingClient(chain, { getLogs: lossy }), {
      ...request,
      cursor: null,
      fromBlock: 0,
      completeness: { lanes: [902, 903, 904], countsBefore: new Map() },
    })

    expect(dropped).toBeGreaterThan(0)
    const logged = read.blocks.flatMap((block) => block.logs)
    expect(logged).toHaveLength(60 - dropped)
    const unaccounted = (read.lanes ?? []).reduce(
      (sum, lane) =>
        sum +
        lane.after -
        lane.before -
        logged.filter((log) => log.message.dstChainId === lane.dstChainId).length,
      0,
    )
    expect(unaccounted).toBe(dropped)
  })

  it("given a range that starts before the Outbox was deployed, then its lanes count zero where it had no code", async () => {
    const read = await readOutboxRange(countingClient(chainOf(), { deployedAt: 4 }), {
      ...request,
      cursor: null,
      fromBlock: 3,
      completeness: { lanes: [902], countsBefore: new Map() },
    })

    expect(countsOf(read)).toEqual({ 902: [0, 3], 903: [0, 1], 905: [0, 1] })
  })

  it("given a count that reverts, then the answer is refused and nothing of it is used", async () => {
    const reading = readOutboxRange(countingClient(chainOf(), { reverting: [903] }), {
      ...request,
      cursor: null,
      fromBlock: 0,
      completeness: { lanes: [902], countsBefore: new Map() },
    })

    await expect(reading).rejects.toBeInstanceOf(InvalidRpcResponseError)
    await expect(reading).rejects.toThrow(/count\(903\) failed: .*revert/)
  })

  it("given a read pinned to the second URL, then every call of it goes there, and the read names it redacted", async () => {
    const chain = chainOf()
    const first: string[] = []
    const second: string[] = []
    const client = makeEvmClient({
      chainId: 901,
      rpcUrls: ["http://rpc-a.invalid", "https://rpc-b.invalid/v2/AbC123dEf456GhI789jKl0"],
      transports: [
        countingTransport(chain, { requests: first }),
        countingTransport(chain, { requests: second }),
      ],
      retryCount: 0,
    })

    const read = await readOutboxRange(client, {
      ...request,
      cursor: null,
      fromBlock: 0,
      rpc: 1,
      completeness: { lanes: [902], countsBefore: new Map() },
    })

    expect(read.rpc).toBe("https://rpc-b.invalid/v2/***")
    expect(first).toEqual([])
    expect(second).toEqual(expect.arrayContaining(["eth_getLogs", "eth_call", "eth_getBlockByNumber"]))
    expect(countsOf(read)).toEqual({ 902: [0, 3], 903: [0, 1], 905: [0, 1] })
  })

  it("given a pinned URL that fails, then the error names that URL alone, redacted", async () => {
    const chain = chainOf()
    const failing = fakeClient(chain, {
      getLogs: () => {
        throw rpcError(-32000, "upstream timeout")
      },
    })
    const client = makeEvmClient({
      chainId: 901,
      rpcUrls: ["http://rpc-a.invalid", "https://rpc-b.invalid/v2/AbC123dEf456GhI789jKl0"],
      transports: [
        countingTransport(chain),
        custom({ request: (args) => failing.viem.request(args as never) }, { retryCount: 0 }),
      ],
      retryCount: 0,
    })

    const error = await readOutboxRange(client, { ...request, cursor: null, fromBlock: 0, rpc: 1 }).catch(
      (e: unknown) => e,
    )

    expect(error).toBeInstanceOf(RpcCallError)
    expect((error as RpcCallError).url).toBe("https://rpc-b.invalid/v2/***")
    expect((error as Error).message).not.toContain("AbC123dEf456GhI789jKl0")
  })

  it("given the chain rewritten below the cursor while the range is read, when the read returns, then its cursor check shows the rewrite (the logs of the new history are never folded as if they followed the cursor)", async () => {
    // given: a cursor at block 10; the chain is rewritten from block 8 up during eth_getLogs
    const chain = makeFakeChain({ chainId: 901, outbox: OUTBOX, blocks: 20, sends: [{ block: 12 }] })
    const cursor = new BlockRef({ number: 10, hash: Bytes32.make(chain.hashes.get(10)!) })
    const client = fakeClient(chain, {
      getLogs: (_, logs) => {
        for (let n = 8; n <= 20; n++) chain.hashes.set(n, word(`rewritten ${n}`))
        for (const log of logs) log.blockHash = chain.hashes.get(Number(log.blockNumber))!
        return logs
      },
    })
    // when
    const read = await readOutboxRange(client, {
      chainId: ChainId.make(901),
      outbox: toAddress(OUTBOX),
      cursor,
      fromBlock: 11,
      head: 20,
      sizer: makeRangeSizer({ initial: 100, max: 100 }),
    })
    // then
    expect(read.cursorCheck?.hash).toBe(word("rewritten 10"))
  })

  it("given no completeness asked, then the read proves nothing (no counts, no eth_call)", async () => {
    const requests: string[] = []

    const read = await readOutboxRange(countingClient(chainOf(), { requests }), {
      ...request,
      cursor: null,
      fromBlock: 0,
    })

    expect(read.lanes).toBeNull()
    expect(requests).not.toContain("eth_call")
  })
})

describe("outboxMessage reads one message again by its nonce (issue 12)", () => {
  // Lane 902: nonce 0 at block 2, nonce 1 at block 5, nonce 2 at block 9; lane 903: nonce 0 at block 5.
  const chainOfNonces = () =>
    makeFakeChain({
      chainId: 901,
      outbox: OUTBOX,
      blocks: 20,
      sends: [{ block: 2 }, { block: 5 }, { block: 5, dstChainId: 903 }, { block: 9 }],
    })
  /** The logs a node answers for topics [MessageSent, dst, nonce] (the fake itself filters by address alone). */
  const ofNonce = (logs: RpcLog[], dst: number, nonce: number) =>
    logs.filter((log) => BigInt(log.topics[1]!) === BigInt(dst) && BigInt(log.topics[2]!) === BigInt(nonce))
  const readerOf = (client: ReturnType<typeof countingClient>) =>
    makeEvmReader(client, { finality: { tag: "finalized" }, logRange: { initial: 100, max: 100 } })
  const ask = { outbox: toAddress(OUTBOX), dstChainId: 902, nonce: 1, fromBlock: 0, toBlock: 20 }

  it("given a lane with several messages, when one nonce is read, then its one log is found in its block, checked against the header", async () => {
    const chain = chainOfNonces()
    const requests: string[] = []

    const { found, rpc } = await readerOf(
      countingClient(chain, { requests, getLogs: (logs) => ofNonce(logs, 902, 1) }),
    ).outboxMessage(ask)

    expect(rpc).toBeNull()
    expect(found?.block).toEqual(new BlockRef({ number: 5, hash: Bytes32.make(chain.hashes.get(5)!) }))
    expect(found?.timestamp).toBe(1_700_000_005)
    expect(found?.logs.map((log) => [log.message.dstChainId, log.message.nonce, log.logIndex])).toEqual([
      [902, 1, 0],
    ])
    expect(requests.filter((m) => m === "eth_getLogs")).toHaveLength(1)
  })

  it("given an answer with no log, then nothing is found (the caller judges it against the lane's count)", async () => {
    const { found } = await readerOf(countingClient(chainOfNonces(), { getLogs: () => [] })).outboxMessage(
      ask,
    )

    expect(found).toBeNull()
  })

  it.each<[string, (logs: RpcLog[]) => RpcLog[], RegExp]>([
    [
      "a log of another nonce",
      (logs) => ofNonce(logs, 902, 2),
      /is of lane 901 → 902, nonce 2: not the one asked for/,
    ],
    [
      "a log of another lane",
      (logs) => ofNonce(logs, 903, 0),
      /is of lane 901 → 903, nonce 0: not the one asked for/,
    ],
    [
      "two logs of the nonce",
      (logs) => [...ofNonce(logs, 902, 1), { ...ofNonce(logs, 902, 1)[0]!, blockNumber: "0x6" }],
      /2 logs answer one nonce/,
    ],
    [
      "a log whose block hash is not its header's",
      (logs) => ofNonce(logs, 902, 1).map((log) => ({ ...log, blockHash: word("another fork") })),
      /names block 5 as 0x[0-9a-f]{64}, but its header's hash is 0x/,
    ],
    [
      "a removed log",
      (logs) => ofNonce(logs, 902, 1).map((log) => ({ ...log, removed: true })),
      /is marked removed/,
    ],
  ])("refuses %s", async (_, tamper, expected) => {
    const error = await readerOf(countingClient(chainOfNonces(), { getLogs: tamper }))
      .outboxMessage(ask)
      .catch((e: unknown) => e)

    expect(error).toBeInstanceOf(InvalidRpcResponseError)
    expect((error as InvalidRpcResponseError).problems.join("\n")).toMatch(expected)
  })

  it("given an RPC that refuses the range as too large, when a nonce is read, then the block that sent it is found by its lane's counts and read alone", async () => {
    const chain = chainOfNonces()
    const requests: string[] = []
    const ranges: Array<[number, number]> = []
    const counting = countingClient(chain, { requests, getLogs: (logs) => ofNonce(logs, 902, 2) })
    const client = makeEvmClient({
      chainId: 901,
      rpcUrls: ["http://fake-rpc.invalid/901"],
      transports: [
        custom(
          {
            request: async (args: { method: string; params?: unknown }) => {
              if (args.method === "eth_getLogs") {
                const [filter] = args.params as [{ fromBlock: Hex; toBlock: Hex }]
                const range: [number, number] = [Number(filter.fromBlock), Number(filter.toBlock)]
                ranges.push(range)
                if (range[1] - range[0] >= 4) throw rpcError(-32005, "query exceeds max block range 4")
              }
              return counting.viem.request(args as never)
            },
          },
          { retryCount: 0 },
        ),
      ],
      retryCount: 0,
    })

    const { found } = await readerOf(client).outboxMessage({ ...ask, nonce: 2 })

    expect(found?.block.number).toBe(9)
    expect(found?.logs[0]?.message.nonce).toBe(2)
    expect(ranges).toEqual([
      [0, 20],
      [9, 9],
    ])
    // one count at the range's end, then one per halving of 0..20
    expect(requests.filter((m) => m === "eth_call").length).toBeLessThanOrEqual(1 + Math.ceil(Math.log2(21)))
  })
})
