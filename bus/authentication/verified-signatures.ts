/**
 * Signatures already verified, remembered so a tool that reads a log again checks each record's signature
 * once, not on every run (issue 13, part 5: a replay over a million records spent most of its time in
 * Ed25519 verification, about 150 µs a record on the 2-core machine).
 *
 * What is remembered is the digest of a verified triple: SHA-256 over a domain, the signer's public key, the
 * signature and the exact bytes it signs (topic, key, value), cut to 16 bytes. Whether a signature verifies
 * depends on that triple alone, so a record whose triple hashes to a remembered digest is byte for byte one
 * that verified before (a second preimage of SHA-256 cut to 128 bits is out of reach). Everything else the
 * producer policy checks (is the key granted, may it write the topic, is the record on its partition, does it
 * claim its own producer) depends on the config of the moment and is checked every time.
 *
 * Trust: the file lives on the reader's own disk, beside the audit index (never on the bus), and is trusted
 * as much as the config file that lists the producers' keys, which sits in the same place: whoever can
 * rewrite one can rewrite the other (see docs/security.md). A file that is damaged, truncated or of another
 * format is not used (every signature is verified again and the file is rewritten).
 *
 * The table is open addressing over a `SharedArrayBuffer`, so replay threads look digests up in the one
 * table the main thread loaded, without copying it; while they run, only the main thread adds.
 *
 * @module
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync } from "node:fs"
import { dirname } from "node:path"
import { writeFileAtomic } from "../embedded/atomic-file.ts"
import type { SignatureMemory } from "./record-signature.ts"

const MAGIC = Buffer.from("CHORUSVS1\n", "latin1")
const DIGEST_BYTES = 16
const WORDS = DIGEST_BYTES / 4
const CHECKSUM_BYTES = 32
const DOMAIN = Buffer.from("chorus/verified-signature/v1", "utf8")
/** Slots per remembered digest at most: a table at most half full keeps probes short. */
const LOAD = 2

/**
 * The digest of a verified (signer, signature, signed bytes) triple.
 *
 * @example
 * ```ts
 * const digest = verifiedDigest(signerKeyBytes, signatureBytes, signedBytes)
 * ```
 */
export const verifiedDigest = (signer: Uint8Array, signature: Uint8Array, signed: Uint8Array): Uint8Array =>
  createHash("sha256").update(DOMAIN).update(signer).update(signature).update(signed).digest().subarray(0, 16)

/** Why a remembered file was not used. */
export type VerifiedFileProblem = { readonly file: string; readonly reason: string }

export class VerifiedSignatures implements SignatureMemory {
  #table: Uint32Array
  #count: number
  #added = 0
  #hits = 0

  private constructor(table: Uint32Array, count: number) {
    this.#table = table
    this.#count = count
  }

  /** An empty memory with room for about `expected` digests before it grows. */
  static empty(expected = 1024): VerifiedSignatures {
    return new VerifiedSignatures(VerifiedSignatures.#tableFor(expected), 0)
  }

  /**
   * A memory over the table another thread shares (`shared`): lookups only.
   *
   * @example
   * ```ts
   * const seen = VerifiedSignatures.over(workerData.verified)
   * ```
   */
  static over(shared: SharedArrayBuffer): VerifiedSignatures {
    return new VerifiedSignatures(new Uint32Array(shared), -1)
  }

  /**
   * The memory kept in `file`; an empty one when there is no file, and an empty one with the reason when the
   * file cannot be used (`problem`).
   */
  static load(file: string): { readonly memory: VerifiedSignatures; readonly problem?: VerifiedFileProblem } {
    if (!existsSync(file)) return { memory: VerifiedSignatures.empty() }
    let bytes: Buffer
    try {
      bytes = readFileSync(file)
    } catch (error) {
      return { memory: VerifiedSignatures.empty(), problem: { file, reason: (error as Error).message } }
    }
    const bad = (reason: string) => ({ memory: VerifiedSignatures.empty(), problem: { file, reason } })
    if (bytes.length < MAGIC.length + 4 + CHECKSUM_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
      return bad("not a file of verified signatures (wrong header)")
    const count = bytes.readUInt32BE(MAGIC.length)
    const body = MAGIC.length + 4 + count * DIGEST_BYTES
    if (bytes.length !== body + CHECKSUM_BYTES)
      return bad(`truncated: ${bytes.length} bytes for ${count} digests`)
    const checksum = createHash("sha256").update(bytes.subarray(0, body)).digest()
    if (!checksum.equals(bytes.subarray(body))) return bad("its checksum does not match its content")
    const memory = new VerifiedSignatures(VerifiedSignatures.#tableFor(count * 2), 0)
    for (let at = MAGIC.length + 4; at < body; at += DIGEST_BYTES)
      memory.#insert(bytes.subarray(at, at + DIGEST_BYTES))
    memory.#added = 0
    return { memory }
  }

  static #tableFor(expected: number): Uint32Array {
    let slots = 1024
    while (slots < expected * LOAD) slots *= 2
    return new Uint32Array(new SharedArrayBuffer(slots * DIGEST_BYTES))
  }

  /** The table, to share with replay threads (`over`). */
  get shared(): SharedArrayBuffer {
    return this.#table.buffer as SharedArrayBuffer
  }

  /** Digests remembered. */
  get size(): number {
    return this.#count
  }

  /** Digests added since it was loaded or saved. */
  get added(): number {
    return this.#added
  }

  /** Signatures taken from it (`has` answered yes) since it was made. */
  get hits(): number {
    return this.#hits
  }

  /** Whether the triple this digest stands for verified before. */
  has(digest: Uint8Array): boolean {
    const found = this.#find(digest)
    if (found) this.#hits++
    return found
  }

  /** Remembers a triple that verified now (`add`). */
  remember(digest: Uint8Array): void {
    this.add(digest)
  }

  #find(digest: Uint8Array): boolean {
    const table = this.#table
    const mask = table.length / WORDS - 1
    const words = wordsOf(digest)
    // An all-zero slot is empty; a digest of all zeros (probability 2^-128) is simply never remembered.
    for (let slot = words[0]! & mask; ; slot = (slot + 1) & mask) {
      const at = slot * WORDS
      const first = table[at]!
      if (first === 0 && table[at + 1] === 0 && table[at + 2] === 0 && table[at + 3] === 0) return false
      if (
        first === words[0] &&
        table[at + 1] === words[1] &&
        table[at + 2] === words[2] &&
        table[at + 3] === words[3]
      )
        return true
    }
  }

  /** Remembers a verified triple's digest. Not on a memory shared from another thread. */
  add(digest: Uint8Array): void {
    if (this.#count < 0) throw new Error("a shared memory of verified signatures is read-only")
    if (this.#find(digest)) return
    if ((this.#count + 1) * LOAD > this.#table.length / WORDS) this.#grow()
    this.#insert(digest)
    this.#added++
  }

  #insert(digest: Uint8Array): void {
    const words = wordsOf(digest)
    if (words.every((w) => w === 0)) return
    const table = this.#table
    const mask = table.length / WORDS - 1
    for (let slot = words[0]! & mask; ; slot = (slot + 1) & mask) {
      const at = slot * WORDS
      if (table[at] === 0 && table[at + 1] === 0 && table[at + 2] === 0 && table[at + 3] === 0) {
        table.set(words, at)
        this.#count++
        return
      }
    }
  }

  #grow(): void {
    const old = this.#table
    this.#table = VerifiedSignatures.#tableFor(this.#count * 2 + 1)
    this.#count = 0
    for (let at = 0; at < old.length; at += WORDS) {
      if (old[at] === 0 && old[at + 1] === 0 && old[at + 2] === 0 && old[at + 3] === 0) continue
      this.#insert(new Uint8Array(old.buffer, at * 4, DIGEST_BYTES))
    }
  }

  /**
   * Writes every digest to `file` (atomically: a reader sees the old file or the new one).
   *
   * @example
   * ```ts
   * const { memory } = VerifiedSignatures.load(file)
   * // … records checked with it …
   * if (memory.added > 0) memory.save(file)
   * ```
   */
  save(file: string): void {
    if (this.#count < 0) throw new Error("a shared memory of verified signatures is read-only")
    const table = this.#table
    const body = Buffer.alloc(MAGIC.length + 4 + this.#count * DIGEST_BYTES)
    MAGIC.copy(body)
    body.writeUInt32BE(this.#count, MAGIC.length)
    let at = MAGIC.length + 4
    for (let slot = 0; slot < table.length; slot += WORDS) {
      if (table[slot] === 0 && table[slot + 1] === 0 && table[slot + 2] === 0 && table[slot + 3] === 0)
        continue
      Buffer.from(table.buffer, slot * 4, DIGEST_BYTES).copy(body, at)
      at += DIGEST_BYTES
    }
    mkdirSync(dirname(file), { recursive: true })
    writeFileAtomic(file, Buffer.concat([body, createHash("sha256").update(body).digest()]), true)
    this.#added = 0
  }
}

/** A digest as four 32-bit words in the table's (native) byte order. */
const wordsOf = (digest: Uint8Array): Uint32Array => {
  const copy = new Uint8Array(DIGEST_BYTES)
  copy.set(digest.subarray(0, DIGEST_BYTES))
  return new Uint32Array(copy.buffer)
}
