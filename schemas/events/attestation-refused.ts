import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Address } from "../primitives.ts"

/** Why an operator would not sign. */
export const RefusalReason = Schema.Literals([
  "root-mismatch",
  "count-mismatch",
  "block-mismatch",
  "not-finalized",
  "conflicting-signature",
  "wrong-network",
])
export type RefusalReason = typeof RefusalReason.Type

/** An operator declined to sign a proposed checkpoint, and said why. */
export class AttestationRefused extends Schema.TaggedClass<AttestationRefused>()("AttestationRefused", {
  checkpoint: Checkpoint,
  operator: Address,
  reason: RefusalReason,
  /** Human-readable: what the operator's own read showed. */
  detail: Schema.String,
}) {}
