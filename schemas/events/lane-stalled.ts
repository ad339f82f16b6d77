import { Schema } from "effect"
import { Lane } from "../lane.ts"
import { Uint } from "../primitives.ts"

/** Why the proof-builder cannot propose for a lane. */
export const StallReason = Schema.Literals(["nonce-gap", "root-mismatch", "conflicting-message"])
export type StallReason = typeof StallReason.Type

/**
 * The proof-builder cannot go on with a lane: a nonce is missing, its tree
 * disagrees with the Outbox, or two different messages claim one nonce. It
 * waits (a gap can close); it never skips.
 */
export class LaneStalled extends Schema.TaggedClass<LaneStalled>()("LaneStalled", {
  lane: Lane,
  reason: StallReason,
  /** The count the proof-builder's tree has reached. */
  treeCount: Uint,
  detail: Schema.String,
}) {}
