/**
 * The proof-builder's state: one entry per lane (source chain, outbox,
 * destination chain), holding the tree of the lane's proven messages, the
 * candidates observed for every nonce above it, the Outbox reads that may
 * still settle them, and the count last proposed.
 *
 * A lane's messages are settled against the chain, never taken on the word
 * of whoever published them: an observation is a candidate for its nonce
 * until an Outbox read (made on the proof-builder's own RPC, recorded
 * before the core ran) proves it a leaf or refutes it. Several candidates
 * may wait for one nonce; the chain's root picks among them.
 *
 * Invariants:
 * - `tree.count === lastProposed` between inputs: the tree holds exactly
 *   the proven leaves (leaf `i` is the id of the message of nonce `i`), and
 *   every leaf was checked against an Outbox root.
 * - A lane keeps a proven message only until it is proposed
 *   (`unproposed`): it then travels in `MessageProven`, and the lane keeps
 *   its id as a leaf of the tree, 32 bytes (64 with the tree's inner
 *   nodes) a message. So a lane's state grows by that much a message, not
 *   by what the messages carry.
 * - Every key of `candidates` is at or above `tree.count`, and no list is
 *   empty; a list is in arrival order, and holds at most one observation
 *   per message id and block.
 * - Every anchor counts more messages than the tree: one that does not can
 *   settle nothing more.
 * - `ProofBuilderState.lanes` is copied, never mutated, when a lane is added,
 *   so the core's `initial` state stays empty however often it is folded
 *   from; a lane's own fields are updated in place (its tree is too big to
 *   copy per message).
 *
 * @module
 */
import type { BlockRef, Lane, Message, MessageObserved, OutboxLaneRead } from "../../../schemas/index.ts"
import { createMerkleTree, type MerkleTree } from "../merkle/index.ts"

/** One observation of a message, waiting to be settled against the chain. */
export interface Candidate {
  readonly observed: MessageObserved
  /**
   * The proof-builder's finalized head when the block it names was not final yet, so it was read at that head
   * instead; undefined once read at its own block or never asked. While the lane knows no finalized head at or
   * past its block, another candidate for its nonce is preferred, and its block is not read again.
   */
  readonly deferredAt: number | undefined
}

export interface LaneState {
  readonly lane: Lane
  /** The proven messages' ids, nonce `i` at leaf `i`. */
  readonly tree: MerkleTree
  /** The proven messages not proposed yet, nonces `[lastProposed, tree.count)` (they travel in `MessageProven`). */
  readonly unproposed: Message[]
  /** Observations of every nonce from `tree.count` on, by nonce, in arrival order. */
  readonly candidates: Map<number, Candidate[]>
  /** The lane's Outbox reads that may still settle candidates, by block number (the latest read of a number). */
  readonly anchors: Map<number, OutboxLaneRead>
  /** The highest finalized head any of the lane's reads reported. */
  finalized: number | undefined
  /** The nonce at which the current gap was reported, so it is reported once. */
  gapReportedAt: number | undefined
  /** The count of the last proposed checkpoint (0 before the first). */
  lastProposed: number
  /** The block of the Outbox read the last proposal was checked against: its root commits to every leaf. */
  provenAt: BlockRef | undefined
}

export interface ProofBuilderState {
  /** By `laneId`. */
  readonly lanes: ReadonlyMap<string, LaneState>
}

/** The state before any input. */
export const emptyProofBuilderState: ProofBuilderState = { lanes: new Map() }

/**
 * The state key of a lane: unlike the partition key (`src-dst`), it names
 * the outbox, because two outboxes of one chain are two lanes.
 *
 * @example
 * ```ts
 * laneId({ srcChainId: 901, outbox: "0xabc…", dstChainId: 902 }) // "901:0xabc…:902"
 * ```
 */
export const laneId = (lane: {
  readonly srcChainId: number
  readonly outbox: string
  readonly dstChainId: number
}): string => `${lane.srcChainId}:${lane.outbox}:${lane.dstChainId}`

/**
 * A lane with no message yet.
 *
 * @example
 * ```ts
 * const lane = emptyLane(new Lane({ srcChainId, outbox, dstChainId }))
 * ```
 */
export const emptyLane = (lane: Lane): LaneState => ({
  lane,
  tree: createMerkleTree(),
  unproposed: [],
  candidates: new Map(),
  anchors: new Map(),
  finalized: undefined,
  gapReportedAt: undefined,
  lastProposed: 0,
  provenAt: undefined,
})

/**
 * What makes two observations the same one: the message (its id commits to every field) and the block it
 * names. A transaction hash or log index alone does not change what the chain is asked.
 *
 * @example
 * ```ts
 * observationKey(observed) // "0x12…@1234:0xab…"
 * ```
 */
export const observationKey = (observed: MessageObserved): string =>
  `${observed.messageId}@${observed.block.number}:${observed.block.hash}`
