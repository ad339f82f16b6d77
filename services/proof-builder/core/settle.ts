/**
 * Settling a lane's candidates against Outbox reads: which observations are
 * the chain's leaves, which are false, and which must wait.
 *
 * An Outbox read (block R, count m, root) is the proof-builder's own RPC's
 * word about the chain, recorded before the core ran. Its root commits to
 * exactly the first m leaves of the lane, and its count to how far the lane
 * had got at R, so it can settle what any publisher of `MessageObserved`
 * claims.
 *
 * Pipeline, repeated until a round changes nothing:
 *   1. counts: with the nearest read at or after the block a candidate
 *      names, a nonce n ≥ m was not sent by then (`nonce-not-sent-by-block`);
 *      with the nearest read before it, a nonce n < m was sent before the
 *      block it names (`nonce-sent-before-block`). Each is refuted. A read of
 *      the named block under another hash is about a block this RPC does not
 *      have, so it says nothing about that candidate.
 *   2. roots, the read with the largest count first: once every nonce from
 *      the proven count up to m has a candidate, the combination of them
 *      whose root is the read's root is the chain's leaves (keccak256 is
 *      collision resistant). It is proven; every other candidate of those
 *      nonces is refuted (`not-in-outbox-root`, naming the chain's message),
 *      and another observation of a proven message is superseded. With a
 *      single nonce in range, a candidate whose root differs is refuted too.
 *
 * Invariants:
 * - Pure: the lane is left as it was (the tree takes candidate leaves and
 *   gives them back before `settle` returns), so the service can plan its
 *   reads with the very function `decide` acts on.
 * - Only a read refutes or proves. Arrival order only orders the tries, so
 *   a forgery that arrives first is not kept for it, and one that arrives
 *   later is not ignored for it.
 * - A read never proves a leaf through an observation naming the read's own
 *   block under another hash: the watcher and this RPC disagree about that
 *   block, and that is reported, not settled.
 * - At most `MAX_COMBINATIONS` roots are tried per read and round, so a
 *   flood of plausible observations costs bounded work; past it the read is
 *   reported unsettled (`too-many`).
 *
 * @module
 */
import type { Hex } from "viem"
import type { BlockRef, MessageId, OutboxLaneRead } from "../../../schemas/index.ts"
import { appendLeaf, getRoot, truncateTree } from "../merkle/index.ts"
import { whereObserved } from "./admit.ts"
import type { Candidate, LaneState } from "./state.ts"

/** Roots tried against one read in one round, at most. */
export const MAX_COMBINATIONS = 256

/** A candidate a read showed false, and why. */
export interface Refutation {
  readonly candidate: Candidate
  readonly reason: "not-in-outbox-root" | "nonce-not-sent-by-block" | "nonce-sent-before-block"
  readonly read: OutboxLaneRead
  /** The message the chain holds at the nonce, when the read names it. */
  readonly chainMessageId: MessageId | null
  readonly detail: string
}

/** Leaves a read proved: the lane's messages from the count before up to the read's count. */
export interface Proven {
  readonly read: OutboxLaneRead
  readonly leaves: ReadonlyArray<Candidate>
}

/** A read whose range has a candidate at every nonce, but that proved nothing: a closed set, with the reason. */
export type Unsettled =
  /** No combination of the candidates gives the read's root: an observed message differs from the chain's. */
  | { readonly kind: "no-combination"; readonly read: OutboxLaneRead; readonly detail: string }
  /** The root matches only through an observation naming the read's block under another hash. */
  | { readonly kind: "other-block"; readonly read: OutboxLaneRead; readonly detail: string }
  /** More combinations than `MAX_COMBINATIONS`: the lane has more conflicting observations than it tries. */
  | { readonly kind: "too-many"; readonly read: OutboxLaneRead; readonly detail: string }

export interface Settlement {
  /** In order: each proves the lane from the count before it up to its read's count. */
  readonly proven: ReadonlyArray<Proven>
  readonly refuted: ReadonlyArray<Refutation>
  /** Other observations of a message just proven (another block or transaction named): dropped, not false. */
  readonly superseded: ReadonlyArray<Candidate>
  /** The lane's proven count afterwards. */
  readonly count: number
  /** The candidates left, by nonce, best first (see `preferred`). */
  readonly left: ReadonlyMap<number, ReadonlyArray<Candidate>>
  /** The first nonce from `count` with no candidate left. */
  readonly end: number
  /** Reads that could settle their range and did not, after the last round. */
  readonly unsettled: ReadonlyArray<Unsettled>
}

export interface SettleOptions {
  /** Every read that may settle something: the lane's anchors and the reads made for the input. */
  readonly reads: ReadonlyArray<OutboxLaneRead>
  /** A candidate not in the lane yet (the input being planned or decided). */
  readonly extra?: Candidate
  /** The highest finalized head known (deferred candidates past it are tried last). */
  readonly finalized: number | undefined
}

const blockText = (block: BlockRef) => `block ${block.number} (${block.hash})`

/** Is the candidate waiting for its block to become final on the proof-builder's RPC? */
export const isDeferred = (candidate: Candidate, finalized: number | undefined): boolean =>
  candidate.deferredAt !== undefined &&
  (finalized === undefined || candidate.observed.block.number > finalized)

/** Does a read of the candidate's own block number have another hash for it? */
const disputedBy = (read: OutboxLaneRead | undefined, candidate: Candidate) =>
  read !== undefined &&
  read.block.number === candidate.observed.block.number &&
  read.block.hash !== candidate.observed.block.hash

/**
 * The candidates of one nonce, best first: those whose block is final and agrees with the lane's reads, then
 * the others, each group in arrival order.
 *
 * @example
 * ```ts
 * const [first] = preferred(lane.candidates.get(nonce) ?? [], byNumber, lane.finalized)
 * ```
 */
export const preferred = (
  list: ReadonlyArray<Candidate>,
  byNumber: ReadonlyMap<number, OutboxLaneRead>,
  finalized: number | undefined,
): Candidate[] => {
  const good = (c: Candidate) =>
    !isDeferred(c, finalized) && !disputedBy(byNumber.get(c.observed.block.number), c)
  return [...list.filter(good), ...list.filter((c) => !good(c))]
}

/** One message among a nonce's candidates: every observation of it, those that agree with `read` first. */
interface Choice {
  readonly messageId: MessageId
  readonly observations: ReadonlyArray<Candidate>
}

const choicesOf = (list: ReadonlyArray<Candidate>, read: OutboxLaneRead): Choice[] => {
  const byId = new Map<MessageId, Candidate[]>()
  for (const candidate of list) {
    const same = byId.get(candidate.observed.messageId) ?? []
    same.push(candidate)
    byId.set(candidate.observed.messageId, same)
  }
  return [...byId].map(([messageId, observations]) => ({
    messageId,
    observations: [
      ...observations.filter((c) => !disputedBy(read, c)),
      ...observations.filter((c) => disputedBy(read, c)),
    ],
  }))
}

type Search =
  | { readonly kind: "found"; readonly leaves: ReadonlyArray<Candidate> }
  | { readonly kind: "other-block"; readonly leaves: ReadonlyArray<Candidate> }
  | { readonly kind: "none"; readonly tries: number; readonly firstRoot: Hex }
  | { readonly kind: "too-many"; readonly combinations: number }

/**
 * Tries combinations of the choices on the tree (one message per nonce, in preference order) until one gives
 * the read's root, taking every tried leaf back.
 */
const search = (
  lane: LaneState,
  read: OutboxLaneRead,
  choices: ReadonlyArray<ReadonlyArray<Choice>>,
): Search => {
  const tree = lane.tree
  const start = tree.count
  const combinations = choices.reduce((n, c) => n * c.length, 1)
  const picked: Choice[] = []
  let tries = 0
  let firstRoot: Hex | undefined
  let disputed: ReadonlyArray<Candidate> | undefined
  const go = (i: number): ReadonlyArray<Candidate> | undefined => {
    if (i === choices.length) {
      tries++
      const root = getRoot(tree)
      firstRoot ??= root
      if (root !== read.root) return undefined
      const leaves = picked.map((choice) => choice.observations[0]!)
      if (leaves.some((c) => disputedBy(read, c))) {
        disputed ??= leaves
        return undefined
      }
      return leaves
    }
    for (const choice of choices[i]!) {
      if (tries >= MAX_COMBINATIONS) return undefined
      appendLeaf(tree, choice.messageId as Hex)
      picked.push(choice)
      const found = go(i + 1)
      picked.pop()
      truncateTree(tree, start + i)
      if (found !== undefined) return found
    }
    return undefined
  }
  try {
    const found = go(0)
    if (found !== undefined) return { kind: "found", leaves: found }
    if (disputed !== undefined) return { kind: "other-block", leaves: disputed }
    if (tries >= MAX_COMBINATIONS && combinations > tries) return { kind: "too-many", combinations }
    return { kind: "none", tries, firstRoot: firstRoot! }
  } finally {
    truncateTree(tree, start)
  }
}

/** The root the lane's tree would have with one more leaf. */
const rootWith = (lane: LaneState, leaf: MessageId): Hex => {
  const start = lane.tree.count
  appendLeaf(lane.tree, leaf as Hex)
  try {
    return getRoot(lane.tree)
  } finally {
    truncateTree(lane.tree, start)
  }
}

/**
 * Settles a lane's candidates (and `extra`) against reads, without changing the lane.
 *
 * @example
 * ```ts
 * const settlement = settle(lane, { reads: [...lane.anchors.values(), ...fresh], finalized: lane.finalized })
 * for (const { read, leaves } of settlement.proven) // append the leaves, propose at read.block
 * ```
 */
export const settle = (lane: LaneState, options: SettleOptions): Settlement => {
  const { finalized } = options
  const byNumber = new Map<number, OutboxLaneRead>()
  for (const read of options.reads) byNumber.set(read.block.number, read)
  const reads = [...byNumber.values()]
  const left = new Map<number, Candidate[]>()
  for (const [nonce, list] of lane.candidates) left.set(nonce, [...list])
  if (options.extra !== undefined) {
    const nonce = options.extra.observed.message.nonce
    left.set(nonce, [...(left.get(nonce) ?? []), options.extra])
  }
  const proven: Proven[] = []
  const refuted: Refutation[] = []
  const superseded: Candidate[] = []
  const base = lane.tree.count
  let unsettled: Unsettled[] = []

  const remove = (nonce: number, candidate: Candidate) => {
    const list = left.get(nonce)!.filter((c) => c !== candidate)
    if (list.length === 0) left.delete(nonce)
    else left.set(nonce, list)
  }
  const endFrom = (count: number) => {
    let end = count
    while (left.has(end)) end++
    return end
  }

  // By block number: a lane's count only grows, so the nearest read on each side of a claimed block is the
  // strongest fact about it, and one binary search per candidate finds both.
  const sorted = [...reads].sort((a, b) => a.block.number - b.block.number)
  const firstFrom = (number: number) => {
    let lo = 0
    let hi = sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (sorted[mid]!.block.number < number) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Step 1: refutes what a read's count contradicts; true if anything was. */
  const byCounts = (): boolean => {
    let changed = false
    for (const [nonce, list] of [...left]) {
      for (const candidate of list) {
        const claimed = candidate.observed.block
        const at = firstFrom(claimed.number)
        // A read of the claimed number under another hash is about another block: it says nothing here.
        const later = disputedBy(sorted[at], candidate) ? sorted[at + 1] : sorted[at]
        const earlier = sorted[at - 1]
        const where = whereObserved(candidate.observed)
        if (later !== undefined && nonce >= later.count) {
          refuted.push({
            candidate,
            reason: "nonce-not-sent-by-block",
            read: later,
            chainMessageId: null,
            detail: `the Outbox counted ${later.count} message(s) at ${blockText(later.block)}, so nonce ${nonce} was not sent by then, but this observation (${where}) puts it in block ${claimed.number}`,
          })
        } else if (earlier !== undefined && nonce < earlier.count) {
          refuted.push({
            candidate,
            reason: "nonce-sent-before-block",
            read: earlier,
            chainMessageId: null,
            detail: `the Outbox already counted ${earlier.count} message(s) at ${blockText(earlier.block)}, so nonce ${nonce} was sent at or before it, but this observation (${where}) puts it in block ${claimed.number}`,
          })
        } else continue
        remove(nonce, candidate)
        changed = true
      }
    }
    return changed
  }

  /** Step 2: proves or refutes through one read's root; true if anything changed. */
  const byRoot = (read: OutboxLaneRead): boolean => {
    const count = lane.tree.count
    const choices = Array.from({ length: read.count - count }, (_, i) =>
      choicesOf(preferred(left.get(count + i)!, byNumber, finalized), read),
    )
    const found = search(lane, read, choices)
    const range = `nonce${read.count - count === 1 ? ` ${count}` : `s ${count}–${read.count - 1}`}`
    const outboxRoot = `the Outbox's root at ${blockText(read.block)} after ${read.count} messages is ${read.root}`
    switch (found.kind) {
      case "found": {
        for (const [i, leaf] of found.leaves.entries()) {
          const nonce = count + i
          appendLeaf(lane.tree, leaf.observed.messageId as Hex)
          for (const other of left.get(nonce)!) {
            if (other === leaf) continue
            if (other.observed.messageId === leaf.observed.messageId) {
              superseded.push(other)
              continue
            }
            refuted.push({
              candidate: other,
              reason: "not-in-outbox-root",
              read,
              chainMessageId: leaf.observed.messageId,
              detail: `${outboxRoot}, which commits to ${leaf.observed.messageId} at nonce ${nonce}; this observation (${whereObserved(other.observed)}) claims ${other.observed.messageId}`,
            })
          }
          left.delete(nonce)
        }
        proven.push({ read, leaves: found.leaves })
        return true
      }
      case "none": {
        if (read.count - count === 1) {
          // One nonce in range: the root judges each of its candidates alone.
          let changed = false
          for (const candidate of left.get(count)!) {
            const root = rootWith(lane, candidate.observed.messageId)
            if (root === read.root) continue
            refuted.push({
              candidate,
              reason: "not-in-outbox-root",
              read,
              chainMessageId: null,
              detail: `${outboxRoot}, but with this observation (${whereObserved(candidate.observed)}) at nonce ${count} the tree's root would be ${root}: the chain holds another message at nonce ${count}`,
            })
            remove(count, candidate)
            changed = true
          }
          if (changed) return true
        }
        unsettled.push({
          kind: "no-combination",
          read,
          detail: `after ${read.count} messages the tree's root is ${found.firstRoot}, but ${outboxRoot}: no combination of the observations of ${range} (${found.tries} tried) gives it, so an observed message differs from the one the Outbox holds; the lane waits for another observation`,
        })
        return false
      }
      case "other-block": {
        const odd = found.leaves.find((c) => disputedBy(read, c))!
        unsettled.push({
          kind: "other-block",
          read,
          detail: `the Outbox was read at ${blockText(read.block)}, but the lane's message at nonce ${odd.observed.message.nonce} was observed in ${blockText(odd.observed.block)}: the chain-watcher and the proof-builder's RPC disagree about the chain; the lane waits for an observation in the chain's block`,
        })
        return false
      }
      case "too-many":
        unsettled.push({
          kind: "too-many",
          read,
          detail: `${range} have ${found.combinations} combinations of conflicting observations, more than the ${MAX_COMBINATIONS} the proof-builder tries against ${outboxRoot}; the lane waits — check the chain-watcher that published them`,
        })
        return false
    }
  }

  try {
    for (;;) {
      if (byCounts()) continue
      unsettled = []
      const end = endFrom(lane.tree.count)
      const ready = reads
        .filter((read) => read.count > lane.tree.count && read.count <= end)
        .sort((a, b) => b.count - a.count || a.block.number - b.block.number)
      let changed = false
      for (const read of ready) {
        if (byRoot(read)) {
          changed = true
          break
        }
      }
      if (!changed) break
    }
    const count = lane.tree.count
    const ordered = new Map(
      [...left]
        .sort(([a], [b]) => a - b)
        .map(([nonce, list]) => [nonce, preferred(list, byNumber, finalized)] as const),
    )
    return { proven, refuted, superseded, count, left: ordered, end: endFrom(count), unsettled }
  } finally {
    truncateTree(lane.tree, base)
  }
}
