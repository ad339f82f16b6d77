import { secp256k1 } from "@noble/curves/secp256k1"
import fc from "fast-check"
import { bytesToHex, type Hex, parseGwei } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { recoverPublicKeyBytes, signDigestBytes, withFastTransactionSigning } from "./secp256k1.ts"

const key = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((bytes) => secp256k1.utils.isValidPrivateKey(bytes))
const digest = fc.uint8Array({ minLength: 32, maxLength: 32 })

describe("secp256k1 (WebAssembly)", () => {
  it("signs every digest to the very bytes @noble/curves does (RFC 6979, low s), recovery bit included", () => {
    fc.assert(
      fc.property(key, digest, (privateKey, hash) => {
        const ours = signDigestBytes(privateKey, hash)
        const noble = secp256k1.sign(hash, privateKey, { lowS: true })
        expect(bytesToHex(ours.compact)).toBe(`0x${noble.toCompactHex()}`)
        expect(ours.recovery).toBe(noble.recovery)
      }),
      { numRuns: 200 },
    )
  })

  it("recovers the signer's public key as @noble/curves does, and another key under the other recovery bit", () => {
    fc.assert(
      fc.property(key, digest, (privateKey, hash) => {
        const { compact, recovery } = signDigestBytes(privateKey, hash)
        const expected = secp256k1.getPublicKey(privateKey, false)
        expect(recoverPublicKeyBytes(hash, compact, recovery)).toEqual(expected)
        expect(recoverPublicKeyBytes(hash, compact, recovery === 0 ? 1 : 0)).not.toEqual(expected)
      }),
      { numRuns: 100 },
    )
  })

  it("recovers nothing from an r that is no curve point's x, rather than throwing", () => {
    // r = 5 with either parity: 5³ + 7 = 132 is not a square mod p.
    const compact = new Uint8Array(64)
    compact[31] = 5
    compact[63] = 1
    expect(recoverPublicKeyBytes(new Uint8Array(32).fill(1), compact, 0)).toBeNull()
  })

  it("signs a transaction to the same bytes as viem's own account", async () => {
    const privateKey: Hex = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
    const viemAccount = privateKeyToAccount(privateKey)
    const fast = withFastTransactionSigning(viemAccount, privateKey)
    for (const nonce of [0, 1, 77]) {
      const transaction = {
        type: "eip1559" as const,
        chainId: 901,
        to: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const,
        data: "0x1234" as const,
        gas: 1_000_000n,
        nonce,
        maxFeePerGas: parseGwei("2"),
        maxPriorityFeePerGas: parseGwei("1"),
        value: 0n,
      }
      expect(await fast.signTransaction(transaction)).toBe(await viemAccount.signTransaction(transaction))
    }
    expect(fast.address).toBe(viemAccount.address)
  })
})
