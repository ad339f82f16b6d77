import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Address, Bytes32, Hex, U256, Uint } from "../primitives.ts"

/** What the attestation-collector made of one signature. */
export const SignatureResult = Schema.Literals([
  /** Counted towards the threshold. */
  "accepted",
  /** Valid and counted, but the checkpoint was already attested. */
  "late",
  /** The same signer was already counted for this checkpoint. */
  "duplicate",
  /** The recovered signer is not in the destination's operator set. */
  "unknown-signer",
  /** Valid, but signed under an epoch the destination's Inbox has left: kept (as evidence), counted nowhere. */
  "stale-epoch",
  /** The signature does not recover to the operator that published it, or is malformed. */
  "invalid",
])
export type SignatureResult = typeof SignatureResult.Type

/** The attestation-collector's verdict on one published signature. */
export class SignatureVerdict extends Schema.TaggedClass<SignatureVerdict>()("SignatureVerdict", {
  checkpoint: Checkpoint,
  digest: Bytes32,
  operator: Address,
  /** The address the signature recovers to, when it recovers at all. */
  signer: Schema.NullOr(Address),
  signature: Hex,
  result: SignatureResult,
  /** The signer's weight in the set counted against (0 when not counted). */
  weight: U256,
  /** The destination operator-set epoch it was checked against. */
  epoch: Uint,
  reason: Schema.String,
}) {}

/**
 * Lifts a version-1 `SignatureVerdict` wire payload to version 2: nothing changes, since version 2 only added the
 * result `stale-epoch`.
 *
 * @example
 * ```ts
 * upcastSignatureVerdictV1({ checkpoint, result: "accepted", … }) // the same payload
 * ```
 */
export const upcastSignatureVerdictV1 = (payload: unknown): unknown => payload
