import { bytesToHex, type Hex, hexToBytes } from "viem"
import { MAX_LEAVES, TREE_DEPTH, ZERO_HASH_BYTES } from "./constants.ts"
import { ProofLengthError, RangeOutOfBoundsError } from "./errors.ts"
import { hashPair } from "./internal.ts"

/**
 * Hashes a run of consecutive leaves and its edge siblings up to the root, exactly as the Inbox does on chain.
 * Throws if the range is out of bounds or the proof has the wrong number of siblings.
 *
 * @example
 * const root = computeRangeRoot({ start: 5, count: 9, leaves: ids.slice(5, 9), siblings: proof.siblings })
 */
export function computeRangeRoot({
  start,
  count,
  leaves,
  siblings,
}: {
  start: number
  count: number
  leaves: readonly Hex[]
  siblings: readonly Hex[]
}): Hex {
  const end = start + leaves.length
  if (!Number.isInteger(start) || start < 0 || leaves.length === 0 || end > count || count > MAX_LEAVES) {
    throw new RangeOutOfBoundsError({ start, end, count })
  }
  let nodes = leaves.map((leaf) => hexToBytes(leaf))
  let used = 0
  // Past the end, keep counting so the length error reports how many siblings the range needed.
  const next = () => {
    const sibling = used < siblings.length ? hexToBytes(siblings[used]!) : new Uint8Array(32)
    used++
    return sibling
  }
  let lo = start
  let hi = end - 1
  for (let h = 0; h < TREE_DEPTH; h++) {
    const parents: Uint8Array[] = []
    let i = 0
    let idx = lo
    if (lo % 2 === 1) {
      parents.push(hashPair(next(), nodes[0]!))
      i = 1
      idx = lo + 1
    }
    for (; idx < hi; idx += 2, i += 2) parents.push(hashPair(nodes[i]!, nodes[i + 1]!))
    if (idx === hi) {
      const sibling = (hi + 1) * 2 ** h < count ? next() : ZERO_HASH_BYTES[h]!
      parents.push(hashPair(nodes[i]!, sibling))
    }
    nodes = parents
    lo = Math.floor(lo / 2)
    hi = Math.floor(hi / 2)
  }
  if (used !== siblings.length) throw new ProofLengthError({ expected: used, actual: siblings.length })
  return bytesToHex(nodes[0]!)
}
