/**
 * The records this process signed, remembered so that its own consumers take them without verifying the
 * signature again. A process that runs several services (`chorus run all`, the devnet) reads back almost every
 * record it writes, and Ed25519 verification was 7% of such a process's CPU (issue 13, part 3).
 *
 * What is remembered is a SHA-256 digest of the signer's public key, the signature and the exact bytes it
 * signed (topic, key, value), cut to 16 bytes. A record whose triple gives a remembered digest is byte for
 * byte one this process signed with that key, so its signature verifies; making another triple with the same
 * digest is a second preimage of SHA-256. Only the signature is taken: everything the producer policy checks
 * (is the key granted, may it write the topic, is the record on its partition, does it claim its own
 * producer) is checked every time, as for any record.
 *
 * Invariants:
 * - It lives in the process's memory only: nothing that writes the bus can add to it.
 * - Bounded: the last `SIGNED_HERE` signatures; an older record is verified as any other.
 * - A record under a key this process never signed with costs a set look-up, no digest.
 *
 * @module
 */
import { createHash } from "node:crypto"

/** Signatures remembered: some ten seconds of a busy process's writes, about 1.5 MB. */
export const SIGNED_HERE = 32_768

const DIGEST_BYTES = 16
/** The public keys this process signs with (hex, as the `chorus-signer` header carries them). */
const ownKeys = new Set<string>()
const digests = new Set<string>()
const order: Array<string | undefined> = new Array(SIGNED_HERE)
let next = 0

const digestOf = (signer: string, signature: Uint8Array, signed: Uint8Array): string =>
  createHash("sha256")
    .update(signer)
    .update(signature)
    .update(signed)
    .digest()
    .subarray(0, DIGEST_BYTES)
    .toString("latin1")

/**
 * Remembers a signature this process just made.
 *
 * @example
 * ```ts
 * rememberSignedHere(publicKey, signature, signedBytes)
 * ```
 */
export const rememberSignedHere = (signer: string, signature: Uint8Array, signed: Uint8Array): void => {
  ownKeys.add(signer)
  const digest = digestOf(signer, signature, signed)
  if (digests.has(digest)) return
  const oldest = order[next]
  if (oldest !== undefined) digests.delete(oldest)
  order[next] = digest
  next = (next + 1) % SIGNED_HERE
  digests.add(digest)
}

/**
 * Whether this process made this signature, by this key, over these bytes, among its last `SIGNED_HERE`.
 *
 * @example
 * ```ts
 * if (!signedHere(signer, signature, signedBytes)) verify(...)
 * ```
 */
export const signedHere = (signer: string, signature: Uint8Array, signed: Uint8Array): boolean =>
  ownKeys.has(signer) && digests.has(digestOf(signer, signature, signed))
