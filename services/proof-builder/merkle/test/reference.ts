import { concat, encodeAbiParameters, type Hex, keccak256 } from "viem"

// A deliberately naive Merkle implementation (whole levels, recomputed from scratch) that the optimised tree and
// the shared vectors are checked against.

const ZERO: Hex = `0x${"00".repeat(32)}`

/**
 * Deterministic test leaf i: keccak256(abi.encode(uint256 i)).
 * @example
 * testLeaf(0) // leaves[0] of vectors.json
 */
export function testLeaf(i: number): Hex {
  return keccak256(encodeAbiParameters([{ type: "uint256" }], [BigInt(i)]))
}

/**
 * All levels of the depth-32 tree over `leaves`, only as wide as needed (missing nodes are zero subtrees).
 * @example
 * const { levels, zeros } = referenceLevels(leaves)
 */
export function referenceLevels(leaves: readonly Hex[]): { levels: Hex[][]; zeros: Hex[] } {
  const zeros: Hex[] = [ZERO]
  for (let h = 1; h <= 32; h++) zeros.push(keccak256(concat([zeros[h - 1]!, zeros[h - 1]!])))
  const levels: Hex[][] = [[...leaves]]
  for (let h = 0; h < 32; h++) {
    const level = levels[h]!
    const parents: Hex[] = []
    for (let i = 0; i < level.length; i += 2) {
      parents.push(keccak256(concat([level[i]!, level[i + 1] ?? zeros[h]!])))
    }
    levels.push(parents)
  }
  return { levels, zeros }
}

/**
 * Root of the tree over `leaves`, computed naively.
 * @example
 * referenceRoot([]) // zero hash of level 32
 */
export function referenceRoot(leaves: readonly Hex[]): Hex {
  const { levels, zeros } = referenceLevels(leaves)
  return levels[32]![0] ?? zeros[32]!
}

/**
 * The edge proof, straight from the rule in getRangeProof's doc, over naively computed levels.
 * @example
 * referenceRangeProof(leaves, 2, 5)
 */
export function referenceRangeProof(leaves: readonly Hex[], start: number, end: number): Hex[] {
  const { levels, zeros } = referenceLevels(leaves)
  const node = (h: number, i: number) => levels[h]![i] ?? zeros[h]!
  const siblings: Hex[] = []
  let lo = start
  let hi = end - 1
  for (let h = 0; h < 32; h++) {
    if (lo % 2 === 1) siblings.push(node(h, lo - 1))
    if (hi % 2 === 0 && (hi + 1) * 2 ** h < leaves.length) siblings.push(node(h, hi + 1))
    lo = Math.floor(lo / 2)
    hi = Math.floor(hi / 2)
  }
  return siblings
}
