import { Schema } from "effect"
import { BlockRef } from "../lane.ts"
import { Address, Bytes32, Uint } from "../primitives.ts"
import { SignedCheckpoint } from "./operator-equivocated.ts"

/** What the collector's own RPC showed of the lane at the proposal's block: the count and root there. */
export class SourceLaneSeen extends Schema.Class<SourceLaneSeen>("SourceLaneSeen")({
  block: BlockRef,
  count: Uint,
  root: Bytes32,
}) {}

/**
 * Evidence: one operator's valid signature over a root its source chain never had at that count. Its peers refused
 * the checkpoint (`refusedBy`, each naming what its own RPC showed), and the collector's own read of the source
 * Outbox at the proposal's block (`source`: that very block, the checkpoint's count, another root) contradicts it.
 * A lane's tree only grows, so a count has one root for good: the signature is false whatever block anyone reads.
 * For a lane of the hub chain, `OperatorRegistry.proveInvalidAttestation` ejects the operator on this; for another
 * chain's lane, that chain's `CheckpointFraudProofs.judge` shows it.
 */
export class OperatorAttestedInvalid extends Schema.TaggedClass<OperatorAttestedInvalid>()(
  "OperatorAttestedInvalid",
  {
    operator: Address,
    signed: SignedCheckpoint,
    source: SourceLaneSeen,
    refusedBy: Schema.Array(Address),
    /** Human-readable: what was signed, what the chain has, and how to prove it. */
    reason: Schema.String,
  },
) {}
