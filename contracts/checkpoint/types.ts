import type { Address, Hex, TypedDataDomain } from "viem"

/**
 * A lane checkpoint `(srcChainId, outbox, dstChainId, root, count, epoch)`, as signed by operators: the lane's root
 * and count, under the epoch of the operator set the destination Inbox trusted when they signed.
 */
export type Checkpoint = {
  srcChainId: bigint
  outbox: Address
  dstChainId: bigint
  root: Hex
  count: number
  epoch: bigint
}

/** The EIP-712 domain of an operator network: fixed name and version, the registry's chain id and address. */
export type CheckpointDomain = TypedDataDomain & {
  name: "Chorus"
  version: "1"
  chainId: number
  verifyingContract: Address
}

/** EIP-712 types of a checkpoint (the Solidity `CHECKPOINT_TYPEHASH`). */
export const checkpointTypes = {
  Checkpoint: [
    { name: "srcChainId", type: "uint64" },
    { name: "outbox", type: "address" },
    { name: "dstChainId", type: "uint64" },
    { name: "root", type: "bytes32" },
    { name: "count", type: "uint32" },
    { name: "epoch", type: "uint64" },
  ],
} as const

/**
 * The hub registry's whole operator set at an epoch: what `OperatorRegistry` announces with every change, and what
 * operators sign (EIP-712 `OperatorSetUpdate`, the network's domain) to carry it to every Inbox.
 */
export type OperatorSet = {
  epoch: bigint
  /** Strictly ascending. */
  operators: readonly Address[]
  weights: readonly bigint[]
  thresholdBps: number
}

/** EIP-712 types of an operator-set update (the Solidity `OPERATOR_SET_UPDATE_TYPEHASH`). */
export const operatorSetUpdateTypes = {
  OperatorSetUpdate: [
    { name: "epoch", type: "uint64" },
    { name: "operators", type: "address[]" },
    { name: "weights", type: "uint96[]" },
    { name: "thresholdBps", type: "uint16" },
  ],
} as const

/** What operators sign for Inboxes: EIP-712 typed data of the network's domain, one of these. */
export type InboxTypedData =
  | { primaryType: "Checkpoint"; message: Checkpoint }
  | { primaryType: "OperatorSetUpdate"; message: OperatorSet }

/** The EIP-712 types of everything operators sign for Inboxes. */
export const inboxTypes = { ...checkpointTypes, ...operatorSetUpdateTypes } as const

/** A signature attributed to its signer, as the attestation collector gathers them. */
export type SignerSignature = { signer: Address; signature: Hex }
