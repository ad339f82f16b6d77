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
