import { type Hex, type LocalAccount, parseSignature, serializeSignature } from "viem"
import { type Checkpoint, type CheckpointDomain, checkpointTypes } from "./types.ts"

/**
 * Signs a checkpoint with EIP-712 and returns the 65-byte `r ‖ s ‖ v` signature (v = 27/28, low s), the form
 * `Inbox.commit` takes.
 *
 * @example
 * const account = privateKeyToAccount(operatorKey)
 * const signature = await signCheckpoint({ account, domain, checkpoint })
 */
export async function signCheckpoint({
  account,
  domain,
  checkpoint,
}: {
  account: LocalAccount
  domain: CheckpointDomain
  checkpoint: Checkpoint
}): Promise<Hex> {
  const signature = await account.signTypedData({
    domain,
    types: checkpointTypes,
    primaryType: "Checkpoint",
    message: checkpoint,
  })
  // Normalise: some signers return yParity-style v (0/1); the Inbox wants 27/28.
  const { r, s, yParity } = parseSignature(signature)
  return serializeSignature({ r, s, v: yParity === 0 ? 27n : 28n })
}
