import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Address } from "../primitives.ts"

/**
 * Why an operator would not sign. `rpc-invalid` (version 2): its own RPC
 * answered what does not decode every time it was asked for the
 * proposal's facts, so it had nothing to sign against (the RPC's fault,
 * recorded as a `ChainReadFailed` beside the refusal). `chain-halted`
 * (version 3): the proposal's source chain is halted on the log (its
 * watcher saw it rewritten below finality, and no `chorus chain resume`
 * has lifted it), recorded as a `ChainHaltRead` beside the refusal.
 */
export const RefusalReason = Schema.Literals([
  "root-mismatch",
  "count-mismatch",
  "block-mismatch",
  "not-finalized",
  "conflicting-signature",
  "wrong-network",
  "rpc-invalid",
  "chain-halted",
])
export type RefusalReason = typeof RefusalReason.Type

/**
 * An operator declined to sign a proposed checkpoint, and said why.
 *
 * Version 2 added the reason `rpc-invalid`, version 3 `chain-halted`; an
 * older record is read as it is (its reasons are all still reasons). A build
 * that reads only an older version refuses a newer record by its version,
 * not by a reason it does not know.
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

/**
 * Lifts a version-2 `AttestationRefused` wire payload to version 3: nothing changes, since version 3 only
 * added a reason.
 *
 * @example
 * ```ts
 * upcastAttestationRefusedV2({ checkpoint, operator, reason: "rpc-invalid", detail: "…" }) // the same payload
 * ```
 */
export const upcastAttestationRefusedV2 = (payload: unknown): unknown => payload
