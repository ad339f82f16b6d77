import { getRangeProof } from "./getRangeProof.ts"
import type { MerkleTree, RangeProof } from "./types.ts"

/**
 * Single-message proof (a range of one) for the leaf at `index`, as the Inbox's `retry` takes it.
 *
 * @example
 * const proof = getMessageProof(tree, nonce, checkpoint.count)
 * // inbox.retry(message, proof.root, proof.siblings)
 */
export function getMessageProof(tree: MerkleTree, index: number, count: number = tree.count): RangeProof {
  return getRangeProof(tree, { start: index, end: index + 1, count })
}
