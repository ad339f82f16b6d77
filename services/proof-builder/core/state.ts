/**
 * The proof-builder's state: one entry per lane (source chain, outbox,
 * destination chain), holding the tree of the lane's contiguous messages, the
 * messages that arrived ahead of a gap, the count last proposed and the last
 * Outbox read.
 *
 * Invariants:
 * - `tree.count === messages.length === ids.length`; leaf `i` is `ids[i]`,
 *   the id of `messages[i]`.
 * - Every key of `waiting` is above `tree.count` (a waiting message is never
 *   also in the tree).
 * - `lastProposed <= tree.count`.
 * - `ProofBuilderState.lanes` is copied, never mutated, when a lane is added,
 *   so the core's `initial` state stays empty however often it is folded
 *   from; a lane's own fields are updated in place (its tree is too big to
 *   copy per message).
 *
 * @module
 */
import type {
  BlockRef,
  Lane,
  Message,
  MessageId,
  MessageObserved,
  OutboxLaneRead,
} from "../../../schemas/index.ts"
import { createMerkleTree, type MerkleTree } from "../merkle/index.ts"

export interface LaneState {
  readonly lane: Lane
  /** The contiguous messages' ids, nonce `i` at leaf `i`. */
  readonly tree: MerkleTree
  /** The contiguous messages, by nonce (they travel in `MessageProven`). */
  readonly messages: Message[]
  /** Their ids, by nonce. */
  readonly ids: MessageId[]
  /** The block of the newest contiguous message: where the Outbox is read. */
  head: BlockRef | undefined
  /** Messages above the tree's count, by nonce, until the gap below them closes. */
  readonly waiting: Map<number, MessageObserved>
  /** The tree count at which the current gap was reported, so it is reported once. */
  gapReportedAt: number | undefined
  /** The count of the last proposed checkpoint (0 before the first). */
  lastProposed: number
  /** The last Outbox read the lane was checked against. */
  lastRead: OutboxLaneRead | undefined
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
  messages: [],
  ids: [],
  head: undefined,
  waiting: new Map(),
  gapReportedAt: undefined,
  lastProposed: 0,
  lastRead: undefined,
})
