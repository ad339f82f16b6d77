import { Schema } from "effect"
import { Address, Bytes32, ChainId, Hex, Uint } from "../primitives.ts"
import { OperatorWeight } from "./operator-set-read.ts"

/**
 * An operator's signature over an operator-set update (EIP-712 `OperatorSetUpdate`, the network's domain): the
 * hub registry's whole set at `epoch`, as the operator read it on its own hub RPC at a final block. The same
 * signature serves every Inbox of the network; each counts it if the operator is in the set it trusts now.
 */
export class OperatorSetSigned extends Schema.TaggedClass<OperatorSetSigned>()("OperatorSetSigned", {
  /** The hub chain. */
  chainId: ChainId,
  registry: Address,
  epoch: Uint,
  /** Ascending by address, as the registry holds them. */
  operators: Schema.Array(OperatorWeight),
  thresholdBps: Uint,
  /** The EIP-712 digest signed (`Inbox.operatorSetUpdateDigest`). */
  digest: Bytes32,
  operator: Address,
  signature: Hex,
}) {}

/**
 * Why an operator would not sign an operator-set update:
 * - `wrong-registry`: the record names another hub chain or registry than the operator's network;
 * - `not-final`: its own hub RPC has no final block showing that epoch yet (it waited `finalityWaitMs`);
 * - `superseded`: its own hub RPC shows a later epoch at its finalized head, or it already signed a later one
 *   (signing an old set would let it be applied after the newer one ejected someone);
 * - `set-mismatch`: its own hub RPC shows another set at that epoch;
 * - `conflicting-signature`: it already signed another set for that epoch;
 * - `rpc-invalid`: its own hub RPC answered nothing that decodes.
 */
export const SetRefusalReason = Schema.Literals([
  "wrong-registry",
  "not-final",
  "superseded",
  "set-mismatch",
  "conflicting-signature",
  "rpc-invalid",
])
export type SetRefusalReason = typeof SetRefusalReason.Type

/** An operator declined to sign an operator-set update, and said why. */
export class OperatorSetRefused extends Schema.TaggedClass<OperatorSetRefused>()("OperatorSetRefused", {
  chainId: ChainId,
  registry: Address,
  epoch: Uint,
  operator: Address,
  reason: SetRefusalReason,
  /** Human-readable: what the operator's own read showed. */
  detail: Schema.String,
}) {}
