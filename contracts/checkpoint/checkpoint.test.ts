import { hashTypedData, keccak256, parseSignature, size, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import {
  type Checkpoint,
  DuplicateSignerError,
  getCheckpointDomain,
  hashCheckpoint,
  hashOperatorSetUpdate,
  inboxTypes,
  packSignatures,
  preimageForInbox,
  recoverCheckpointSigner,
  SignatureLengthError,
  signCheckpoint,
  sortSignatures,
} from "./index.ts"

const accounts = Array.from({ length: 3 }, (_, i) => privateKeyToAccount(keccak256(stringToHex(`unit-${i}`))))
const domain = getCheckpointDomain({
  registryChainId: 901,
  registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
})
const checkpoint: Checkpoint = {
  srcChainId: 901n,
  outbox: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  dstChainId: 902n,
  root: `0x${"12".repeat(32)}`,
  count: 42,
  epoch: 1n,
}

describe("checkpoint signing", () => {
  it("builds the network domain with a checksummed registry", () => {
    expect(domain).toEqual({
      name: "Chorus",
      version: "1",
      chainId: 901,
      verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    })
  })

  it("signs with v = 27/28 and low s, and recovers the signer", async () => {
    for (const account of accounts) {
      const signature = await signCheckpoint({ account, domain, checkpoint })
      expect(size(signature)).toBe(65)
      const { s, v } = parseSignature(signature)
      expect([27n, 28n]).toContain(v)
      expect(BigInt(s)).toBeLessThanOrEqual(
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n,
      )
      expect(await recoverCheckpointSigner({ domain, checkpoint, signature })).toBe(account.address)
    }
  })

  it("digests differ per lane field and per network", () => {
    const base = hashCheckpoint({ domain, checkpoint })
    for (const change of [
      { srcChainId: 903n },
      { dstChainId: 903n },
      { count: 43 },
      { outbox: "0x0000000000000000000000000000000000000001" as const },
      { root: `0x${"13".repeat(32)}` as const },
    ]) {
      expect(hashCheckpoint({ domain, checkpoint: { ...checkpoint, ...change } })).not.toBe(base)
    }
    expect(hashCheckpoint({ domain: { ...domain, chainId: 902 }, checkpoint })).not.toBe(base)
  })

  it("sorts by signer address as numbers and refuses duplicates", async () => {
    const signed = await Promise.all(
      accounts.map(async (account) => ({
        signer: account.address,
        signature: await signCheckpoint({ account, domain, checkpoint }),
      })),
    )
    const sorted = sortSignatures([...signed].reverse())
    for (let i = 1; i < sorted.length; i++)
      expect(BigInt(sorted[i - 1]!.signer) < BigInt(sorted[i]!.signer)).toBe(true)
    expect(() =>
      sortSignatures([signed[0]!, { ...signed[0]!, signer: signed[0]!.signer.toLowerCase() as never }]),
    ).toThrow(DuplicateSignerError)
    const packed = packSignatures(signed)
    expect(size(packed)).toBe(65 * 3)
    expect(packed.slice(2, 132)).toBe(sorted[0]!.signature.slice(2))
    expect(() => packSignatures([{ signer: accounts[0]!.address, signature: "0x1234" }])).toThrow(
      SignatureLengthError,
    )
  })
})

describe("the EIP-712 preimage a remote signer is given", () => {
  it("hashes to viem's typed-data digest, for a checkpoint and for an operator-set update", () => {
    const update = {
      epoch: 2n,
      operators: accounts.map((a) => a.address),
      weights: [1n, 2n, 3n],
      thresholdBps: 6667,
    }
    const reference = (primaryType: "Checkpoint" | "OperatorSetUpdate", message: object) =>
      hashTypedData({ domain, types: inboxTypes, primaryType, message } as never)
    const forCheckpoint = preimageForInbox({
      domain,
      typed: { primaryType: "Checkpoint", message: checkpoint },
    })
    expect(forCheckpoint.startsWith("0x1901")).toBe(true)
    expect(size(forCheckpoint)).toBe(66)
    expect(keccak256(forCheckpoint)).toBe(reference("Checkpoint", checkpoint))
    expect(hashCheckpoint({ domain, checkpoint })).toBe(reference("Checkpoint", checkpoint))
    const forUpdate = preimageForInbox({
      domain,
      typed: { primaryType: "OperatorSetUpdate", message: update },
    })
    expect(keccak256(forUpdate)).toBe(reference("OperatorSetUpdate", update))
    expect(hashOperatorSetUpdate({ domain, update })).toBe(reference("OperatorSetUpdate", update))
  })
})
