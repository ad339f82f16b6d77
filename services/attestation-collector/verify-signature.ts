/**
 * The cryptographic half of judging a signature, as pure functions: the
 * digest is recomputed from the checkpoint under the network's domain (the
 * event's own `digest` field is never trusted), the signer is recovered from
 * the 65 bytes exactly as `Inbox.commit` would (`v` 27/28 only, low `s`
 * only, ecrecover semantics), and it must be the operator that published it.
 *
 * @module
 */
import { secp256k1 } from "@noble/curves/secp256k1"
import { bytesToHex, domainSeparator, hexToBytes, stringToHex, type Hex as ViemHex } from "viem"
import { publicKeyToAddress } from "viem/accounts"
import type { CheckpointDomain } from "../../contracts/index.ts"
import { keccak256 } from "../../crypto/keccak.ts"
import { recoverPublicKeyBytes } from "../../crypto/secp256k1.ts"
import {
  type Address,
  type AttestationSigned,
  Bytes32,
  type Checkpoint,
  toAddress,
} from "../../schemas/index.ts"

/** secp256k1n / 2: the Inbox refuses a higher `s` (the malleable twin of a valid signature). */
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n
const ORDER = secp256k1.CURVE.n

/** What recovering a signature gave: its signer, or why it has none. */
export type Recovery =
  | { readonly ok: true; readonly signer: Address }
  | { readonly ok: false; readonly reason: string }

/** What the cryptographic checks made of a published signature. */
export type SignatureCheck =
  | { readonly result: "valid"; readonly digest: Bytes32; readonly signer: Address }
  | {
      readonly result: "invalid"
      readonly digest: Bytes32
      readonly signer: Address | null
      readonly reason: string
    }

const asViemHex = (value: string): ViemHex => value as ViemHex

/** The Solidity `CHECKPOINT_TYPEHASH`. */
const CHECKPOINT_TYPEHASH = hexToBytes(
  keccak256(
    stringToHex(
      "Checkpoint(uint64 srcChainId,address outbox,uint64 dstChainId,bytes32 root,uint32 count,uint64 epoch)",
    ),
  ),
)

/** Each domain's separator, computed once: the digest is computed for every input, junk ones included. */
const separators = new Map<string, Uint8Array>()
const separatorOf = (domain: CheckpointDomain): Uint8Array => {
  const key = `${domain.name}:${domain.version}:${domain.chainId}:${domain.verifyingContract.toLowerCase()}`
  let separator = separators.get(key)
  if (separator === undefined) {
    separator = hexToBytes(domainSeparator({ domain }))
    separators.set(key, separator)
  }
  return separator
}

/** Writes `value` as a big-endian 32-byte word at `offset`. */
const putWord = (into: Uint8Array, offset: number, value: bigint) => {
  let rest = value
  for (let i = 31; i >= 0 && rest > 0n; i--) {
    into[offset + i] = Number(rest & 0xffn)
    rest >>= 8n
  }
}

/**
 * The EIP-712 digest of a checkpoint signed under `epoch`, under a network's domain, in wire form
 * (equal to `Inbox.checkpointDigest` and to `hashCheckpoint`). Encoded by
 * hand, every field a static 32-byte word, rather than through a generic
 * typed-data encoder: the collector computes it for every proposal,
 * signature and refusal, so a flood of junk records pays two keccaks each.
 *
 * @example
 * ```ts
 * const digest = checkpointDigest(domain, event.checkpoint, event.epoch)
 * ```
 */
export const checkpointDigest = (
  domain: CheckpointDomain,
  checkpoint: Checkpoint,
  epoch: number,
): Bytes32 => {
  const struct = new Uint8Array(7 * 32)
  struct.set(CHECKPOINT_TYPEHASH, 0)
  putWord(struct, 32, BigInt(checkpoint.srcChainId))
  putWord(struct, 64, BigInt(checkpoint.outbox))
  putWord(struct, 96, BigInt(checkpoint.dstChainId))
  struct.set(hexToBytes(asViemHex(checkpoint.root)), 128)
  putWord(struct, 160, BigInt(checkpoint.count))
  putWord(struct, 192, BigInt(epoch))
  const message = new Uint8Array(2 + 32 + 32)
  message[0] = 0x19
  message[1] = 0x01
  message.set(separatorOf(domain), 2)
  message.set(hexToBytes(keccak256(struct)), 34)
  return Bytes32.make(keccak256(message))
}

/**
 * Recovers the signer of a 65-byte `r ‖ s ‖ v` signature over a digest, with
 * the Inbox's rules: `v` must be 27 or 28, `s` at most secp256k1n / 2, and
 * `r`, `s` in range.
 *
 * @example
 * ```ts
 * const recovery = recoverSigner(digest, signature)
 * if (recovery.ok) recovery.signer // "0xf39f…2266"
 * ```
 */
export const recoverSigner = (digest: Bytes32, signature: string): Recovery => {
  const bytes = hexToBytes(asViemHex(signature))
  if (bytes.length !== 65) {
    return { ok: false, reason: `the signature is ${bytes.length} bytes; r ‖ s ‖ v is 65` }
  }
  const r = BigInt(bytesToHex(bytes.subarray(0, 32)))
  const s = BigInt(bytesToHex(bytes.subarray(32, 64)))
  const v = bytes[64]!
  if (v !== 27 && v !== 28) return { ok: false, reason: `v is ${v}; the Inbox takes only 27 or 28` }
  if (r === 0n || r >= ORDER || s === 0n || s >= ORDER) {
    return { ok: false, reason: "r or s is zero or not below the curve order" }
  }
  if (s > HALF_ORDER) {
    return { ok: false, reason: "s is above secp256k1n / 2 (the malleable form); the Inbox refuses it" }
  }
  const publicKey = recoverPublicKeyBytes(
    hexToBytes(asViemHex(digest)),
    bytes.subarray(0, 64),
    (v - 27) as 0 | 1,
  )
  if (publicKey === null)
    return { ok: false, reason: "no public key recovers from it (no curve point has that r)" }
  return { ok: true, signer: toAddress(publicKeyToAddress(bytesToHex(publicKey))) }
}

/**
 * Checks one published signature: digest recomputed, signer recovered, and
 * the signer is the operator that published it.
 *
 * @example
 * ```ts
 * const check = checkSignature(domain, attestationSigned)
 * if (check.result === "valid") count(check.signer)
 * ```
 */
export const checkSignature = (domain: CheckpointDomain, event: AttestationSigned): SignatureCheck => {
  const digest = checkpointDigest(domain, event.checkpoint, event.epoch)
  const recovery = recoverSigner(digest, event.signature)
  const signer = recovery.ok ? recovery.signer : null
  if (event.digest !== digest) {
    return {
      result: "invalid",
      digest,
      signer,
      reason: `its digest ${event.digest} is not the EIP-712 digest ${digest} of the checkpoint under epoch ${event.epoch} and this network's domain (chain ${domain.chainId}, registry ${domain.verifyingContract})`,
    }
  }
  if (!recovery.ok) return { result: "invalid", digest, signer, reason: recovery.reason }
  if (recovery.signer !== event.operator) {
    return {
      result: "invalid",
      digest,
      signer,
      reason: `it recovers to ${recovery.signer}, not to ${event.operator}, the operator that published it`,
    }
  }
  return { result: "valid", digest, signer: recovery.signer }
}
