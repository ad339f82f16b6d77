import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { TOPICS } from "../../topology/index.ts"
import { checkSignature, producerPolicy, SIGNATURE_HEADERS, signerFromSeed } from "./index.ts"
import { rememberedSignatures, signatureMemoryKey, VerifiedSignatures } from "./verified-signatures.ts"

const seed = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as const
const watcher = signerFromSeed(seed(1))
const topic = TOPICS.watcherCursors.name
const record = (value: string, signer = watcher) => {
  const bytes = new TextEncoder().encode(value)
  return { topic, key: "901", value: bytes, headers: { ...signer.sign(topic, "901", bytes) } }
}
const key = Buffer.alloc(32, 7)
const otherKey = Buffer.alloc(32, 9)
const digestOf = (n: number) => {
  const digest = new Uint8Array(16)
  new DataView(digest.buffer).setUint32(0, n + 1)
  new DataView(digest.buffer).setUint32(12, (n * 2654435761) >>> 0)
  return digest
}

let dirs: string[] = []
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "chorus-verified-"))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs = []
})

describe("signatures verified before", () => {
  it("given a record checked with a memory, when it is checked again, then its signature is taken as verified", () => {
    const memory = VerifiedSignatures.empty(key)
    const signed = record('{"n":1}')
    expect(checkSignature(signed, memory)).toEqual({ ok: true, signer: watcher.publicKey })
    expect([memory.size, memory.hits]).toEqual([1, 0])
    expect(checkSignature(signed, memory)).toEqual({ ok: true, signer: watcher.publicKey })
    expect([memory.size, memory.hits]).toEqual([1, 1])
  })

  it("given a remembered record, when its value, topic or signature is altered, then it is verified and refused", () => {
    const memory = VerifiedSignatures.empty(key)
    const signed = record('{"n":1}')
    checkSignature(signed, memory)
    const altered = { ...signed, value: new TextEncoder().encode('{"n":2}') }
    expect(checkSignature(altered, memory)).toMatchObject({ ok: false, reason: "bad-signature" })
    expect(checkSignature({ ...signed, topic: TOPICS.messagesObserved.name }, memory)).toMatchObject({
      ok: false,
      reason: "bad-signature",
    })
    const other = record('{"n":3}')
    const swapped = {
      ...signed,
      headers: {
        ...signed.headers,
        [SIGNATURE_HEADERS.signature]: other.headers[SIGNATURE_HEADERS.signature]!,
      },
    }
    expect(checkSignature(swapped, memory)).toMatchObject({ ok: false, reason: "bad-signature" })
    expect(memory.hits).toBe(0)
    // A refused record is not remembered.
    expect(memory.size).toBe(1)
  })

  it("given a remembered signature, when the config no longer grants its key, then the policy still refuses it", () => {
    const memory = VerifiedSignatures.empty(key)
    const signed = record('{"n":1}')
    const granted = producerPolicy(
      [{ service: "chain-watcher", instance: null, publicKey: watcher.publicKey, topics: new Set([topic]) }],
      [],
    )
    const withHeaders = { ...signed, headers: { ...signed.headers, "chorus-producer": "chain-watcher/901" } }
    expect(granted.authenticate(withHeaders, memory)).toMatchObject({ ok: true })
    const revoked = producerPolicy([], [])
    expect(revoked.authenticate(withHeaders, memory)).toMatchObject({ ok: false, reason: "unknown-signer" })
  })

  it("given a file planted by someone without the reader's key, when it is loaded, then nothing of it is taken", () => {
    const signed = record('{"forged":true}')
    // The forger names a granted key and any signature, and writes the digest and checksum a keyless scheme would accept.
    const forged = {
      ...signed,
      headers: { ...signed.headers, [SIGNATURE_HEADERS.signature]: `0x${"ab".repeat(64)}` },
    }
    // The digest of this exact triple under a key that is not the reader's, as checkSignature computes it.
    const planted = VerifiedSignatures.empty(otherKey)
    const computed: Uint8Array[] = []
    checkSignature(forged, {
      digestOf: (signer, signature, bytes) => {
        const digest = planted.digestOf(signer, signature, bytes)
        computed.push(digest)
        return digest
      },
      has: () => false,
      remember: () => {},
    })
    expect(computed).toHaveLength(1)
    planted.add(computed[0]!)
    const file = join(scratch(), "planted.digests")
    planted.save(file)
    const { memory, problem } = VerifiedSignatures.load(file, key)
    expect(problem?.reason).toMatch(/under this reader's key/)
    expect(checkSignature(forged, memory)).toMatchObject({ ok: false, reason: "bad-signature" })
    // Even copied into the reader's own table, that digest is not the reader's digest of the triple.
    const mine = VerifiedSignatures.empty(key)
    mine.add(computed[0]!)
    expect(checkSignature(forged, mine)).toMatchObject({ ok: false, reason: "bad-signature" })
    expect(mine.hits).toBe(0)
  })

  it("keeps its key private: made 0600 in a 0700 directory, and refused once others may read it", () => {
    const dir = join(scratch(), "signatures")
    const made = signatureMemoryKey(dir)
    expect(made).toHaveLength(32)
    expect(statSync(join(dir, "key")).mode & 0o777).toBe(0o600)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(signatureMemoryKey(dir).equals(made)).toBe(true)
    chmodSync(join(dir, "key"), 0o644)
    expect(() => signatureMemoryKey(dir)).toThrow(/may be read or written by others \(mode 644\)/)
  })

  it("keeps one private file per log, under the reader's cache, never beside the log", () => {
    const cache = scratch()
    const before = process.env.XDG_CACHE_HOME
    process.env.XDG_CACHE_HOME = cache
    try {
      const logDir = scratch()
      const embedded = rememberedSignatures({ dataDir: logDir })
      expect(embedded.file.startsWith(join(cache, "chorus", "signatures"))).toBe(true)
      expect(embedded.problem).toBeUndefined()
      expect(rememberedSignatures({ dataDir: logDir }).file).toBe(embedded.file)
      expect(rememberedSignatures({ dataDir: scratch() }).file).not.toBe(embedded.file)
      expect(rememberedSignatures({ brokers: ["b:2", "a:1"] }).file).toBe(
        rememberedSignatures({ brokers: ["a:1", "b:2"] }).file,
      )
      embedded.memory!.add(digestOf(1))
      embedded.memory!.save(embedded.file)
      expect(statSync(embedded.file).mode & 0o777).toBe(0o600)
      expect(rememberedSignatures({ dataDir: logDir }).memory!.has(digestOf(1))).toBe(true)
      expect(existsSync(join(logDir, "audit"))).toBe(false)
    } finally {
      if (before === undefined) delete process.env.XDG_CACHE_HOME
      else process.env.XDG_CACHE_HOME = before
    }
  })

  it("keeps every digest across a save and a load, growing past its first table", () => {
    const memory = VerifiedSignatures.empty(key, 16)
    for (let n = 0; n < 5_000; n++) memory.add(digestOf(n))
    memory.add(digestOf(7))
    expect([memory.size, memory.added]).toEqual([5_000, 5_000])
    const file = join(scratch(), "audit", "verified-signatures")
    memory.save(file)
    expect(memory.added).toBe(0)
    const { memory: loaded, problem } = VerifiedSignatures.load(file, key)
    expect(problem).toBeUndefined()
    expect(loaded.size).toBe(5_000)
    for (let n = 0; n < 5_000; n++) expect(loaded.has(digestOf(n))).toBe(true)
    expect(loaded.has(digestOf(5_000))).toBe(false)
    // A thread sharing the table finds the same digests, and may not add.
    const shared = VerifiedSignatures.over(loaded.shared, key)
    expect(shared.has(digestOf(4_999))).toBe(true)
    expect(() => shared.add(digestOf(9_999))).toThrow(/read-only/)
  })

  it("does not use a damaged, truncated or foreign file, and says why", () => {
    const dir = scratch()
    const file = join(dir, "verified-signatures")
    const memory = VerifiedSignatures.empty(key)
    for (let n = 0; n < 10; n++) memory.add(digestOf(n))
    memory.save(file)
    const good = readFileSync(file)
    const flipped = Buffer.from(good)
    flipped[20] = flipped[20]! ^ 1
    writeFileSync(file, flipped)
    expect(VerifiedSignatures.load(file, key)).toMatchObject({
      problem: { file, reason: "its checksum does not match its content under this reader's key" },
    })
    expect(VerifiedSignatures.load(file, key).memory.size).toBe(0)
    writeFileSync(file, good.subarray(0, good.length - 1))
    expect(VerifiedSignatures.load(file, key).problem?.reason).toMatch(/^truncated/)
    writeFileSync(file, "not a digest file at all, but long enough to have a header and a checksum")
    expect(VerifiedSignatures.load(file, key).problem?.reason).toMatch(/wrong header/)
    expect(VerifiedSignatures.load(join(dir, "absent"), key)).toEqual({
      memory: expect.any(VerifiedSignatures),
    })
  })
})
