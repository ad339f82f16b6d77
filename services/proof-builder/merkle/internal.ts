import { keccak256 } from "../../../crypto/keccak.ts"
import { ZERO_HASH_BYTES } from "./constants.ts"
import type { MerkleTree, NodeStore } from "./types.ts"

// Helpers shared by the tree functions; not part of the public API.

const pair = new Uint8Array(64)

/**
 * @internal keccak256(left ++ right) of two 32-byte nodes, into a reused buffer.
 * @example
 * const parent = hashPair(leftNode, rightNode)
 */
export function hashPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  pair.set(left, 0)
  pair.set(right, 32)
  return keccak256(pair, "bytes")
}

/**
 * @internal A view of node `index` in a level store (no copy).
 * @example
 * const leaf = readNode(tree.levels[0]!, 3)
 */
export function readNode(store: NodeStore, index: number): Uint8Array {
  return store.bytes.subarray(index * 32, index * 32 + 32)
}

/**
 * @internal Appends a node to a level store, doubling its buffer when full.
 * @example
 * pushNode(tree.levels[1]!, parent)
 */
export function pushNode(store: NodeStore, node: Uint8Array): void {
  if ((store.length + 1) * 32 > store.bytes.length) {
    const grown = new Uint8Array(Math.max(64 * 32, store.bytes.length * 2))
    grown.set(store.bytes)
    store.bytes = grown
  }
  store.bytes.set(node, store.length * 32)
  store.length++
}

/**
 * Node `index` of level `h` in the tree as it was when it held `count` leaves. Complete subtrees are stored,
 * empty ones are zero hashes, and at most one node per level is partial, so this recurses along a single path.
 */
export function nodeAt(tree: MerkleTree, h: number, index: number, count: number): Uint8Array {
  const first = index * 2 ** h
  if (first >= count) return ZERO_HASH_BYTES[h]!
  if (first + 2 ** h <= count) return readNode(tree.levels[h]!, index)
  return hashPair(nodeAt(tree, h - 1, index * 2, count), nodeAt(tree, h - 1, index * 2 + 1, count))
}
