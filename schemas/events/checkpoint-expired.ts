import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Bytes32, U256 } from "../primitives.ts"

/** A proposal that did not reach the threshold in time; the collector stops waiting for it. */
export class CheckpointExpired extends Schema.TaggedClass<CheckpointExpired>()("CheckpointExpired", {
  checkpoint: Checkpoint,
  digest: Bytes32,
  signedStake: U256,
  requiredStake: U256,
  /** Human-readable: who signed, who did not, and for how long it waited. */
  reason: Schema.String,
}) {}
