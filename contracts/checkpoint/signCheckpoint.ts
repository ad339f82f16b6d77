import { type Hex, type LocalAccount, parseSignature, serializeSignature } from "viem"
import {
  type Checkpoint,
  type CheckpointDomain,
  type InboxTypedData,
  inboxTypes,
  type OperatorSet,
} from "./types.ts"

/**
 * Signs what an Inbox checks (a checkpoint or an operator-set update) with EIP-712, and returns the 65-byte
 * `r ‖ s ‖ v` signature with v = 27/28, the form `Inbox.commit` and `Inbox.updateOperatorSet` take: some signers
 * return yParity-style v (0/1).
 *
 * @example
 * const signature = await signForInbox({ account, domain, typed: { primaryType: "Checkpoint", message: checkpoint } })
 */
export async function signForInbox({
  account,
  domain,
  typed,
}: {
  account: LocalAccount
  domain: CheckpointDomain
  typed: InboxTypedData
}): Promise<Hex> {
  const signature = await account.signTypedData({ domain, types: inboxTypes, ...typed } as Parameters<
    LocalAccount["signTypedData"]
  >[0])
  const { r, s, yParity } = parseSignature(signature)
  return serializeSignature({ r, s, v: yParity === 0 ? 27n : 28n })
}

/**
 * An operator's signature of a checkpoint.
 *
 * @example
 * const signature = await signCheckpoint({ account: privateKeyToAccount(operatorKey), domain, checkpoint })
 */
export const signCheckpoint = ({
  checkpoint,
  ...by
}: {
  account: LocalAccount
  domain: CheckpointDomain
  checkpoint: Checkpoint
}): Promise<Hex> => signForInbox({ ...by, typed: { primaryType: "Checkpoint", message: checkpoint } })

/**
 * An operator's signature of the hub registry's set at an epoch.
 *
 * @example
 * const signature = await signOperatorSetUpdate({ account, domain, update: await readOperatorSet(hub) })
 */
export const signOperatorSetUpdate = ({
  update,
  ...by
}: {
  account: LocalAccount
  domain: CheckpointDomain
  update: OperatorSet
}): Promise<Hex> => signForInbox({ ...by, typed: { primaryType: "OperatorSetUpdate", message: update } })
