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
 * The partial nodes computed for a tree's recent historical counts, at most one per level and count. Kept
 * beside the tree, not in it, so a tree's value (what a state comparison or a copy sees) is its leaves alone.
 * Only leaves below a count make its nodes: appending keeps them right, and a truncation forgets the counts
 * above the new one (`forgetPartialsAbove`).
 */
const partialsOf = new WeakMap<MerkleTree, Map<number, Array<Uint8Array | undefined>>>()

/**
 * @internal Forgets the partial nodes of every count above `count`: the leaves appended after a truncation
 * may differ from the ones taken back.
 * @example
 * forgetPartialsAbove(tree, 12)
 */
export function forgetPartialsAbove(tree: MerkleTree, count: number): void {
  const partials = partialsOf.get(tree)
  if (partials === undefined) return
  for (const remembered of partials.keys()) if (remembered > count) partials.delete(remembered)
}

/**
 * How many counts' partial nodes a tree remembers. Proofs come in bursts at one count (a proposal's range and
 * single proofs, each needing the root and the siblings along the edge at `count`), and a settle asks roots at
 * a few counts in turn.
 */
const REMEMBERED_COUNTS = 4

/**
 * Node `index` of level `h` in the tree as it was when it held `count` leaves. Complete subtrees are stored,
 * empty ones are zero hashes, and at most one node per level is partial, so this recurses along a single path;
 * each partial node is hashed once per count (`partialsOf`), not once per proof that needs it.
 */
export function nodeAt(tree: MerkleTree, h: number, index: number, count: number): Uint8Array {
  const first = index * 2 ** h
  if (first >= count) return ZERO_HASH_BYTES[h]!
  if (first + 2 ** h <= count) return readNode(tree.levels[h]!, index)
  let counts = partialsOf.get(tree)
  if (counts === undefined) {
    counts = new Map()
    partialsOf.set(tree, counts)
  }
  let partials = counts.get(count)
  if (partials === undefined) {
    partials = []
    counts.set(count, partials)
    if (counts.size > REMEMBERED_COUNTS) counts.delete(counts.keys().next().value!)
  }
  let node = partials[h]
  if (node === undefined) {
    node = hashPair(nodeAt(tree, h - 1, index * 2, count), nodeAt(tree, h - 1, index * 2 + 1, count))
    partials[h] = node
  }
  return node
}
