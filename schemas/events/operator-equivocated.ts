import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Address, Bytes32, Hex } from "../primitives.ts"

/** One checkpoint as an operator signed it: the EIP-712 digest recomputed from it, and the signature over it. */
export class SignedCheckpoint extends Schema.Class<SignedCheckpoint>("SignedCheckpoint")({
  checkpoint: Checkpoint,
  digest: Bytes32,
  signature: Hex,
}) {}

/**
 * Evidence: one operator's valid signatures over two different roots for one lane and count, as the collector
 * heard them. Both signatures recover to the operator under the network's domain, so the pair is what
 * `OperatorRegistry.proveEquivocation` takes to eject it.
 */
export class OperatorEquivocated extends Schema.TaggedClass<OperatorEquivocated>()("OperatorEquivocated", {
  operator: Address,
  /** The signature the collector heard first. */
  first: SignedCheckpoint,
  second: SignedCheckpoint,
  /** Human-readable: what was signed twice, and how to prove it on the hub. */
  reason: Schema.String,
}) {}
