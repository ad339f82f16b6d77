/**
 * What one observed message is to its lane before any read: a new
 * candidate for its nonce, the same observation again, or false on its
 * face (its id is not its message's, or its nonce is already proven with
 * another message).
 *
 * Only a candidate needs the chain: where it goes (onto the tree, behind a
 * gap, or nowhere) is settled against Outbox reads (`settle.ts`), whatever
 * order the observations arrived in.
 *
 * @module
 */
import type { BlockRef, MessageId, MessageObserved } from "../../../schemas/index.ts"
import { getLeaves } from "../merkle/index.ts"
import { computeMessageId } from "./message-id.ts"
import { type LaneState, observationKey } from "./state.ts"

/** What one observation is to its lane: a closed set, each with its reason. */
export type Admission =
  /** A new candidate for its nonce: the chain decides whether it is a leaf. */
  | { readonly kind: "candidate" }
  /** Seen before: the same observation is a candidate already, or its message is the proven leaf of its nonce. */
  | { readonly kind: "duplicate"; readonly where: "tree" | "candidates" }
  /** False without a read: its id is not its message's, or another message is proven at its nonce. */
  | {
      readonly kind: "rejected"
      readonly reason: "mismatched-id" | "not-in-outbox-root"
      /** The Outbox read that proved the other message (null for a corrupt id). */
      readonly outboxBlock: BlockRef | null
      readonly chainMessageId: MessageId | null
      readonly detail: string
    }

/**
 * Where an observation says its message is, for a reason a person reads.
 *
 * @example
 * ```ts
 * whereObserved(observed) // "tx 0x…12 log 0, block 1234 (0xab…)"
 * ```
 */
export const whereObserved = (observed: MessageObserved): string =>
  `tx ${observed.transactionHash} log ${observed.logIndex}, block ${observed.block.number} (${observed.block.hash})`

/**
 * Classifies an observed message against its lane (`undefined`: a lane with
 * no message yet) without changing anything.
 *
 * @example
 * ```ts
 * const admission = admit(state.lanes.get(laneId(lane)), observed)
 * if (admission.kind === "candidate") // settle it against the Outbox
 * ```
 */
export const admit = (lane: LaneState | undefined, observed: MessageObserved): Admission => {
  const { message, messageId } = observed
  const computed = computeMessageId(message)
  if (!computed.ok || computed.id !== messageId) {
    return {
      kind: "rejected",
      reason: "mismatched-id",
      outboxBlock: null,
      chainMessageId: null,
      detail: `message at nonce ${message.nonce} (${whereObserved(observed)}) carries id ${messageId}, but ${
        computed.ok
          ? `keccak256(abi.encode(message)) is ${computed.id}`
          : `it cannot be ABI-encoded: ${computed.reason}`
      }; the event contradicts itself — check the chain-watcher that produced it`,
    }
  }
  const nonce = message.nonce
  if (lane !== undefined && nonce < lane.tree.count) {
    // Its leaf is the id the Outbox's root proved for the nonce (lowercase, as ids are).
    const proven = getLeaves(lane.tree, nonce, nonce + 1)[0] as MessageId
    if (proven === messageId) return { kind: "duplicate", where: "tree" }
    const at = lane.provenAt
    return {
      kind: "rejected",
      reason: "not-in-outbox-root",
      outboxBlock: at ?? null,
      chainMessageId: proven,
      detail: `nonce ${nonce} is ${proven}, proven in checkpoint #${lane.lastProposed} against the Outbox's root${
        at === undefined ? "" : ` at block ${at.number} (${at.hash})`
      }; this observation (${whereObserved(observed)}) claims ${messageId}`,
    }
  }
  const key = observationKey(observed)
  if (lane?.candidates.get(nonce)?.some((c) => observationKey(c.observed) === key)) {
    return { kind: "duplicate", where: "candidates" }
  }
  return { kind: "candidate" }
}
