import fc from "fast-check"
import type { Hex } from "viem"
import { describe, expect, it } from "vitest"
import {
  appendLeaf,
  computeRangeRoot,
  createMerkleTree,
  getLeaves,
  getMessageProof,
  getRangeProof,
  getRoot,
  ProofLengthError,
  RangeOutOfBoundsError,
  truncateTree,
  verifyRangeProof,
  ZERO_HASHES,
} from "./index.ts"
import { referenceRangeProof, referenceRoot, testLeaf } from "./test/reference.ts"
import vectors from "./vectors.json" with { type: "json" }

const leaves = Array.from({ length: 1100 }, (_, i) => testLeaf(i))
const fullTree = createMerkleTree(leaves)

function flip(hex: Hex): Hex {
  const last = Number.parseInt(hex.slice(-2), 16) ^ 1
  return `${hex.slice(0, -2)}${last.toString(16).padStart(2, "0")}` as Hex
}

describe("shared vectors", () => {
  it("zero hashes", () => {
    expect(ZERO_HASHES).toEqual(vectors.zeroHashes)
  })

  it("roots", () => {
    for (const { count, root } of vectors.roots) {
      expect(getRoot(createMerkleTree(vectors.leaves.slice(0, count) as Hex[]))).toBe(root)
      expect(getRoot(fullTree, count)).toBe(root)
    }
  })

  it("range proofs", () => {
    for (const v of vectors.rangeProofs) {
      const proof = getRangeProof(fullTree, { start: v.start, end: v.end, count: v.count })
      expect(proof.siblings).toEqual(v.siblings)
      expect(proof.root).toBe(v.root)
      const ok = verifyRangeProof({
        root: v.root as Hex,
        start: v.start,
        count: v.count,
        leaves: vectors.leaves.slice(v.start, v.end) as Hex[],
        siblings: v.siblings as Hex[],
      })
      expect(ok).toBe(true)
    }
  })
})

describe("createMerkleTree / appendLeaf / getRoot", () => {
  it("matches the naive reference for every count up to 70", () => {
    const tree = createMerkleTree()
    expect(getRoot(tree)).toBe(ZERO_HASHES[32])
    for (let i = 0; i < 70; i++) {
      expect(appendLeaf(tree, leaves[i]!)).toBe(i)
      expect(getRoot(tree)).toBe(referenceRoot(leaves.slice(0, i + 1)))
    }
  })

  it("historical roots equal roots of the prefix", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1100 }), (count) => {
        expect(getRoot(fullTree, count)).toBe(referenceRoot(leaves.slice(0, count)))
      }),
      { numRuns: 25 },
    )
  })

  it("truncating takes appended leaves back: the tree is the one built from the prefix, and grows on from it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), (keep, other) => {
        const tree = createMerkleTree(leaves.slice(0, 300))
        truncateTree(tree, keep)
        expect(tree.levels.map((level) => level.length)).toEqual(
          createMerkleTree(leaves.slice(0, keep)).levels.map((level) => level.length),
        )
        expect(getRoot(tree)).toBe(referenceRoot(leaves.slice(0, keep)))
        // Appending other leaves after a truncation gives the tree of those leaves, not of the ones taken back.
        const grown = leaves.slice(400, 400 + other)
        for (const leaf of grown) appendLeaf(tree, leaf)
        expect(getRoot(tree)).toBe(referenceRoot([...leaves.slice(0, keep), ...grown]))
        if (tree.count > 0)
          expect(getRangeProof(tree, { start: 0, end: tree.count }).root).toBe(getRoot(tree))
      }),
      { numRuns: 25 },
    )
    expect(() => truncateTree(createMerkleTree(leaves.slice(0, 3)), 4)).toThrow(RangeOutOfBoundsError)
  })

  it("a historical root or proof asked before a truncation is computed again from the leaves appended after it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 200 }), fc.nat(), (count, cut) => {
        // Given roots and proofs asked at `count` (their partial nodes are remembered)
        const keep = cut % count
        const tree = createMerkleTree(leaves.slice(0, count))
        getRoot(tree, count)
        getRangeProof(tree, { start: keep, end: count, count })
        // When the tree is truncated below `count` and grows past it with other leaves
        truncateTree(tree, keep)
        const now = [...leaves.slice(0, keep), ...leaves.slice(500, 500 + count - keep + 3)]
        for (const leaf of now.slice(keep)) appendLeaf(tree, leaf)
        // Then the root and proofs at `count` are those of the new leaves
        expect(getRoot(tree, count)).toBe(referenceRoot(now.slice(0, count)))
        const proof = getRangeProof(tree, { start: keep, end: count, count })
        expect(proof.siblings).toEqual(referenceRangeProof(now.slice(0, count), keep, count))
        expect(proof.root).toBe(referenceRoot(now.slice(0, count)))
      }),
      { numRuns: 60 },
    )
  })

  it("getLeaves returns the leaves in order", () => {
    expect(getLeaves(fullTree, 3, 6)).toEqual(leaves.slice(3, 6))
    expect(() => getLeaves(fullTree, 5, 2000)).toThrow(RangeOutOfBoundsError)
  })

  it("rejects malformed leaves and counts", () => {
    expect(() => appendLeaf(createMerkleTree(), "0x1234")).toThrow(TypeError)
    expect(() => getRoot(createMerkleTree(), 1)).toThrow(RangeOutOfBoundsError)
  })
})

describe("range proofs", () => {
  const rangeArb = fc
    .integer({ min: 1, max: 1100 })
    .chain((count) =>
      fc
        .integer({ min: 0, max: count - 1 })
        .chain((start) =>
          fc.tuple(fc.constant(count), fc.constant(start), fc.integer({ min: start + 1, max: count })),
        ),
    )

  it("random ranges verify, at random historical counts, and match the reference", () => {
    fc.assert(
      fc.property(rangeArb, ([count, start, end]) => {
        const proof = getRangeProof(fullTree, { start, end, count })
        expect(proof.root).toBe(getRoot(fullTree, count))
        if (count <= 300)
          expect(proof.siblings).toEqual(referenceRangeProof(leaves.slice(0, count), start, end))
        const range = leaves.slice(start, end)
        expect(
          verifyRangeProof({ root: proof.root, start, count, leaves: range, siblings: proof.siblings }),
        ).toBe(true)
      }),
      { numRuns: 200 },
    )
  })

  it("a tampered leaf or sibling, a wrong start or count fails", () => {
    fc.assert(
      fc.property(rangeArb, fc.nat(), ([count, start, end], pick) => {
        const proof = getRangeProof(fullTree, { start, end, count })
        const range = leaves.slice(start, end)
        const base = { root: proof.root, start, count, leaves: range, siblings: proof.siblings }
        const badLeaves = range.map((l, i) => (i === pick % range.length ? flip(l) : l))
        expect(verifyRangeProof({ ...base, leaves: badLeaves })).toBe(false)
        if (proof.siblings.length > 0) {
          const k = pick % proof.siblings.length
          const badSiblings = proof.siblings.map((s, i) => (i === k ? flip(s) : s))
          expect(verifyRangeProof({ ...base, siblings: badSiblings })).toBe(false)
          expect(verifyRangeProof({ ...base, siblings: proof.siblings.slice(1) })).toBe(false)
        }
        expect(verifyRangeProof({ ...base, siblings: [...proof.siblings, proof.root] })).toBe(false)
        if (start > 0) expect(verifyRangeProof({ ...base, start: start - 1 })).toBe(false)
      }),
      { numRuns: 150 },
    )
  })

  it("a range ending at count needs only the left edge (the branch at start)", () => {
    const proof = getRangeProof(fullTree, { start: 0b1011001, end: 200, count: 200 })
    expect(proof.siblings).toHaveLength(4)
    expect(getRangeProof(fullTree, { start: 0, end: 1, count: 1 }).siblings).toHaveLength(0)
  })

  it("single-message proofs", () => {
    for (const index of [0, 1, 2, 63, 64, 1099]) {
      const proof = getMessageProof(fullTree, index)
      expect(
        verifyRangeProof({
          root: proof.root,
          start: index,
          count: 1100,
          leaves: [leaves[index]!],
          siblings: proof.siblings,
        }),
      ).toBe(true)
    }
  })

  it("throws helpful errors on bad input", () => {
    expect(() => getRangeProof(fullTree, { start: 3, end: 3 })).toThrow(RangeOutOfBoundsError)
    expect(() => getRangeProof(fullTree, { start: 0, end: 5, count: 4 })).toThrow(RangeOutOfBoundsError)
    expect(() => getRangeProof(fullTree, { start: 0, end: 5, count: 2000 })).toThrow(RangeOutOfBoundsError)
    const proof = getRangeProof(fullTree, { start: 1, end: 3, count: 10 })
    expect(() =>
      computeRangeRoot({
        start: 1,
        count: 10,
        leaves: leaves.slice(1, 3),
        siblings: proof.siblings.slice(1),
      }),
    ).toThrow(ProofLengthError)
    expect(() => computeRangeRoot({ start: 1, count: 10, leaves: [], siblings: [] })).toThrow(
      RangeOutOfBoundsError,
    )
  })
})
