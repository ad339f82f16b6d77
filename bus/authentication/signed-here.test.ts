import { describe, expect, it } from "vitest"
import { TOPICS } from "../../topology/index.ts"
import { checkSignature, SIGNATURE_HEADERS, signerFromSeed } from "./record-signature.ts"
import { rememberSignedHere, SIGNED_HERE, signedHere } from "./signed-here.ts"

const seed = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as const
const bytes = (...values: number[]) => Uint8Array.from(values)

describe("signatures made in this process", () => {
  it("given a remembered triple, then only that exact signer, signature and signed bytes are known", () => {
    const signer = signerFromSeed(seed(71)).publicKey
    rememberSignedHere(signer, bytes(1, 2, 3), bytes(9, 9))
    expect(signedHere(signer, bytes(1, 2, 3), bytes(9, 9))).toBe(true)
    expect(signedHere(signer, bytes(1, 2, 4), bytes(9, 9))).toBe(false)
    expect(signedHere(signer, bytes(1, 2, 3), bytes(9, 8))).toBe(false)
    expect(signedHere(signer, bytes(1, 2, 3), bytes(9, 9, 0))).toBe(false)
    expect(signedHere(signerFromSeed(seed(72)).publicKey, bytes(1, 2, 3), bytes(9, 9))).toBe(false)
  })

  it("given more signatures than it keeps, then the oldest is forgotten and the newest are known", () => {
    const signer = signerFromSeed(seed(73)).publicKey
    const signed = (n: number) => bytes(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff)
    for (let n = 0; n <= SIGNED_HERE; n++) rememberSignedHere(signer, bytes(7), signed(n))
    expect(signedHere(signer, bytes(7), signed(0))).toBe(false)
    expect(signedHere(signer, bytes(7), signed(1))).toBe(true)
    expect(signedHere(signer, bytes(7), signed(SIGNED_HERE))).toBe(true)
  })

  it("given a record signed here, when its signer header names another key of this process, then it is verified and refused", () => {
    const watcher = signerFromSeed(seed(74))
    const operator = signerFromSeed(seed(75))
    operator.sign(TOPICS.attestationsSigned.name, null, bytes(0)) // the operator's key signs in this process too
    const value = new TextEncoder().encode('{"a":1}')
    const record = {
      topic: TOPICS.watcherCursors.name,
      key: "901",
      value,
      headers: watcher.sign(TOPICS.watcherCursors.name, "901", value),
    }
    expect(checkSignature(record)).toEqual({ ok: true, signer: watcher.publicKey })
    const claimed = {
      ...record,
      headers: { ...record.headers, [SIGNATURE_HEADERS.signer]: operator.publicKey },
    }
    expect(checkSignature(claimed)).toMatchObject({ ok: false, reason: "bad-signature" })
  })
})
