import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Address } from "../primitives.ts"

/**
 * Why an operator would not sign. `rpc-invalid` (version 2): its own RPC
 * answered what does not decode every time it was asked for the
 * proposal's facts, so it had nothing to sign against (the RPC's fault,
 * recorded as a `ChainReadFailed` beside the refusal).
 */
export const RefusalReason = Schema.Literals([
  "root-mismatch",
  "count-mismatch",
  "block-mismatch",
  "not-finalized",
  "conflicting-signature",
  "wrong-network",
  "rpc-invalid",
])
export type RefusalReason = typeof RefusalReason.Type

/**
 * An operator declined to sign a proposed checkpoint, and said why.
 *
 * Version 2 added the reason `rpc-invalid`; a version-1 record is read as it
 * is (its reasons are all still reasons). A build that reads only version 1
 * refuses a version-2 record by its version, not by a reason it does not
 * know.
 */
export class AttestationRefused extends Schema.TaggedClass<AttestationRefused>()("AttestationRefused", {
  checkpoint: Checkpoint,
  operator: Address,
  reason: RefusalReason,
  /** Human-readable: what the operator's own read showed. */
  detail: Schema.String,
}) {}

/**
 * Lifts a version-1 `AttestationRefused` wire payload to version 2: nothing changes, since version 2 only
 * added a reason.
 *
 * @example
 * ```ts
 * upcastAttestationRefusedV1({ checkpoint, operator, reason: "root-mismatch", detail: "…" }) // the same payload
 * ```
 */
export const upcastAttestationRefusedV1 = (payload: unknown): unknown => payload
