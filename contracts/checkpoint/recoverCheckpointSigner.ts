import { type Address, type Hex, recoverTypedDataAddress } from "viem"
import { type Checkpoint, type CheckpointDomain, checkpointTypes } from "./types.ts"

/**
 * Recovers who signed a checkpoint, so a collector can check each signature against the operator set before
 * counting its stake.
 *
 * @example
 * const signer = await recoverCheckpointSigner({ domain, checkpoint, signature })
 */
export async function recoverCheckpointSigner({
  domain,
  checkpoint,
  signature,
}: {
  domain: CheckpointDomain
  checkpoint: Checkpoint
  signature: Hex
}): Promise<Address> {
  return recoverTypedDataAddress({
    domain,
    types: checkpointTypes,
    primaryType: "Checkpoint",
    message: checkpoint,
    signature,
  })
}
