/**
 * A producer's signature on one bus record.
 *
 * Every record a Chorus producer writes carries two headers: the Ed25519
 * public key of the instance that wrote it (`chorus-signer`) and its
 * signature (`chorus-signature`) over the topic, the key and the value — the
 * whole envelope, producer included, since the value is the envelope. The
 * topic is signed so a record cannot be replayed onto another topic where a
 * different service would act on it. Envelope headers (`chorus-id`,
 * `chorus-producer`, …) are not signed: the codec holds each to the signed
 * body, so a header cannot say what the body does not.
 *
 * Why Ed25519 and not the operators' secp256k1 keys: every record is signed
 * once and verified by each of its consumers, and Node's native Ed25519
 * verifies about four times faster than secp256k1 ECDSA (15k against 3.8k a
 * second on one core here), so authentication stays far from the relay's
 * bottleneck. An operator's or a submitter's bus key is derived from its
 * chain key (see {@link deriveSigningKey}), so it has no second secret.
 *
 * A producer whose key stays in a remote signer (Web3Signer's API, which
 * signs secp256k1 and BLS, never Ed25519) signs with secp256k1 instead
 * (`remoteRecordSigner`): `chorus-signer` is then its uncompressed public
 * key (0x04 + 128 hex digits) and `chorus-signature` the 65 bytes
 * `r ‖ s ‖ v` (low `s`, v 27/28) of keccak256 over the same signed bytes.
 * The length of the signer header says which scheme a record uses; a
 * grant names one key, so a record can never pick its scheme against a
 * grant. Each record it writes is then one round trip to the signer.
 *
 * @module
 */
import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from "node:crypto"
import { keccak256, stringToBytes, toBytes } from "viem"
import { keccak256 as keccak256Fast } from "../../crypto/keccak.ts"
import { verifyDigestBytes } from "../../crypto/secp256k1.ts"
import { rememberSignedHere, signedHere } from "./signed-here.ts"

/** The headers a signed record carries. */
export const SIGNATURE_HEADERS = {
  signer: "chorus-signer",
  signature: "chorus-signature",
} as const

/** An Ed25519 public key (0x and 64 lowercase hex digits), or a remote signer's secp256k1 one (0x04 and 128). */
export type SignerKey = `0x${string}`

const DOMAIN = "chorus/record/v1"
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex")
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex")
const HEX_KEY = /^0x[0-9a-f]{64}$/
const HEX_SIGNATURE = /^0x[0-9a-f]{128}$/
const SECP_KEY = /^0x04[0-9a-f]{128}$/
const SECP_SIGNATURE = /^0x[0-9a-f]{128}(1b|1c)$/

/**
 * Whether a `chorus-signer` header is written as a key of either scheme.
 *
 * @example
 * ```ts
 * isSignerKey(record.headers["chorus-signer"]) // true
 * ```
 */
export const isSignerKey = (text: string): text is SignerKey => HEX_KEY.test(text) || SECP_KEY.test(text)

const lengthPrefixed = (text: string): Buffer => {
  const bytes = Buffer.from(text, "utf8")
  const length = Buffer.alloc(4)
  length.writeUInt32BE(bytes.length)
  return Buffer.concat([length, bytes])
}

/** The domain and topic part of the signed bytes, per topic: every record checked or signed builds it. */
const topicPrefixes = new Map<string, Buffer>()
const topicPrefix = (topic: string): Buffer => {
  let prefix = topicPrefixes.get(topic)
  if (prefix === undefined) {
    prefix = Buffer.concat([lengthPrefixed(DOMAIN), lengthPrefixed(topic)])
    // Bounded: the topics are the topology's, but a reader must not grow without end on any input.
    if (topicPrefixes.size >= 256) topicPrefixes.clear()
    topicPrefixes.set(topic, prefix)
  }
  return prefix
}

/**
 * The bytes a signature covers. Each part is length-prefixed so no two
 * (topic, key, value) triples share the same bytes; a null key differs from
 * an empty one. Built in one buffer: it is made for every record signed or checked.
 */
const signedBytes = (topic: string, key: string | null, value: Uint8Array): Buffer => {
  const prefix = topicPrefix(topic)
  const keyLength = key === null ? 0 : Buffer.byteLength(key, "utf8")
  const bytes = Buffer.allocUnsafe(prefix.length + 1 + (key === null ? 0 : 4 + keyLength) + 4 + value.length)
  let at = prefix.copy(bytes, 0)
  if (key === null) bytes[at++] = 0
  else {
    bytes[at++] = 1
    at = bytes.writeUInt32BE(keyLength, at)
    at += bytes.write(key, at, "utf8")
  }
  at = bytes.writeUInt32BE(value.length, at)
  bytes.set(value, at)
  return bytes
}

/** The two signature headers of a record. */
export type SignatureHeaders = Readonly<Record<string, string>>

/** A key that signs records, with the public key verifiers know it by. */
export interface RecordSigner {
  readonly publicKey: SignerKey
  /** The two signature headers for a record: at once for a key held here, once it answered for a remote signer. */
  sign(topic: string, key: string | null, value: Uint8Array): SignatureHeaders | Promise<SignatureHeaders>
}

/** A key held in this process: it signs at once. */
export interface LocalRecordSigner extends RecordSigner {
  sign(topic: string, key: string | null, value: Uint8Array): SignatureHeaders
}

/**
 * A signer from a 32-byte Ed25519 seed.
 *
 * @example
 * ```ts
 * const signer = signerFromSeed("0x…")
 * const headers = signer.sign("chorus.deliveries", "902/901:0x…", value)
 * ```
 */
export const signerFromSeed = (seed: `0x${string}`): LocalRecordSigner => {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, Buffer.from(toBytes(seed))]),
    format: "der",
    type: "pkcs8",
  })
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" })
  const publicKey = `0x${spki.subarray(SPKI_PREFIX.length).toString("hex")}` as SignerKey
  return {
    publicKey,
    sign: (topic, key, value) => {
      const signed = signedBytes(topic, key, value)
      const signature = nodeSign(null, signed, privateKey)
      rememberSignedHere(publicKey, signature, signed)
      return {
        [SIGNATURE_HEADERS.signer]: publicKey,
        [SIGNATURE_HEADERS.signature]: `0x${signature.toString("hex")}`,
      }
    },
  }
}

/**
 * A signer whose secp256k1 key stays in a remote signer: `signDigestOf(preimage)` asks it for the 65-byte
 * signature of keccak256(preimage), low `s`, checked to recover to the key's account
 * (`remoteDigestSignature` in `chains/evm/remote-signer.ts`).
 *
 * @example
 * ```ts
 * const signer = remoteRecordSigner("0x04…", (preimage) => remoteDigestSignature(ref, preimage))
 * ```
 */
export const remoteRecordSigner = (
  publicKey: `0x${string}`,
  signDigestOf: (preimage: `0x${string}`) => Promise<`0x${string}`>,
): RecordSigner => {
  const key = (publicKey.length === 130 ? `0x04${publicKey.slice(2)}` : publicKey).toLowerCase() as SignerKey
  if (!SECP_KEY.test(key))
    throw new TypeError(`not an uncompressed secp256k1 public key: ${publicKey.slice(0, 20)}…`)
  return {
    publicKey: key,
    sign: async (topic, recordKey, value) => {
      const signed = signedBytes(topic, recordKey, value)
      const signature = (await signDigestOf(`0x${signed.toString("hex")}`)).toLowerCase()
      rememberSignedHere(key, Buffer.from(signature.slice(2), "hex"), signed)
      return { [SIGNATURE_HEADERS.signer]: key, [SIGNATURE_HEADERS.signature]: signature }
    },
  }
}

/**
 * The bus seed of an instance whose identity is a chain key (an operator's
 * or a submitter's): a hash of that key under a fixed label, so the bus key
 * needs no secret of its own and never equals the chain key.
 *
 * @example
 * ```ts
 * signerFromSeed(deriveSigningKey(operatorPrivateKey)).publicKey
 * ```
 */
export const deriveSigningKey = (chainKey: `0x${string}`): `0x${string}` =>
  keccak256(new Uint8Array([...stringToBytes("chorus/bus-identity/v1"), ...toBytes(chainKey)]))

/** Why a record's signature does not stand: a closed set, each with what was found. */
export type SignatureFailure =
  | { readonly reason: "unsigned"; readonly detail: string }
  | { readonly reason: "malformed-signature"; readonly detail: string }
  | { readonly reason: "bad-signature"; readonly detail: string }

export type SignatureCheck =
  | { readonly ok: true; readonly signer: SignerKey }
  | ({ readonly ok: false } & SignatureFailure)

const publicKeys = new Map<SignerKey, KeyObject>()
const publicKeyOf = (signer: SignerKey): KeyObject => {
  let key = publicKeys.get(signer)
  if (key === undefined) {
    key = createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, Buffer.from(signer.slice(2), "hex")]),
      format: "der",
      type: "spki",
    })
    // Bounded: a flood of records under fresh keys must not grow the cache without end.
    if (publicKeys.size >= 4096) publicKeys.clear()
    publicKeys.set(signer, key)
  }
  return key
}

/**
 * Signatures that verified before (`verified-signatures.ts`): a triple whose digest it has is not verified
 * again, and one that verifies now is handed to `remember`.
 */
export interface SignatureMemory {
  /** The memory's (keyed) digest of a (signer, signature, signed bytes) triple. */
  digestOf(signer: Uint8Array, signature: Uint8Array, signed: Uint8Array): Uint8Array
  has(digest: Uint8Array): boolean
  remember(digest: Uint8Array): void
}

/**
 * Checks that a record is signed, and signed by the key it names. Whether
 * that key may write the record is the policy's question
 * (`producer-policy.ts`). With `memory`, a signature verified before is
 * taken without verifying it again, and so is one this process made
 * (`signed-here.ts`).
 *
 * @example
 * ```ts
 * const check = checkSignature(record)
 * if (!check.ok) console.warn(check.reason, check.detail)
 * ```
 */
export const checkSignature = (
  record: {
    readonly topic: string
    readonly key: string | null
    readonly value: Uint8Array
    readonly headers: Readonly<Record<string, string>>
  },
  memory?: SignatureMemory,
): SignatureCheck => {
  const signer = record.headers[SIGNATURE_HEADERS.signer]
  const signature = record.headers[SIGNATURE_HEADERS.signature]
  if (signer === undefined && signature === undefined) {
    return {
      ok: false,
      reason: "unsigned",
      detail: "the record carries no chorus-signer/chorus-signature headers",
    }
  }
  if (signer === undefined || !isSignerKey(signer)) {
    return {
      ok: false,
      reason: "malformed-signature",
      detail: `chorus-signer must be an Ed25519 public key (0x + 64 lowercase hex digits) or a secp256k1 one (0x04 + 128), got ${JSON.stringify(signer?.slice(0, 80) ?? null)}`,
    }
  }
  const secp = SECP_KEY.test(signer)
  if (signature === undefined || !(secp ? SECP_SIGNATURE : HEX_SIGNATURE).test(signature)) {
    return {
      ok: false,
      reason: "malformed-signature",
      detail: `chorus-signature must be 0x + ${secp ? "128 lowercase hex digits then 1b or 1c (r ‖ s ‖ v)" : "128 lowercase hex digits"}, got ${JSON.stringify(signature?.slice(0, 80) ?? null)}`,
    }
  }
  const signed = signedBytes(record.topic, record.key, record.value)
  const signatureBytes = Buffer.from(signature.slice(2), "hex")
  const digest =
    memory === undefined
      ? undefined
      : memory.digestOf(Buffer.from(signer.slice(2), "hex"), signatureBytes, signed)
  if (digest !== undefined && memory!.has(digest)) return { ok: true, signer: signer as SignerKey }
  let valid: boolean
  try {
    valid =
      signedHere(signer, signatureBytes, signed) ||
      (secp
        ? verifyDigestBytes(
            keccak256Fast(signed, "bytes"),
            Buffer.from(signer.slice(2), "hex"),
            signatureBytes.subarray(0, 64),
          )
        : nodeVerify(null, signed, publicKeyOf(signer as SignerKey), signatureBytes))
  } catch (cause) {
    return {
      ok: false,
      reason: "malformed-signature",
      detail: `chorus-signer ${signer} is not a usable key (${(cause as Error).message})`,
    }
  }
  if (valid && digest !== undefined) memory!.remember(digest)
  return valid
    ? { ok: true, signer: signer as SignerKey }
    : {
        ok: false,
        reason: "bad-signature",
        detail: `the signature does not verify under ${signer} over this topic, key and value (altered, moved from another topic, or forged)`,
      }
}
