/**
 * Where an observed message goes in its lane: onto the tree, into the
 * waiting room behind a gap, or nowhere (a duplicate, a conflict, an event
 * whose id does not match its message).
 *
 * `admit` only looks; `applyAdmission` then changes the lane. The split lets
 * the service ask, before it reads the chain, whether this message extends
 * the tree and which block the tree's head will be in — the same answer
 * `decide` acts on afterwards.
 *
 * @module
 */
import type { Hex } from "viem"
import type { BlockRef, MessageObserved } from "../../../schemas/index.ts"
import { appendLeaf } from "../merkle/index.ts"
import { computeMessageId } from "./message-id.ts"
import type { LaneState } from "./state.ts"

/** What one observed message does to its lane: a closed set, each with its reason. */
export type Admission =
  /** It is the next nonce: it and the waiting messages it makes contiguous go onto the tree. */
  | {
      readonly kind: "extends"
      /** In nonce order: the observed message, then the drained waiting ones. */
      readonly appended: ReadonlyArray<MessageObserved>
      /** The tree count afterwards. */
      readonly count: number
      /** The block of the newest appended message: where the Outbox is read. */
      readonly head: BlockRef
    }
  /** It is above the next nonce: it waits for the gap below it to close. */
  | { readonly kind: "ahead"; readonly missing: number }
  /** The same message is already in the tree or waiting (a watcher re-read a range). */
  | { readonly kind: "duplicate"; readonly where: "tree" | "waiting" }
  /** Another message already holds its nonce. */
  | { readonly kind: "conflicting"; readonly detail: string }
  /** Its `messageId` is not the id of its `message`: the event is corrupt and cannot be a leaf. */
  | { readonly kind: "mismatched-id"; readonly detail: string }

const where = (observed: MessageObserved) =>
  `tx ${observed.transactionHash} log ${observed.logIndex}, block ${observed.block.number} (${observed.block.hash})`

/**
 * Classifies an observed message against its lane (`undefined`: a lane with
 * no message yet) without changing anything.
 *
 * @example
 * ```ts
 * const admission = admit(state.lanes.get(laneId(lane)), observed)
 * if (admission.kind === "extends") // read the Outbox at admission.head
 * ```
 */
export const admit = (lane: LaneState | undefined, observed: MessageObserved): Admission => {
  const { message, messageId } = observed
  const computed = computeMessageId(message)
  if (!computed.ok || computed.id !== messageId) {
    return {
      kind: "mismatched-id",
      detail: `message at nonce ${message.nonce} (${where(observed)}) carries id ${messageId}, but ${
        computed.ok
          ? `keccak256(abi.encode(message)) is ${computed.id}`
          : `it cannot be ABI-encoded: ${computed.reason}`
      }; the event was ignored — check the chain-watcher that produced it`,
    }
  }
  const count = lane?.tree.count ?? 0
  const nonce = message.nonce
  if (nonce < count) {
    const existing = lane!.ids[nonce]!
    if (existing === messageId) return { kind: "duplicate", where: "tree" }
    return {
      kind: "conflicting",
      detail: `nonce ${nonce} is ${existing} in the tree, but ${messageId} (${where(observed)}) claims it too; the new one was ignored`,
    }
  }
  if (nonce > count) {
    const waiting = lane?.waiting.get(nonce)
    if (waiting === undefined) return { kind: "ahead", missing: count }
    if (waiting.messageId === messageId) return { kind: "duplicate", where: "waiting" }
    return {
      kind: "conflicting",
      detail: `nonce ${nonce} is ${waiting.messageId} (${where(waiting)}) in the waiting room, but ${messageId} (${where(observed)}) claims it too; the new one was ignored`,
    }
  }
  const appended = [observed]
  for (let next = count + 1; lane?.waiting.has(next); next++) appended.push(lane.waiting.get(next)!)
  return { kind: "extends", appended, count: count + appended.length, head: appended.at(-1)!.block }
}

/**
 * Applies an admission to its lane: appends what extends the tree, parks
 * what is ahead. Duplicates, conflicts and corrupt events change nothing.
 *
 * @example
 * ```ts
 * applyAdmission(lane, observed, admit(lane, observed))
 * ```
 */
export const applyAdmission = (lane: LaneState, observed: MessageObserved, admission: Admission): void => {
  switch (admission.kind) {
    case "extends":
      for (const next of admission.appended) {
        appendLeaf(lane.tree, next.messageId as Hex)
        lane.messages.push(next.message)
        lane.ids.push(next.messageId)
        lane.waiting.delete(next.message.nonce)
      }
      lane.head = admission.head
      return
    case "ahead":
      lane.waiting.set(observed.message.nonce, observed)
      return
    case "duplicate":
    case "conflicting":
    case "mismatched-id":
      return
  }
}
