import fc from "fast-check"
import type { Address, Hex } from "viem"
import { describe, expect, it } from "vitest"
import {
  createMerkleTree,
  getRangeProof,
  getRoot,
  ZERO_HASHES,
} from "../../services/proof-builder/merkle/index.ts"
import { testLeaf } from "../../services/proof-builder/merkle/test/reference.ts"
import vectors from "../../services/proof-builder/merkle/vectors.json" with { type: "json" }
import { merkleHarnessAbi } from "../out/index.ts"
import { rangeArb } from "./arbitraries.ts"
import { useWorld } from "./use-world.ts"
import type { World } from "./world.ts"

// TypeScript and Solidity agree: the same libraries the Outbox (IncrementalTree) and Inbox (RangeProof) use,
// exercised through a harness with eth_call, so hundreds of cases cost no transactions.

let w: World
let harness: Address
const leaves = Array.from({ length: 1100 }, (_, i) => testLeaf(i))
const tree = createMerkleTree(leaves)

useWorld({}, async (world) => {
  w = world
  harness = await w.deployTestContract("MerkleHarness")
})

async function solidityRoot(count: number): Promise<Hex> {
  const { result } = await w.publicClient.simulateContract({
    address: harness,
    abi: merkleHarnessAbi,
    functionName: "rootOf",
    args: [leaves.slice(0, count)],
    gas: 100_000_000n,
  })
  return result
}

async function rangeRoot(start: number, count: number, range: readonly Hex[], siblings: readonly Hex[]) {
  try {
    return await w.publicClient.readContract({
      address: harness,
      abi: merkleHarnessAbi,
      functionName: "computeRangeRoot",
      args: [BigInt(start), BigInt(count), range, siblings],
    })
  } catch {
    return "reverted" as const
  }
}

describe("Merkle: TypeScript and Solidity agree", () => {
  it("zero hashes and the shared vectors", async () => {
    expect(
      await w.publicClient.readContract({
        address: harness,
        abi: merkleHarnessAbi,
        functionName: "zeroHashes",
      }),
    ).toEqual(ZERO_HASHES.slice(0, 32))
    for (const { count, root } of vectors.roots) expect(await solidityRoot(count)).toBe(root)
    for (const v of vectors.rangeProofs) {
      expect(
        await rangeRoot(v.start, v.count, vectors.leaves.slice(v.start, v.end) as Hex[], v.siblings as Hex[]),
      ).toBe(v.root)
    }
  })

  it("roots agree for random leaf counts, including 0, 1, 2^k and 2^k + 1", async () => {
    const edges = [0, 1, 2, 3, 4, 5, 8, 9, 16, 17, 32, 33, 64, 65, 128, 129, 256, 257, 512, 513, 1024, 1025]
    for (const count of edges) expect(await solidityRoot(count)).toBe(getRoot(tree, count))
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1100 }), async (count) => {
        expect(await solidityRoot(count)).toBe(getRoot(tree, count))
      }),
      { numRuns: 30 },
    )
  })

  it("range proofs built in TypeScript verify on chain; a tampered leaf or sibling does not", async () => {
    const ranges = rangeArb(1100, 300)
    await fc.assert(
      fc.asyncProperty(ranges, fc.nat(), async ([count, start, end], pick) => {
        const proof = getRangeProof(tree, { start, end, count })
        const range = leaves.slice(start, end)
        expect(await rangeRoot(start, count, range, proof.siblings)).toBe(proof.root)
        const flip = (h: Hex): Hex => `${h.slice(0, -1)}${h.endsWith("0") ? "1" : "0"}` as Hex
        const badRange = range.map((l, i) => (i === pick % range.length ? flip(l) : l))
        expect(await rangeRoot(start, count, badRange, proof.siblings)).not.toBe(proof.root)
        if (proof.siblings.length > 0) {
          const k = pick % proof.siblings.length
          const badSiblings = proof.siblings.map((s, i) => (i === k ? flip(s) : s))
          expect(await rangeRoot(start, count, range, badSiblings)).not.toBe(proof.root)
          expect(await rangeRoot(start, count, range, proof.siblings.slice(1))).toBe("reverted")
        }
      }),
      { numRuns: 40 },
    )
  })

  it("rejects empty and out-of-bounds ranges", async () => {
    expect(await rangeRoot(0, 5, [], [])).toBe("reverted")
    expect(await rangeRoot(4, 5, leaves.slice(4, 6), [])).toBe("reverted")
    expect(await rangeRoot(0, 2 ** 32, leaves.slice(0, 1), [])).toBe("reverted")
  })
})
