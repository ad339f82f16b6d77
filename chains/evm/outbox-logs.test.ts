import { encodeAbiParameters, type Hex, keccak256, stringToHex } from "viem"
import { describe, expect, it } from "vitest"
import { messageAbiParameter } from "../../contracts/index.ts"
import { ChainId, toAddress } from "../../schemas/index.ts"
import { makeRangeSizer } from "./adaptive-range.ts"
import { InvalidRpcResponseError } from "./errors.ts"
import { readOutboxRange } from "./outbox-logs.ts"
import { fakeClient, makeFakeChain, type RpcLog } from "./testing/fake-rpc.ts"

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
