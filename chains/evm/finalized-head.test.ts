import { keccak256, stringToHex } from "viem"
import { describe, expect, it } from "vitest"
import { fakeReader, makeFakeChain } from "./testing/fake-rpc.ts"

const OUTBOX = "0x00000000000000000000000000000000000a11ce" as const

/** A chain whose latest block is 20, its safe block 15 and its finalized block 12. */
const chainOf20 = () => {
  const chain = makeFakeChain({ chainId: 901, outbox: OUTBOX, blocks: 20, sends: [] })
  chain.safe = 15
  chain.finalized = 12
  return chain
}

describe("the finality rule", () => {
  it("given a chain 3 blocks deep and a depth of 10 confirmations, when the finalized head is read, then no block is final yet (not block 0)", async () => {
    // Given
    const chain = makeFakeChain({ chainId: 901, outbox: OUTBOX, blocks: 3, sends: [] })
    // When
    const head = await fakeReader(chain, { confirmations: 10 }).finalizedHead()
    // Then
    expect(head).toBeNull()
  })

  it("given the finalized tag, when the finalized head is read, then it is the chain's finalized block", async () => {
    const chain = chainOf20()
    const head = await fakeReader(chain, { tag: "finalized" }).finalizedHead()
    expect(head).toEqual({ number: 12, hash: chain.hashes.get(12) })
  })

  it("given the safe tag, when the finalized head is read, then it is the chain's safe block", async () => {
    const chain = chainOf20()
    const head = await fakeReader(chain, { tag: "safe" }).finalizedHead()
    expect(head).toEqual({ number: 15, hash: chain.hashes.get(15) })
  })

  it("given a depth of 5 confirmations, when the finalized head is read, then it is the block 5 below latest, with its own hash", async () => {
    const chain = chainOf20()
    const head = await fakeReader(chain, { confirmations: 5 }).finalizedHead()
    expect(head).toEqual({ number: 15, hash: chain.hashes.get(15) })
  })

  it("given a depth of 0, when the finalized head is read, then it is the latest block", async () => {
    const chain = chainOf20()
    expect(await fakeReader(chain, { confirmations: 0 }).finalizedHead()).toMatchObject({ number: 20 })
  })

  it("given a depth exactly as deep as the chain, when the finalized head is read, then block 0 is final (it is the depth below latest)", async () => {
    const chain = chainOf20()
    expect(await fakeReader(chain, { confirmations: 20 }).finalizedHead()).toMatchObject({ number: 0 })
  })

  it("given a depth deeper than the chain, when the chain grows to the depth, then block 0 becomes final", async () => {
    // Given a chain of 10 blocks whose RPC has seen only 3 so far, and a depth of 10
    const chain = makeFakeChain({ chainId: 901, outbox: OUTBOX, blocks: 10, sends: [] })
    chain.latest = 3
    const reader = fakeReader(chain, { confirmations: 10 })
    expect(await reader.finalizedHead()).toBeNull()
    // When the chain reaches block 10
    chain.latest = 10
    // Then block 0 is final
    expect(await reader.finalizedHead()).toEqual({ number: 0, hash: chain.hashes.get(0) })
  })
})

describe("the finalized head, read again", () => {
  it("given the latest block unchanged, when the finalized head is read again, then the final block is asked for once more, and then no more", async () => {
    // Given a reader that has read the finalized head once
    const chain = chainOf20()
    const asked: string[] = []
    const reader = fakeReader(
      chain,
      { confirmations: 5 },
      { hooks: { onRequest: (method) => asked.push(method) } },
    )
    const first = await reader.finalizedHead()
    // When it reads it again, twice, the chain as it was
    const once = asked.length
    const again = await reader.finalizedHead()
    const twice = asked.length
    const thrice = await reader.finalizedHead()
    // Then the second read asked for both blocks, the third for the latest block only, and the answer is the same
    expect(asked.slice(once, twice)).toEqual(["eth_getBlockByNumber", "eth_getBlockByNumber"])
    expect(asked.slice(twice)).toEqual(["eth_getBlockByNumber"])
    expect([again, thrice]).toEqual([first, first])
    // And once the chain grows, the new final block is read
    chain.hashes.set(21, keccak256(stringToHex("block-21")))
    chain.latest = 21
    expect(await reader.finalizedHead()).toEqual({ number: 16, hash: chain.hashes.get(16) })
  })

  it("given the final block once answered from another fork (a backend behind the URL not yet reorganised, or a fallback URL), when it is read again under the same latest block, then it is the block a fresh read gives", async () => {
    // Given a reader whose first read of block 15 got another fork's block, under the same latest block 20
    const chain = chainOf20()
    const stale = keccak256(stringToHex("stale-15"))
    let lies = 1
    const reader = fakeReader(
      chain,
      { confirmations: 5 },
      {
        hooks: {
          answer: (method, answer) => {
            const block = answer as { number?: string } | null
            if (method !== "eth_getBlockByNumber" || block?.number !== "0xf" || lies === 0) return answer
            lies--
            return { ...block, hash: stale }
          },
        },
      },
    )
    expect(await reader.finalizedHead()).toEqual({ number: 15, hash: stale })
    // When it is read again, and again, the latest block still block 20
    const again = [await reader.finalizedHead(), await reader.finalizedHead()]
    // Then it is the chain's block 15, as a fresh read has it
    expect(again).toEqual([
      { number: 15, hash: chain.hashes.get(15) },
      { number: 15, hash: chain.hashes.get(15) },
    ])
  })

  it("given the chain reorganised under the same height, when the finalized head is read again, then it is the new chain's block, read anew", async () => {
    // Given a reader that read block 15 as final under block 20
    const chain = chainOf20()
    const reader = fakeReader(chain, { confirmations: 5 })
    expect(await reader.finalizedHead()).toEqual({ number: 15, hash: chain.hashes.get(15) })
    // When blocks 14 to 20 are replaced (a reorg deeper than the depth: the latest block is another block)
    for (let n = 14; n <= 20; n++) chain.hashes.set(n, keccak256(stringToHex(`fork-${n}`)))
    // Then the final block is the fork's block 15, not the one remembered
    expect(await reader.finalizedHead()).toEqual({ number: 15, hash: keccak256(stringToHex("fork-15")) })
  })
})

describe("the latest head", () => {
  it("given a chain whose latest block is 20 and finalized block 12, when the latest head is read under any finality rule, then it is block 20 with its own hash", async () => {
    // Given
    const chain = chainOf20()
    for (const finality of [{ tag: "finalized" }, { confirmations: 5 }] as const) {
      // When
      const head = await fakeReader(chain, finality).latestHead()
      // Then
      expect(head).toEqual({ number: 20, hash: chain.hashes.get(20) })
    }
  })
})
