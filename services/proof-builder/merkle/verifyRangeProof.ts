import type { Hex } from "viem"
import { computeRangeRoot } from "./computeRangeRoot.ts"

/**
 * Checks a range proof off chain; false for a wrong root, a tampered leaf or sibling, or a malformed proof.
 *
 * @example
 * verifyRangeProof({ root: proof.root, start: 0, count: 8, leaves: ids, siblings: proof.siblings }) // true
 */
export function verifyRangeProof(args: {
  root: Hex
  start: number
  count: number
  leaves: readonly Hex[]
  siblings: readonly Hex[]
}): boolean {
  try {
    return computeRangeRoot(args).toLowerCase() === args.root.toLowerCase()
  } catch {
    return false
  }
}
