import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Address, Bytes32, Hex, Uint } from "../primitives.ts"

/**
 * One operator's EIP-712 signature over a checkpoint it verified on its own RPC, under the epoch of the operator
 * set the destination Inbox trusted when its own RPC last showed it (`epoch`, part of what is signed): the Inbox
 * counts it only against that epoch's set.
 */
export class AttestationSigned extends Schema.TaggedClass<AttestationSigned>()("AttestationSigned", {
  checkpoint: Checkpoint,
  epoch: Uint,
  digest: Bytes32,
  operator: Address,
  signature: Hex,
}) {}

/**
 * Lifts a version-1 `AttestationSigned` wire payload to version 2, which names the epoch signed under. A
 * version-1 signature was made over a checkpoint with no epoch: it reads as epoch 0, which no set ever has (an
 * Inbox's first set is at epoch 1 or later), so it is judged and kept but counts nowhere.
 *
 * @example
 * ```ts
 * upcastAttestationSignedV1({ checkpoint, digest, operator, signature }) // { …, epoch: 0 }
 * ```
 */
export const upcastAttestationSignedV1 = (payload: unknown): unknown =>
  typeof payload === "object" && payload !== null && !("epoch" in payload)
    ? { ...payload, epoch: 0 }
    : payload
