import { describe, expect, it } from "vitest"
import { makeEvmClient } from "./client.ts"
import { RpcCallError, redactUrl, WrongChainError } from "./errors.ts"
import { makeEvmReader } from "./reader.ts"
import { fakeReader, makeFakeChain } from "./testing/fake-rpc.ts"

const OUTBOX = "0x00000000000000000000000000000000000a11ce" as const
const KEY = "AbC123dEf456GhI789jKl012MnO345pQ"
const SECRET_URL = `https://relayer:hunter2@rpc.example.com/v2/${KEY}?apikey=s3cr3t&chain=901`
const REDACTED_URL = "https://***:***@rpc.example.com/v2/***?apikey=***&chain=***"

describe("redactUrl", () => {
  it.each([
    ["basic-auth credentials", "https://user:pass@rpc.example.com/", "https://***:***@rpc.example.com/"],
    ["a user without password", "https://token@rpc.example.com/", "https://***@rpc.example.com/"],
    [
      "an API key in the path",
      `https://eth-mainnet.g.alchemy.com/v2/${KEY}`,
      "https://eth-mainnet.g.alchemy.com/v2/***",
    ],
    [
      "a key in the query",
      "https://rpc.example.com/rpc?apikey=s3cr3t",
      "https://rpc.example.com/rpc?apikey=***",
    ],
    ["all of them", SECRET_URL, REDACTED_URL],
  ])("given a URL with %s, when redacted, then only its shape is left", (_, url, redacted) => {
    expect(redactUrl(url)).toBe(redacted)
  })

  it("given a URL with nothing to hide, when redacted, then it is unchanged", () => {
    expect(redactUrl("http://127.0.0.1:8545")).toBe("http://127.0.0.1:8545")
    expect(redactUrl("wss://rpc.example.com/ws")).toBe("wss://rpc.example.com/ws")
  })

  it("given a string that is no URL, when redacted, then none of it is shown", () => {
    expect(redactUrl("user:pass@nowhere")).not.toContain("pass")
  })
})

describe("the chain-id check", () => {
  it("given an RPC that serves chain 901 configured for chain 902, when anything is read, then WrongChainError names the redacted URL", async () => {
    // Given
    const chain = makeFakeChain({ chainId: 901, outbox: OUTBOX, blocks: 5, sends: [] })
    const reader = fakeReader(chain, { tag: "finalized" }, { chainId: 902, url: SECRET_URL })
    // When
    const error = await reader.finalizedHead().catch((e: unknown) => e)
    // Then
    expect(error).toBeInstanceOf(WrongChainError)
    expect(error).toMatchObject({ chainId: 902, actual: 901, url: REDACTED_URL })
    const message = (error as Error).message
    expect(message).toContain(REDACTED_URL)
    expect(message).toMatch(/configured for chain 902, serves chain 901/)
    for (const secret of ["hunter2", KEY, "s3cr3t"]) expect(message).not.toContain(secret)
  })

  it("given an RPC that serves its chain, when it is read many times, then its chain id is asked once", async () => {
    const chain = makeFakeChain({ chainId: 901, outbox: OUTBOX, blocks: 5, sends: [] })
    const methods: string[] = []
    const reader = fakeReader(chain, { confirmations: 1 }, { hooks: { onRequest: (m) => methods.push(m) } })
    await Promise.all([reader.finalizedHead(), reader.header(2), reader.header(3)])
    await reader.finalizedHead()
    expect(methods.filter((m) => m === "eth_chainId")).toEqual(["eth_chainId"])
    expect(methods.length).toBeGreaterThan(4)
  })
})

describe("RPC errors", () => {
  it("given an unreachable RPC whose URL holds credentials, when it is read, then the error names the URL redacted", async () => {
    // Given
    const url = `http://relayer:hunter2@127.0.0.1:1/v2/${KEY}`
    const reader = makeEvmReader(makeEvmClient({ chainId: 901, rpcUrls: [url], retryCount: 0 }), {
      finality: { tag: "finalized" },
      logRange: { initial: 10, max: 10 },
    })
    // When
    const error = await reader.finalizedHead().catch((e: unknown) => e)
    // Then
    expect(error).toBeInstanceOf(RpcCallError)
    const message = (error as Error).message
    expect(message.split("\n")[0]).toMatch(
      /^chain 901: reading the finalized head failed at http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:1\/v2\/\*\*\*: /,
    )
    for (const secret of ["hunter2", KEY]) expect(message).not.toContain(secret)
    expect((error as RpcCallError).url).toBe("http://***:***@127.0.0.1:1/v2/***")
  })
})
