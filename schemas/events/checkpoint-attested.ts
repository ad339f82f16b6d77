import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Address, Bytes32, Hex, U256, Uint } from "../primitives.ts"

/** A signer and its signature, in the order the Inbox requires (ascending signer). */
export class Signature extends Schema.Class<Signature>("Signature")({
  signer: Address,
  signature: Hex,
}) {}

/** A checkpoint whose signatures reached the destination's stake threshold. */
export class CheckpointAttested extends Schema.TaggedClass<CheckpointAttested>()("CheckpointAttested", {
  checkpoint: Checkpoint,
  digest: Bytes32,
  /** The destination Inbox's operator-set epoch the signatures were counted against. */
  epoch: Uint,
  signatures: Schema.Array(Signature),
  signedStake: U256,
  totalStake: U256,
  thresholdBps: Uint,
}) {}
