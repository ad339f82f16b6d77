import type { Address, Hex, TypedDataDomain } from "viem"

/** A lane checkpoint `(srcChainId, outbox, dstChainId, root, count)`, as signed by operators. */
export type Checkpoint = {
  srcChainId: bigint
  outbox: Address
  dstChainId: bigint
  root: Hex
  count: number
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
  ],
} as const

/** A signature attributed to its signer, as the attestation collector gathers them. */
export type SignerSignature = { signer: Address; signature: Hex }
