/**
 * Signatures already verified, remembered so a tool that reads a log again checks each record's signature
 * once, not on every run (issue 13, part 5: a replay over a million records spent most of its time in
 * Ed25519 verification, about 150 µs a record on the 2-core machine).
 *
 * What is remembered is a keyed digest of a verified triple: SHA-256 over the reader's own secret key, a
 * domain, the signer's public key, the signature and the exact bytes it signs (topic, key, value), cut to 16
 * bytes (a hash cut short cannot be length-extended, so this is a MAC). Whether a signature verifies depends on that triple alone, so a record whose triple gives a
 * remembered digest is byte for byte one that verified before. Everything else the producer policy checks (is
 * the key granted, may it write the topic, is the record on its partition, does it claim its own producer)
 * depends on the config of the moment and is checked every time.
 *
 * Trust: whoever can write the log (the embedded log's directory, or the Kafka topics) is not trusted, so
 * nothing here lives there. The key and the digests sit in the reader's private cache directory (mode 0700,
 * files 0600; `signatureMemoryDir`), and without the key nobody can make a digest or a file this accepts: the
 * file's checksum is keyed too. A key file that others may read is not used. A file that is damaged,
 * truncated, too large or not made with this key is not used (every signature is verified again and the file
 * rewritten). See docs/security.md.
 *
 * The table is open addressing over a `SharedArrayBuffer`, so replay threads look digests up in the table the
 * main thread loaded without copying it. A thread may read a slot while the main thread writes it: the worst
 * a half-written slot does is miss, and the signature is verified again.
 *
 * @module
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from "node:fs"
import { homedir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { writeFileAtomic } from "../embedded/atomic-file.ts"
import type { SignatureMemory } from "./record-signature.ts"

const MAGIC = Buffer.from("CHORUSVS3\n", "latin1")
const DIGEST_BYTES = 16
const WORDS = DIGEST_BYTES / 4
const CHECKSUM_BYTES = 32
const DOMAIN = Buffer.from("chorus/verified-signature/v1", "utf8")
/** Slots per remembered digest at most: a table at most half full keeps probes short. */
const LOAD = 2
/** The most digests a file may hold (256 MiB of them): a larger count is a damaged or hostile file. */
export const MAX_REMEMBERED = 16_000_000
const KEY_BYTES = 32

/**
 * The reader's private directory for remembered signatures: `$XDG_CACHE_HOME/chorus/signatures` (default
 * `~/.cache`), created 0700.
 */
export const signatureMemoryDir = (): string =>
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "chorus", "signatures")

/**
 * The reader's secret key for digests, made on first use (32 random bytes, 0600 in a 0700 directory). A key
 * file that its group or others may read or write is refused: a digest made with a key others know proves
 * nothing.
 */
export const signatureMemoryKey = (dir: string = signatureMemoryDir()): Buffer => {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, "key")
  if (!existsSync(file)) {
    try {
      // "wx": two readers starting at once make one key; the loser reads the winner's.
      const fd = openSync(file, "wx", 0o600)
      try {
        writeSync(fd, randomBytes(KEY_BYTES))
      } finally {
        closeSync(fd)
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
    }
  }
  const mode = statSync(file).mode & 0o777
  if ((mode & 0o077) !== 0) {
    throw new Error(
      `${file} may be read or written by others (mode ${mode.toString(8)}); chmod 600 it, or delete it`,
    )
  }
  chmodSync(dir, 0o700)
  const key = readFileSync(file)
  if (key.length !== KEY_BYTES)
    throw new Error(`${file} is not a ${KEY_BYTES}-byte key; delete it to make a new one`)
  return key
}

/** Why a remembered file was not used. */
export type VerifiedFileProblem = { readonly file: string; readonly reason: string }

export class VerifiedSignatures implements SignatureMemory {
  readonly #key: Buffer
  #table: Uint32Array
  #count: number
  #added = 0
  #hits = 0

  private constructor(key: Buffer, table: Uint32Array, count: number) {
    this.#key = key
    this.#table = table
    this.#count = count
  }

  /** An empty memory under `key`, with room for about `expected` digests before it grows. */
  static empty(key: Buffer, expected = 1024): VerifiedSignatures {
    return new VerifiedSignatures(key, VerifiedSignatures.#tableFor(expected), 0)
  }

  /**
   * A memory over the table another thread shares (`shared`), under the same key: lookups only.
   *
   * @example
   * ```ts
   * const seen = VerifiedSignatures.over(workerData.verified.table, Buffer.from(workerData.verified.key))
   * ```
   */
  static over(shared: SharedArrayBuffer, key: Buffer): VerifiedSignatures {
    return new VerifiedSignatures(key, new Uint32Array(shared), -1)
  }

  /**
   * The memory kept in `file` under `key`; an empty one when there is no file, and an empty one with the
   * reason when the file cannot be used (`problem`).
   */
  static load(
    file: string,
    key: Buffer,
  ): { readonly memory: VerifiedSignatures; readonly problem?: VerifiedFileProblem } {
    const empty = () => VerifiedSignatures.empty(key)
    if (!existsSync(file)) return { memory: empty() }
    const bad = (reason: string) => ({ memory: empty(), problem: { file, reason } })
    let bytes: Buffer
    try {
      if (statSync(file).size > MAGIC.length + 4 + MAX_REMEMBERED * DIGEST_BYTES + CHECKSUM_BYTES)
        return bad(`larger than ${MAX_REMEMBERED} digests`)
      bytes = readFileSync(file)
    } catch (error) {
      return bad((error as Error).message)
    }
    if (bytes.length < MAGIC.length + 4 + CHECKSUM_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
      return bad("not a file of verified signatures (wrong header)")
    const count = bytes.readUInt32BE(MAGIC.length)
    const body = MAGIC.length + 4 + count * DIGEST_BYTES
    if (bytes.length !== body + CHECKSUM_BYTES)
      return bad(`truncated: ${bytes.length} bytes for ${count} digests`)
    const checksum = createHmac("sha256", key).update(bytes.subarray(0, body)).digest()
    if (!timingSafeEqual(checksum, bytes.subarray(body)))
      return bad("its checksum does not match its content under this reader's key")
    const memory = new VerifiedSignatures(key, VerifiedSignatures.#tableFor(count), 0)
    for (let at = MAGIC.length + 4; at < body; at += DIGEST_BYTES)
      memory.#insert(bytes.subarray(at, at + DIGEST_BYTES))
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

  /** The key, to share with replay threads (`over`); never written anywhere but its own file. */
  get key(): Buffer {
    return this.#key
  }

  /** Digests remembered. */
  get size(): number {
    return this.#count
  }

  /** Digests added since it was loaded or saved. */
  get added(): number {
    return this.#added
  }

  /**
   * The digest of a (signer, signature, signed bytes) triple under this memory's key.
   *
   * @example
   * ```ts
   * memory.has(memory.digestOf(signerKeyBytes, signatureBytes, signedBytes))
   * ```
   */
  digestOf(signer: Uint8Array, signature: Uint8Array, signed: Uint8Array): Uint8Array {
    // The key first, then the fixed-length signer and signature: SHA-256 cut to 128 bits cannot be extended,
    // so this is a MAC, at the cost of one hash (an HMAC's key set-up per record was 7% of a replay).
    return createHash("sha256")
      .update(this.#key)
      .update(DOMAIN)
      .update(signer)
      .update(signature)
      .update(signed)
      .digest()
      .subarray(0, DIGEST_BYTES)
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
    if (this.#find(digest) || this.#count >= MAX_REMEMBERED) return
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
    this.#table = VerifiedSignatures.#tableFor(this.#count + 1)
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
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    writeFileAtomic(file, Buffer.concat([body, createHmac("sha256", this.#key).update(body).digest()]), true)
    chmodSync(file, 0o600)
    this.#added = 0
  }
}

/** A digest as four 32-bit words in the table's (native) byte order. */
const wordsOf = (digest: Uint8Array): Uint32Array => {
  const copy = new Uint8Array(DIGEST_BYTES)
  copy.set(digest.subarray(0, DIGEST_BYTES))
  return new Uint32Array(copy.buffer)
}

/**
 * The signatures this reader verified before on one log (an embedded log's directory, or a Kafka cluster's
 * brokers), from its private directory: the memory, the file to save it to, and why an existing file or the
 * key was not used. Without a usable key there is no memory (every signature is verified).
 *
 * @example
 * ```ts
 * const remembered = rememberedSignatures({ dataDir: ".devnet/log" })
 * // … replay with remembered.memory …
 * if (remembered.memory !== undefined && remembered.memory.added > 0) remembered.memory.save(remembered.file)
 * ```
 */
export const rememberedSignatures = (log: {
  readonly dataDir?: string
  readonly brokers?: ReadonlyArray<string>
}): {
  readonly file: string
  readonly memory: VerifiedSignatures | undefined
  readonly problem?: VerifiedFileProblem
} => {
  const dir = signatureMemoryDir()
  const id =
    log.dataDir !== undefined
      ? `embedded ${resolve(log.dataDir)}`
      : `kafka ${[...(log.brokers ?? [])].sort().join(",")}`
  const file = join(dir, `${createHash("sha256").update(id).digest("hex").slice(0, 32)}.digests`)
  let key: Buffer
  try {
    key = signatureMemoryKey(dir)
  } catch (error) {
    return { file, memory: undefined, problem: { file: join(dir, "key"), reason: (error as Error).message } }
  }
  return { file, ...VerifiedSignatures.load(file, key) }
}
