/**
 * Synchronous EIP-712 signing of checkpoints, so the operator's pure core can
 * sign inside `decide`.
 *
 * The digest is viem's `hashTypedData` over the network's domain and the
 * Solidity `Checkpoint` type (via `hashCheckpoint`, equal to
 * `Inbox.checkpointDigest`). The signature is secp256k1 ECDSA with RFC 6979
 * nonces — deterministic, so one key signs one checkpoint to one signature,
 * and a replay of the operator's log reproduces it byte for byte — with low
 * s, packed as the 65 bytes `r ‖ s ‖ v`, `v` 27 or 28: exactly what
 * `Inbox.commit` accepts, and what `signCheckpoint` produces.
 *
 * @module
 */
import { hexToBytes, type Hex as ViemHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import {
  type CheckpointDomain,
  hashCheckpoint,
  type Checkpoint as TypedCheckpoint,
} from "../../contracts/index.ts"
import { signDigestBytes } from "../../crypto/secp256k1.ts"
import { type Address, Bytes32, type Checkpoint, Hex, toAddress } from "../../schemas/index.ts"

/**
 * A checkpoint event's fields, signed under `epoch`, in the shape the EIP-712 helpers take (chain ids as bigint).
 *
 * @example
 * ```ts
 * hashCheckpoint({ domain, checkpoint: toTypedCheckpoint(proposal.checkpoint, 2) })
 * ```
 */
export const toTypedCheckpoint = (checkpoint: Checkpoint, epoch: number): TypedCheckpoint => ({
  srcChainId: BigInt(checkpoint.srcChainId),
  outbox: asViemHex(checkpoint.outbox),
  dstChainId: BigInt(checkpoint.dstChainId),
  root: asViemHex(checkpoint.root),
  count: checkpoint.count,
  epoch: BigInt(epoch),
})

/**
 * A wire-form hex string (branded, already validated) as viem's template type.
 *
 * @example
 * ```ts
 * client.readContract({ address: asViemHex(checkpoint.outbox), … })
 * ```
 */
export const asViemHex = (value: string): ViemHex => value as ViemHex

/**
 * The EIP-712 digest of a checkpoint signed under `epoch`, under a network's domain, in wire form.
 *
 * @example
 * ```ts
 * const digest = checkpointDigest(domain, proposal.checkpoint, 2)
 * ```
 */
export const checkpointDigest = (domain: CheckpointDomain, checkpoint: Checkpoint, epoch: number): Bytes32 =>
  Bytes32.make(hashCheckpoint({ domain, checkpoint: toTypedCheckpoint(checkpoint, epoch) }).toLowerCase())

/**
 * Signs a 32-byte digest: deterministic (RFC 6979), low s, `r ‖ s ‖ v` with v = 27/28.
 *
 * @example
 * ```ts
 * const signature = signDigest(privateKey, checkpointDigest(domain, checkpoint, epoch))
 * ```
 */
export const signDigest = (privateKey: ViemHex, digest: Bytes32): Hex => {
  const { compact, recovery } = signDigestBytes(hexToBytes(privateKey), hexToBytes(asViemHex(digest)))
  return Hex.make(`0x${Buffer.from(compact).toString("hex")}${(27 + recovery).toString(16)}`)
}

/**
 * The wire-form (lowercase) address of a private key.
 *
 * @example
 * ```ts
 * addressOfKey("0xac09…ff80") // "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
 * ```
 */
export const addressOfKey = (privateKey: ViemHex): Address =>
  toAddress(privateKeyToAccount(privateKey).address)
