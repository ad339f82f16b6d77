import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Address, Bytes32, Hex, Uint } from "../primitives.ts"

/**
 * One checkpoint as an operator signed it, under the epoch it named: the EIP-712 digest recomputed from both, and
 * the signature over it.
 */
export class SignedCheckpoint extends Schema.Class<SignedCheckpoint>("SignedCheckpoint")({
  checkpoint: Checkpoint,
  epoch: Uint,
  digest: Bytes32,
  signature: Hex,
}) {}

/**
 * Evidence: one operator's valid signatures over two different roots for one lane and count, as the collector
 * heard them (under one epoch or two: a root is a root whatever the set). Both signatures recover to the operator
 * under the network's domain, so the pair is what `OperatorRegistry.proveEquivocation` takes to eject it.
 */
export class OperatorEquivocated extends Schema.TaggedClass<OperatorEquivocated>()("OperatorEquivocated", {
  operator: Address,
  /** The signature the collector heard first. */
  first: SignedCheckpoint,
  second: SignedCheckpoint,
  /** Human-readable: what was signed twice, and how to prove it on the hub. */
  reason: Schema.String,
}) {}

const withEpoch = (signed: unknown): unknown =>
  typeof signed === "object" && signed !== null && !("epoch" in signed) ? { ...signed, epoch: 0 } : signed

/**
 * Lifts a version-1 `OperatorEquivocated` wire payload to version 2, whose signed checkpoints name their epoch:
 * version-1 evidence was signed with no epoch, and reads as epoch 0 (see `upcastAttestationSignedV1`).
 *
 * @example
 * ```ts
 * upcastOperatorEquivocatedV1({ operator, first, second, reason }) // first and second with epoch 0
 * ```
 */
export const upcastOperatorEquivocatedV1 = (payload: unknown): unknown => {
  if (typeof payload !== "object" || payload === null) return payload
  const p = payload as { readonly first?: unknown; readonly second?: unknown }
  return { ...payload, first: withEpoch(p.first), second: withEpoch(p.second) }
}
