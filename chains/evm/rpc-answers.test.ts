/**
 * Answers that do not decode (issue 12, part 4): whatever an RPC answers
 * where a block, logs or a call's data belong, the reader throws one named
 * error, `InvalidRpcResponseError`, naming the RPC's URL redacted, what
 * was asked and a bounded excerpt of the answer; never a `SyntaxError`
 * from a formatter, nor an `RpcCallError` as if the RPC were down.
 */
import { keccak256, stringToHex } from "viem"
import { describe, expect, it } from "vitest"
import { Address } from "../../schemas/index.ts"
import { rpcFaultOf } from "../rpc-faults.ts"
import { InvalidRpcResponseError, RpcCallError } from "./errors.ts"
import { fakeReader, makeFakeChain } from "./testing/fake-rpc.ts"

const OUTBOX = "0x00000000000000000000000000000000000a11ce" as const
const KEY = "AbC123dEf456GhI789jKl012MnO345pQ"
const URL = `https://relayer:hunter2@rpc.example.com/v2/${KEY}?apikey=s3cr3t`
const REDACTED = "https://***:***@rpc.example.com/v2/***?apikey=***"
const WORD = `0x${"11".repeat(32)}`

/** A reader of chain 901 whose RPC answers `garble(method, answer)` instead of the true answer. */
const readerAnswering = (garble: (method: string, answer: unknown) => unknown) => {
  const chain = makeFakeChain({ chainId: 901, outbox: OUTBOX, blocks: 20, sends: [{ block: 3 }] })
  chain.latestCheckpoint = {
    srcChainId: 901,
    outbox: OUTBOX,
    dstChainId: 902,
    root: keccak256(stringToHex("root")),
    count: 1,
  }
  return fakeReader(chain, { tag: "finalized" }, { url: URL, hooks: { answer: garble } })
}

const failureOf = async (read: () => Promise<unknown>) => {
  const error = await read().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(InvalidRpcResponseError)
  const invalid = error as InvalidRpcResponseError
  expect(invalid.url).toBe(REDACTED)
  expect(invalid.message).toContain(REDACTED)
  for (const secret of ["hunter2", KEY, "s3cr3t"]) expect(invalid.message).not.toContain(secret)
  return invalid
}

describe("an RPC answer that does not decode", () => {
  it("given a bare 32-byte word as the answer to latestCheckpoint, when the lane is read, then the error is InvalidRpcResponseError (not RpcCallError) and says it does not decode", async () => {
    const reader = readerAnswering((method, answer) => (method === "eth_call" ? WORD : answer))
    const invalid = await failureOf(() =>
      reader.outboxLane({ outbox: Address.make(OUTBOX), dstChainId: 902 }, 5),
    )
    expect(invalid).not.toBeInstanceOf(RpcCallError)
    expect(invalid.what).toMatch(/Outbox lane to 902 at block 5/)
    expect(invalid.problems.join()).toMatch(/does not decode/)
    expect(rpcFaultOf(invalid)).toMatchObject({ reason: "rpc-invalid", rpc: REDACTED })
  })

  it.each([
    ["a bare word", WORD, /block must be an object or null.*32 bytes/],
    [
      "a block whose number is not hex",
      { number: "zz", hash: WORD, timestamp: "0x1" },
      /number is not a hex quantity/,
    ],
    ["a number", 42, /block must be an object or null/],
  ])(
    "given %s as a block, when the finalized head is read, then it names eth_getBlockByNumber and what came",
    async (_, garbage, problem) => {
      const reader = readerAnswering((method, answer) =>
        method === "eth_getBlockByNumber" ? garbage : answer,
      )
      const invalid = await failureOf(() => reader.finalizedHead())
      expect(invalid.what).toBe("eth_getBlockByNumber")
      expect(invalid.problems[0]).toMatch(problem)
    },
  )

  it("given garbage where logs belong, when a range is read, then it names eth_getLogs and an excerpt of the answer, bounded", async () => {
    const huge = `0x${"ab".repeat(100_000)}`
    const reader = readerAnswering((method, answer) => (method === "eth_getLogs" ? huge : answer))
    const invalid = await failureOf(() =>
      reader.outboxLogs({ outbox: Address.make(OUTBOX), cursor: null, fromBlock: 0, head: 10 }),
    )
    expect(invalid.what).toBe("eth_getLogs")
    expect(invalid.problems[0]).toMatch(/expected a list of logs; it answered "0xabab.*…" \(100000 bytes\)/)
    expect(invalid.message.length).toBeLessThan(1_000)
  })

  it("given an RPC that answers nothing, when it is read, then it is an RpcCallError (unreachable), not an invalid answer", async () => {
    const reader = readerAnswering(() => {
      throw new Error("connect ECONNREFUSED")
    })
    const error = await reader.finalizedHead().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RpcCallError)
    expect(rpcFaultOf(error)).toMatchObject({ reason: "rpc-unreachable", rpc: REDACTED })
  })
})
