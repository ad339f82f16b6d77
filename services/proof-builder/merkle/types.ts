import type { Hex } from "viem"

/**
 * An append-only Merkle tree of depth 32 (keccak256, the deposit-contract construction), keeping every complete
 * node so that proofs can be built for any range against the tree as it was at any earlier count.
 * Create it with `createMerkleTree`; mutate it only with `appendLeaf`.
 */
export type MerkleTree = {
  /** Leaves appended so far. */
  count: number
  /** levels[h] holds the complete nodes of level h, 32 bytes each (`floor(count / 2^h)` of them). */
  readonly levels: NodeStore[]
}

export type NodeStore = { bytes: Uint8Array; length: number }

/**
 * Proof that `leaves[start..end)` are the leaves at those indices of the tree with `count` leaves and root `root`.
 * `siblings` is the compact edge proof checked by the Inbox (see `getRangeProof`).
 */
export type RangeProof = {
  start: number
  end: number
  count: number
  root: Hex
  siblings: Hex[]
}
