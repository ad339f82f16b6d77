import { type Hex, hashTypedData } from "viem"
import { type Checkpoint, type CheckpointDomain, checkpointTypes } from "./types.ts"

/**
 * The EIP-712 digest operators sign for a checkpoint (equal to `Inbox.checkpointDigest(checkpoint)`).
 *
 * @example
 * const digest = hashCheckpoint({ domain, checkpoint })
 */
export function hashCheckpoint({
  domain,
  checkpoint,
}: {
  domain: CheckpointDomain
  checkpoint: Checkpoint
}): Hex {
  return hashTypedData({ domain, types: checkpointTypes, primaryType: "Checkpoint", message: checkpoint })
}
