import { concat, getTypesForEIP712Domain, type Hex, hashDomain, hashStruct, keccak256 } from "viem"
import {
  type Checkpoint,
  type CheckpointDomain,
  type InboxTypedData,
  inboxTypes,
  type OperatorSet,
} from "./types.ts"

/**
 * The bytes whose keccak256 is the EIP-712 digest: `0x1901 ‖ domainSeparator ‖ structHash`. A remote signer
 * speaking Web3Signer's API hashes what it is given, so it is handed these, not the digest.
 *
 * @example
 * const preimage = preimageForInbox({ domain, typed: { primaryType: "Checkpoint", message: checkpoint } })
 */
export const preimageForInbox = ({
  domain,
  typed,
}: {
  domain: CheckpointDomain
  typed: InboxTypedData
}): Hex => {
  // viem's generic typing cannot follow a union of primary types; the values are the Inbox's types'.
  const types = { EIP712Domain: getTypesForEIP712Domain({ domain }), ...inboxTypes } as never
  return concat([
    "0x1901",
    hashDomain({ domain, types } as Parameters<typeof hashDomain>[0]),
    hashStruct({ data: typed.message, primaryType: typed.primaryType, types } as Parameters<
      typeof hashStruct
    >[0]),
  ])
}

/**
 * The EIP-712 digest operators sign for what an Inbox checks (equal to the Inbox's `checkpointDigest` or
 * `operatorSetUpdateDigest`).
 *
 * @example
 * const digest = hashForInbox({ domain, typed: { primaryType: "OperatorSetUpdate", message: update } })
 */
export const hashForInbox = (request: { domain: CheckpointDomain; typed: InboxTypedData }): Hex =>
  keccak256(preimageForInbox(request))

/**
 * The digest of a checkpoint.
 *
 * @example
 * const digest = hashCheckpoint({ domain, checkpoint })
 */
export const hashCheckpoint = ({
  domain,
  checkpoint,
}: {
  domain: CheckpointDomain
  checkpoint: Checkpoint
}): Hex => hashForInbox({ domain, typed: { primaryType: "Checkpoint", message: checkpoint } })

/**
 * The digest of an operator-set update: the hub registry's whole set at an epoch.
 *
 * @example
 * const digest = hashOperatorSetUpdate({ domain, update: { epoch: 2n, operators, weights, thresholdBps: 6667 } })
 */
export const hashOperatorSetUpdate = ({
  domain,
  update,
}: {
  domain: CheckpointDomain
  update: OperatorSet
}): Hex => hashForInbox({ domain, typed: { primaryType: "OperatorSetUpdate", message: update } })
