import { describe, expect, it } from "vitest"
import { decryptKeystore, encryptKeystore, KeystoreError } from "./keystore.ts"

/** The Web3 Secret Storage definition's test vectors: password "testpassword". */
const SECRET = "0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"
const PBKDF2 = {
  crypto: {
    cipher: "aes-128-ctr",
    cipherparams: { iv: "6087dab2f9fdbbfaddc31a909735c1e6" },
    ciphertext: "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
    kdf: "pbkdf2",
    kdfparams: {
      c: 262144,
      dklen: 32,
      prf: "hmac-sha256",
      salt: "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd",
    },
    mac: "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2",
  },
  id: "3198bc9c-6672-5ab3-d995-4942343ae5b6",
  version: 3,
}
const SCRYPT = {
  crypto: {
    cipher: "aes-128-ctr",
    cipherparams: { iv: "83dbcc02d8ccb40e466191a123791e0e" },
    ciphertext: "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
    kdf: "scrypt",
    kdfparams: {
      dklen: 32,
      n: 262144,
      r: 1,
      p: 8,
      salt: "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19",
    },
    mac: "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097",
  },
  id: "3198bc9c-6672-5ab3-d995-4942343ae5b6",
  version: 3,
}

const failure = (run: () => unknown): KeystoreError => {
  try {
    run()
  } catch (error) {
    if (error instanceof KeystoreError) return error
    throw error
  }
  throw new Error("it opened")
}

describe("a version-3 keystore", () => {
  it("opens the specification's pbkdf2 and scrypt vectors", () => {
    expect(decryptKeystore(PBKDF2, "testpassword", "pbkdf2.json")).toBe(SECRET)
    expect(decryptKeystore(SCRYPT, "testpassword", "scrypt.json")).toBe(SECRET)
  })

  it("opens what it writes, and names a wrong passphrase without showing it or the key", () => {
    const file = encryptKeystore(SECRET, "correct horse", { n: 1024 })
    expect(decryptKeystore(file, "correct horse", "op.json")).toBe(SECRET)
    const error = failure(() => decryptKeystore(file, "battery staple", "op.json"))
    expect(error.message).toContain("keystore op.json: the passphrase does not open it")
    expect(error.message).not.toContain("battery")
    expect(error.message).not.toContain(SECRET.slice(2, 12))
  })

  it("given a hostile file, names the field before doing the work it asks", () => {
    const withParams = (kdfparams: object, kdf = "scrypt") => ({
      ...SCRYPT,
      crypto: { ...SCRYPT.crypto, kdf, kdfparams: { ...SCRYPT.crypto.kdfparams, ...kdfparams } },
    })
    const started = Date.now()
    expect(failure(() => decryptKeystore(withParams({ n: 2 ** 40 }), "x", "big.json")).message).toContain(
      "crypto.kdfparams.n must be an integer from 1 to 1048576",
    )
    expect(failure(() => decryptKeystore(withParams({ n: 1000 }), "x", "k.json")).message).toContain(
      "not a power of 2",
    )
    expect(
      failure(() => decryptKeystore(withParams({ n: 2 ** 20, r: 16, p: 16 }), "x", "k.json")).message,
    ).toContain("crypto.kdfparams ask too much work")
    expect(
      failure(() => decryptKeystore(withParams({ c: 1e12, prf: "hmac-sha256" }, "pbkdf2"), "x", "k.json"))
        .message,
    ).toContain("crypto.kdfparams.c must be an integer")
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(failure(() => decryptKeystore(withParams({}, "argon2"), "x", "k.json")).message).toContain(
      'crypto.kdf "argon2" is not supported',
    )
    expect(
      failure(() => decryptKeystore({ ...SCRYPT, crypto: { ...SCRYPT.crypto, mac: "zz" } }, "x", "k.json"))
        .message,
    ).toContain("crypto.mac is not hex")
    expect(failure(() => decryptKeystore({ ...SCRYPT, version: 4 }, "x", "k.json")).message).toContain(
      "version 4 is not supported",
    )
    expect(failure(() => decryptKeystore("nope", "x", "k.json")).message).toContain(
      "the file is missing or not an object",
    )
  })
})
