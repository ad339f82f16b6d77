/**
 * Joins the range proofs of consecutive chunks into the proof of their union,
 * so one `deliver` carries a whole batch; and narrows a range proof to the
 * single-message proof of one of its messages, for `Inbox.retry`.
 *
 * A range proof for leaves `[start, end)` of the tree at `count` leaves holds,
 * level by level, the left sibling of the range's first node (when that node
 * is a right child) and the right sibling of its last node (when that node is
 * a left child with leaves under its sibling) — see docs/contracts.md. Left
 * siblings cover only leaves below `start`, which are the same in every tree
 * of the lane that holds `start`; right siblings depend only on `end` and
 * `count`. So the proof of `[first.start, last.end)` against `last`'s
 * checkpoint takes its left siblings from the first chunk's proof and its
 * right siblings from the last chunk's, even when the chunks were proven
 * against different checkpoints of the lane.
 *
 * @module
 */
import { bytesToHex, concatBytes, type Hex, hexToBytes, keccak256 } from "viem"
import { ChorusError } from "../../../errors/index.ts"
import { ZERO_HASHES } from "../../proof-builder/merkle/index.ts"

const TREE_DEPTH = 32

/** A range proof as `MessageProven` carries it, with the range and count it is for. */
export interface ProofPart {
  readonly start: number
  readonly end: number
  readonly count: number
  readonly siblings: ReadonlyArray<Hex>
}

/** A proof whose length does not match its range. */
export class ProofShapeError extends ChorusError {
  override readonly name = "ProofShapeError"
  declare readonly details: { start: number; end: number; count: number; expected: number; actual: number }
  constructor(details: ProofShapeError["details"]) {
    super(
      `range proof for [${details.start}, ${details.end}) at count ${details.count} has ${details.actual} siblings, ` +
        `${details.expected} expected`,
      { details, hint: "The proof-builder emitted a malformed MessageProven; re-prove the chunk." },
    )
  }
}

interface Level {
  readonly left: boolean
  readonly right: boolean
}

const layoutOf = (start: number, end: number, count: number): ReadonlyArray<Level> => {
  const levels: Level[] = []
  let lo = start
  let hi = end - 1
  for (let h = 0; h < TREE_DEPTH; h++) {
    levels.push({ left: lo % 2 === 1, right: hi % 2 === 0 && (hi + 1) * 2 ** h < count })
    lo = Math.floor(lo / 2)
    hi = Math.floor(hi / 2)
  }
  return levels
}

/**
 * How many siblings the range proof of `[start, end)` at `count` leaves has,
 * for `0 <= start < end <= count`.
 *
 * @example
 * ```ts
 * rangeProofLength(0, 4, 8) // 1: the root of [4, 8)
 * ```
 */
export const rangeProofLength = (start: number, end: number, count: number): number =>
  layoutOf(start, end, count).reduce((n, level) => n + Number(level.left) + Number(level.right), 0)

const split = (part: ProofPart) => {
  const layout = layoutOf(part.start, part.end, part.count)
  const expected = rangeProofLength(part.start, part.end, part.count)
  if (expected !== part.siblings.length) {
    throw new ProofShapeError({ ...part, expected, actual: part.siblings.length })
  }
  const left: Array<Hex | undefined> = []
  const right: Array<Hex | undefined> = []
  let i = 0
  for (const level of layout) {
    left.push(level.left ? part.siblings[i++] : undefined)
    right.push(level.right ? part.siblings[i++] : undefined)
  }
  return { left, right }
}

/**
 * The proof of `[first.start, last.end)` against `last`'s checkpoint, from
 * the proofs of its first and last chunks (the chunks in between are fully
 * inside the range, so their proofs contribute nothing).
 *
 * @example
 * ```ts
 * const siblings = mergeRangeProofs(
 *   { start: 0, end: 2, count: 3, siblings: a.proof },
 *   { start: 3, end: 5, count: 7, siblings: b.proof },
 * ) // the proof of [0, 5) at count 7
 * ```
 */
export const mergeRangeProofs = (first: ProofPart, last: ProofPart): ReadonlyArray<Hex> => {
  if (first === last) return first.siblings
  const head = split(first)
  const tail = split(last)
  const siblings: Hex[] = []
  for (const [h, level] of layoutOf(first.start, last.end, last.count).entries()) {
    // Left needs lo odd at level h, which depends on start only: the first proof has it too; likewise right.
    if (level.left) siblings.push(head.left[h]!)
    if (level.right) siblings.push(tail.right[h]!)
  }
  return siblings
}

/** A range proof with its leaves, as `computeRangeRoot` checks it. */
export interface ProvenRange {
  readonly start: number
  readonly count: number
  readonly leaves: ReadonlyArray<Hex>
  readonly siblings: ReadonlyArray<Hex>
}

/**
 * The range proof of leaves `[from, to)` against the same root, from a range
 * proof that holds them: every node the narrower proof needs is either inside
 * the wider range (hashed from its leaves) or one of its edge siblings. This
 * is how the submitter splits a batch (to isolate a message the chain cannot
 * take, or to stay within a gas budget) without a new proof from the
 * proof-builder, and proves one message of a delivered batch against the root
 * the Inbox committed, whatever checkpoint it was first proven in.
 *
 * @example
 * ```ts
 * const siblings = narrowRangeProofTo({ start: 4, count: 9, leaves: ids.slice(4, 9), siblings: proof }, 5, 7)
 * // inbox.deliver(…, root, start 5, messages 5 and 6, siblings)
 * ```
 */
export const narrowRangeProofTo = (range: ProvenRange, from: number, to: number): ReadonlyArray<Hex> => {
  const end = range.start + range.leaves.length
  if (
    !Number.isInteger(from) ||
    !Number.isInteger(to) ||
    from < range.start ||
    to > end ||
    from >= to ||
    end > range.count
  ) {
    throw new RangeError(
      `narrowRangeProofTo: [${from}, ${to}) is not a part of the range [${range.start}, ${end}) of a tree of ${range.count} leaves`,
    )
  }
  const expected = rangeProofLength(range.start, end, range.count)
  if (expected !== range.siblings.length) {
    throw new ProofShapeError({
      start: range.start,
      end,
      count: range.count,
      expected,
      actual: range.siblings.length,
    })
  }
  // The nodes of the current level that are known: the range's own and its edge siblings.
  let nodes = new Map<number, Uint8Array>(range.leaves.map((leaf, i) => [range.start + i, hexToBytes(leaf)]))
  let used = 0
  const narrow: Hex[] = []
  let lo = range.start
  let hi = end - 1
  let first = from
  let last = to - 1
  for (let h = 0; h < TREE_DEPTH; h++) {
    // The range's edges, in the order the proof lists them (see computeRangeRoot).
    if (lo % 2 === 1) nodes.set(lo - 1, hexToBytes(range.siblings[used++]!))
    if (hi % 2 === 0) {
      const inside = (hi + 1) * 2 ** h < range.count
      nodes.set(hi + 1, inside ? hexToBytes(range.siblings[used++]!) : hexToBytes(ZERO_HASHES[h]!))
    }
    // The narrower range's edges, in the same order: both lie inside the range or on its edges.
    if (first % 2 === 1) narrow.push(bytesToHex(nodes.get(first - 1)!))
    if (last % 2 === 0 && (last + 1) * 2 ** h < range.count) narrow.push(bytesToHex(nodes.get(last + 1)!))
    const parents = new Map<number, Uint8Array>()
    for (let i = lo - (lo % 2); i <= hi; i += 2) {
      parents.set(i / 2, keccak256(concatBytes([nodes.get(i)!, nodes.get(i + 1)!]), "bytes"))
    }
    nodes = parents
    lo = Math.floor(lo / 2)
    hi = Math.floor(hi / 2)
    first = Math.floor(first / 2)
    last = Math.floor(last / 2)
  }
  return narrow
}

/**
 * The single-message proof of leaf `index` against the same root, from a
 * range proof that holds it (`narrowRangeProofTo` of `[index, index + 1)`).
 *
 * @example
 * ```ts
 * const siblings = narrowRangeProof({ start: 4, count: 9, leaves: ids.slice(4, 9), siblings: proof }, 6)
 * // inbox.retry(message6, root, siblings)
 * ```
 */
export const narrowRangeProof = (range: ProvenRange, index: number): ReadonlyArray<Hex> => {
  if (!Number.isInteger(index)) {
    throw new RangeError(`narrowRangeProof: leaf ${index} is not a leaf index`)
  }
  return narrowRangeProofTo(range, index, index + 1)
}
