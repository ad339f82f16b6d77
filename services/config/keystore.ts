/**
 * Ethereum's JSON keystore, version 3 (Web3 Secret Storage): the encrypted key
 * file geth, Foundry's `cast wallet import`, ethers and web3signer all read
 * and write. Chorus reads one to get a key at start, and writes one for tests
 * and `chorus devnet`.
 *
 * Pipeline: file → its `crypto` section checked (kdf scrypt or pbkdf2 with
 * hmac-sha256, cipher aes-128-ctr, every field hex of the right length) →
 * the passphrase stretched by the kdf → the MAC (keccak256 of the derived
 * key's second half and the ciphertext) compared in constant time → the
 * ciphertext decrypted.
 *
 * Invariants:
 * - A file is untrusted input: its kdf parameters are bounded before any
 *   work (a scrypt `n` of 2^40 would take the machine's memory), and every
 *   problem is a `KeystoreError` naming the file and the field.
 * - Neither the key nor the passphrase appears in an error.
 *
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  pbkdf2Sync,
  randomBytes,
  randomUUID,
  scryptSync,
  timingSafeEqual,
} from "node:crypto"
import { scrypt as nobleScrypt } from "@noble/hashes/scrypt"
import { keccak256 } from "../../crypto/keccak.ts"
import { ChorusError } from "../../errors/chorus-error.ts"

/** A keystore that cannot be read: the file and what is wrong with it, never the key or the passphrase. */
export class KeystoreError extends ChorusError {
  override readonly name = "KeystoreError"
  constructor(
    where: string,
    problem: string,
    hint = "check the file, or write it again with `cast wallet import` or geth",
  ) {
    super(`keystore ${where}: ${problem}`, { details: { keystore: where }, hint })
  }
}

/**
 * The most work a keystore may ask. scrypt: n ≤ 2^20, r, p ≤ 16, and memory (128 n r bytes) ≤ 256 MiB, time
 * (n r p) ≤ 2^22: geth's standard keystore (n 2^18, r 8, p 1) and the specification's (n 2^18, r 1, p 8) are
 * within, at a few seconds at most. pbkdf2: ≤ 10^7 rounds.
 */
const MAX_SCRYPT_N = 2 ** 20
const MAX_SCRYPT_RP = 16
const MAX_SCRYPT_NR = 2 ** 21
const MAX_SCRYPT_NRP = 2 ** 22
const MAX_PBKDF2_ROUNDS = 10_000_000

const hexField = (where: string, field: string, value: unknown, bytes?: number): Buffer => {
  if (typeof value !== "string" || !/^(0x)?([0-9a-fA-F]{2})+$/.test(value)) {
    throw new KeystoreError(where, `${field} is not hex`)
  }
  const buffer = Buffer.from(value.replace(/^0x/, ""), "hex")
  if (bytes !== undefined && buffer.length !== bytes) {
    throw new KeystoreError(where, `${field} is ${buffer.length} bytes, expected ${bytes}`)
  }
  return buffer
}

const intField = (where: string, field: string, value: unknown, max: number): number => {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new KeystoreError(
      where,
      `${field} must be an integer from 1 to ${max}, got ${JSON.stringify(value)}`,
    )
  }
  return value
}

const record = (where: string, field: string, value: unknown): Record<string, unknown> => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new KeystoreError(where, `${field} is missing or not an object`)
  }
  return value as Record<string, unknown>
}

/** The key the kdf derives from the passphrase, after its parameters were bounded. */
const derive = (where: string, crypto: Record<string, unknown>, passphrase: string): Buffer => {
  const params = record(where, "crypto.kdfparams", crypto.kdfparams)
  const dklen = intField(where, "crypto.kdfparams.dklen", params.dklen, 64)
  if (dklen < 32) throw new KeystoreError(where, `crypto.kdfparams.dklen is ${dklen}, expected at least 32`)
  const salt = hexField(where, "crypto.kdfparams.salt", params.salt)
  switch (crypto.kdf) {
    case "scrypt": {
      const n = intField(where, "crypto.kdfparams.n", params.n, MAX_SCRYPT_N)
      if ((n & (n - 1)) !== 0) throw new KeystoreError(where, `crypto.kdfparams.n is ${n}, not a power of 2`)
      const r = intField(where, "crypto.kdfparams.r", params.r, MAX_SCRYPT_RP)
      const p = intField(where, "crypto.kdfparams.p", params.p, MAX_SCRYPT_RP)
      if (n * r > MAX_SCRYPT_NR || n * r * p > MAX_SCRYPT_NRP) {
        throw new KeystoreError(
          where,
          `crypto.kdfparams ask too much work (n ${n}, r ${r}, p ${p}: at most n·r = 2^21, n·r·p = 2^22)`,
        )
      }
      // OpenSSL takes n < 2^(16 r) only (RFC 7914's bound); keystores written with r = 1 exceed it.
      if (n >= 2 ** (16 * r)) {
        return Buffer.from(
          nobleScrypt(passphrase.normalize("NFKC"), salt, { N: n, r, p, dkLen: dklen, maxmem: 2 ** 31 }),
        )
      }
      return scryptSync(passphrase.normalize("NFKC"), salt, dklen, {
        N: n,
        r,
        p,
        maxmem: 256 * n * r + 1024 * 1024,
      })
    }
    case "pbkdf2": {
      if (params.prf !== "hmac-sha256") {
        throw new KeystoreError(
          where,
          `crypto.kdfparams.prf ${JSON.stringify(params.prf)} is not supported (hmac-sha256 is)`,
        )
      }
      const c = intField(where, "crypto.kdfparams.c", params.c, MAX_PBKDF2_ROUNDS)
      return pbkdf2Sync(passphrase.normalize("NFKC"), salt, c, dklen, "sha256")
    }
    default:
      throw new KeystoreError(
        where,
        `crypto.kdf ${JSON.stringify(crypto.kdf)} is not supported (scrypt and pbkdf2 are)`,
      )
  }
}

/**
 * The 32-byte secret a version-3 keystore holds, as `0x` and 64 hex digits.
 *
 * @example
 * ```ts
 * decryptKeystore(JSON.parse(readFileSync("operator.json", "utf8")), passphrase, "operator.json") // "0x…"
 * ```
 */
export const decryptKeystore = (json: unknown, passphrase: string, where: string): `0x${string}` => {
  const file = record(where, "the file", json)
  if (file.version !== 3)
    throw new KeystoreError(where, `version ${JSON.stringify(file.version)} is not supported (3 is)`)
  const crypto = record(where, "crypto", file.crypto ?? file.Crypto)
  if (crypto.cipher !== "aes-128-ctr") {
    throw new KeystoreError(
      where,
      `crypto.cipher ${JSON.stringify(crypto.cipher)} is not supported (aes-128-ctr is)`,
    )
  }
  const iv = hexField(
    where,
    "crypto.cipherparams.iv",
    record(where, "crypto.cipherparams", crypto.cipherparams).iv,
    16,
  )
  const ciphertext = hexField(where, "crypto.ciphertext", crypto.ciphertext, 32)
  const mac = hexField(where, "crypto.mac", crypto.mac, 32)
  const key = derive(where, crypto, passphrase)
  const expected = Buffer.from(keccak256(Buffer.concat([key.subarray(16, 32), ciphertext]), "bytes"))
  if (!timingSafeEqual(expected, mac)) {
    throw new KeystoreError(
      where,
      "the passphrase does not open it (its MAC does not match)",
      "check the passphrase it is given",
    )
  }
  const decipher = createDecipheriv("aes-128-ctr", key.subarray(0, 16), iv)
  const secret = Buffer.concat([decipher.update(ciphertext), decipher.final()])
  return `0x${secret.toString("hex")}`
}

/**
 * A version-3 keystore of `secret` (scrypt, aes-128-ctr). `n` below the usual 2^18 makes a key quick to open,
 * for devnets and tests only.
 *
 * @example
 * ```ts
 * writeFileSync("operator.json", JSON.stringify(encryptKeystore(privateKey, passphrase)))
 * ```
 */
export const encryptKeystore = (
  secret: `0x${string}`,
  passphrase: string,
  options: { readonly n?: number; readonly address?: string } = {},
) => {
  const n = options.n ?? 2 ** 18
  const salt = randomBytes(32)
  const iv = randomBytes(16)
  const key = scryptSync(passphrase.normalize("NFKC"), salt, 32, {
    N: n,
    r: 8,
    p: 1,
    maxmem: 256 * n * 8 + 1024 * 1024,
  })
  const cipher = createCipheriv("aes-128-ctr", key.subarray(0, 16), iv)
  const ciphertext = Buffer.concat([cipher.update(Buffer.from(secret.slice(2), "hex")), cipher.final()])
  return {
    version: 3,
    id: randomUUID(),
    ...(options.address === undefined ? {} : { address: options.address.toLowerCase().replace(/^0x/, "") }),
    crypto: {
      cipher: "aes-128-ctr",
      cipherparams: { iv: iv.toString("hex") },
      ciphertext: ciphertext.toString("hex"),
      kdf: "scrypt",
      kdfparams: { dklen: 32, n, r: 8, p: 1, salt: salt.toString("hex") },
      mac: Buffer.from(keccak256(Buffer.concat([key.subarray(16, 32), ciphertext]), "bytes")).toString("hex"),
    },
  }
}
