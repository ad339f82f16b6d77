import { keccak256, toHex } from "viem"
import { describe, expect, it } from "vitest"
import { createMerkleTree, getRangeProof } from "../../../contracts/index.ts"
import { mergeRangeProofs, narrowRangeProof, narrowRangeProofTo, ProofShapeError } from "./proofs.ts"

const leaves = Array.from({ length: 13 }, (_, i) => keccak256(toHex(`leaf ${i}`)))
const tree = createMerkleTree(leaves)
const proofs = new Map<string, ReturnType<typeof getRangeProof>>()
const proof = (start: number, end: number, count: number) => {
  const key = `${start},${end},${count}`
  let found = proofs.get(key)
  if (found === undefined) {
    found = getRangeProof(tree, { start, end, count })
    proofs.set(key, found)
  }
  return found
}
const part = (start: number, end: number, count: number) => ({
  start,
  end,
  count,
  siblings: proof(start, end, count).siblings,
})

describe("mergeRangeProofs", () => {
  it("joins two consecutive chunks into exactly the proof of their union, whatever counts they were proven at", () => {
    // Given every split a < b < c ≤ n of trees of up to 13 leaves, the first chunk proven at any count ≥ b
    const wrong: string[] = []
    for (let n = 2; n <= 13; n++) {
      for (let a = 0; a < n; a++) {
        for (let b = a + 1; b < n; b++) {
          for (let c = b + 1; c <= n; c++) {
            for (const firstCount of new Set([b, c, n])) {
              // When joining [a, b) at firstCount with [b, c) at n
              const joined = mergeRangeProofs(part(a, b, firstCount), part(b, c, n))
              const expected = proof(a, c, n).siblings
              if (joined.join() !== expected.join())
                wrong.push(`[${a},${b})@${firstCount} + [${b},${c})@${n}`)
            }
          }
        }
      }
    }
    // Then each is the proof of [a, c) at n
    expect(wrong).toEqual([])
  })

  it("refuses a proof whose length does not match its range", () => {
    const bad = { ...part(3, 5, 9), siblings: part(3, 5, 9).siblings.slice(1) }
    expect(() => mergeRangeProofs(bad, part(5, 9, 9))).toThrow(ProofShapeError)
  })
})

describe("narrowRangeProof", () => {
  it("turns a range proof into exactly the single proof of each of its leaves, at the range's count", () => {
    // Given every range [a, b) of trees of up to 13 leaves, proven at every count c ≥ b
    const wrong: string[] = []
    for (let c = 1; c <= 13; c++) {
      for (let a = 0; a < c; a++) {
        for (let b = a + 1; b <= c; b++) {
          const range = { start: a, count: c, leaves: leaves.slice(a, b), siblings: proof(a, b, c).siblings }
          for (let i = a; i < b; i++) {
            // When narrowing it to leaf i
            const narrowed = narrowRangeProof(range, i)
            // Then it is the proof of [i, i + 1) at c
            if (narrowed.join() !== proof(i, i + 1, c).siblings.join()) wrong.push(`[${a},${b})@${c} → ${i}`)
          }
        }
      }
    }
    expect(wrong).toEqual([])
  })

  it("refuses a leaf outside the range, and a proof whose length does not match", () => {
    const range = { start: 3, count: 9, leaves: leaves.slice(3, 5), siblings: proof(3, 5, 9).siblings }
    expect(() => narrowRangeProof(range, 5)).toThrow(/\[5, 6\) is not a part of the range \[3, 5\)/)
    expect(() => narrowRangeProof({ ...range, siblings: range.siblings.slice(1) }, 3)).toThrow(
      ProofShapeError,
    )
  })
})

describe("narrowRangeProofTo", () => {
  it("turns a range proof into exactly the proof of each of its sub-ranges, at the range's count", () => {
    // Given every range [a, b) of trees of up to 13 leaves, proven at every count c ≥ b
    const wrong: string[] = []
    for (let c = 1; c <= 13; c++) {
      for (let a = 0; a < c; a++) {
        for (let b = a + 1; b <= c; b++) {
          const range = { start: a, count: c, leaves: leaves.slice(a, b), siblings: proof(a, b, c).siblings }
          for (let from = a; from < b; from++) {
            for (let to = from + 1; to <= b; to++) {
              // When narrowing it to [from, to)
              const narrowed = narrowRangeProofTo(range, from, to)
              // Then it is the proof of [from, to) at c
              if (narrowed.join() !== proof(from, to, c).siblings.join())
                wrong.push(`[${a},${b})@${c} → [${from},${to})`)
            }
          }
        }
      }
    }
    expect(wrong).toEqual([])
  })

  it("refuses an empty or outside part", () => {
    const range = { start: 3, count: 9, leaves: leaves.slice(3, 7), siblings: proof(3, 7, 9).siblings }
    expect(() => narrowRangeProofTo(range, 4, 4)).toThrow(/\[4, 4\) is not a part of the range \[3, 7\)/)
    expect(() => narrowRangeProofTo(range, 2, 5)).toThrow(RangeError)
    expect(() => narrowRangeProofTo(range, 5, 8)).toThrow(RangeError)
  })
})
