import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Address, Bytes32, Hex } from "../primitives.ts"

/** One operator's EIP-712 signature over a checkpoint it verified on its own RPC. */
export class AttestationSigned extends Schema.TaggedClass<AttestationSigned>()("AttestationSigned", {
  checkpoint: Checkpoint,
  digest: Bytes32,
  operator: Address,
  signature: Hex,
}) {}
