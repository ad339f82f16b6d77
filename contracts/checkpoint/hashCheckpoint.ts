import { type Hex, hashTypedData } from "viem"
import {
  type Checkpoint,
  type CheckpointDomain,
  type InboxTypedData,
  inboxTypes,
  type OperatorSet,
} from "./types.ts"

/**
 * The EIP-712 digest operators sign for what an Inbox checks (equal to the Inbox's `checkpointDigest` or
 * `operatorSetUpdateDigest`).
 *
 * @example
 * const digest = hashForInbox({ domain, typed: { primaryType: "OperatorSetUpdate", message: update } })
 */
export const hashForInbox = ({ domain, typed }: { domain: CheckpointDomain; typed: InboxTypedData }): Hex =>
  hashTypedData({ domain, types: inboxTypes, ...typed } as Parameters<typeof hashTypedData>[0])

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
