/**
 * A submitter's transactions signed by a remote signer speaking Web3Signer's
 * API, against a real anvil: the fake signer here holds anvil's funded key
 * and answers `POST /api/v1/eth1/sign/<publicKey>` with the signature of
 * keccak256(data), as Web3Signer does. The chain must include what it
 * signed, sent from its account; a signer that answers for another key, or
 * does not answer, is refused by name.
 */
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ANVIL_DEFAULT_KEYS, type Anvil, startAnvil } from "../../contracts/index.ts"
import { resolvePrivateKey, resolveSigningKey } from "../../services/config/index.ts"
import { fakeWeb3Signer } from "../../test/fixtures/web3signer.ts"
import type { RemoteSignerRef } from "../chain-access.ts"
import { makeEvmClient } from "./client.ts"
import { makeEvmWriter } from "./writer.ts"

const KEY = ANVIL_DEFAULT_KEYS[1]
const account = privateKeyToAccount(KEY)
const OTHER = ANVIL_DEFAULT_KEYS[2]

describe("a remote signer (Web3Signer's API) signing a submitter's transactions", () => {
  let anvil: Anvil
  beforeAll(async () => {
    anvil = await startAnvil({ chainId: 902 })
  }, 60_000)
  afterAll(async () => {
    await anvil?.stop()
  })

  const writerFor = (signer: RemoteSignerRef) =>
    makeEvmWriter(makeEvmClient({ chainId: 902, rpcUrls: [anvil.rpcUrl], retryCount: 0 }), {
      inbox: "0x00000000000000000000000000000000000000b0" as never,
      key: signer,
    })

  const transfer = async (writer: ReturnType<typeof writerFor>) => {
    const fees = await writer.fees()
    const nonce = await writer.transactionCount("pending")
    return writer.sign({
      to: "0x00000000000000000000000000000000000000c0",
      data: "0x",
      gas: 21_000n,
      nonce,
      ...fees,
    })
  }

  it("given the config's web3signer and public key, sends from the key's account, and the chain includes it", async () => {
    const signer = await fakeWeb3Signer(KEY)
    try {
      const ref = resolveSigningKey(
        { web3signer: signer.url, publicKey: account.publicKey } as never,
        "submitters[0].privateKey",
      ) as RemoteSignerRef
      expect(ref.address.toLowerCase()).toBe(account.address.toLowerCase())
      const writer = writerFor(ref)
      expect(writer.sender.toLowerCase()).toBe(account.address.toLowerCase())
      const signed = await transfer(writer)
      expect(signer.asked).toHaveLength(1)
      expect(signer.asked[0]!.path).toBe(`/api/v1/eth1/sign/${account.publicKey}`)
      expect(await writer.broadcast(signed)).toEqual({ kind: "accepted" })
      let receipt = await writer.receipt(signed.hash)
      for (let i = 0; receipt === null && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100))
        receipt = await writer.receipt(signed.hash)
      }
      expect(receipt?.succeeded).toBe(true)
      expect((await writer.sentTransaction(signed.hash))?.from.toLowerCase()).toBe(
        account.address.toLowerCase(),
      )
    } finally {
      await signer.close()
    }
  })

  it("refuses a signature of another key, and a signer that does not answer, naming the signer", async () => {
    const wrong = await fakeWeb3Signer(OTHER)
    try {
      const writer = writerFor({
        kind: "web3signer",
        url: wrong.url,
        publicKey: account.publicKey,
        address: account.address,
      })
      await expect(transfer(writer)).rejects.toThrow(
        new RegExp(
          `remote signer ${wrong.url} for ${account.address}: signed as 0x[0-9a-fA-F]{40}, not as the configured account`,
        ),
      )
    } finally {
      await wrong.close()
    }
    const down = writerFor({
      kind: "web3signer",
      url: "http://127.0.0.1:9",
      publicKey: account.publicKey,
      address: account.address,
    })
    await expect(transfer(down)).rejects.toThrow(/remote signer http:\/\/127\.0\.0\.1:9 .*: no answer/)
  })

  it("refuses a remote signer where the key must sign in the process", () => {
    expect(() =>
      resolvePrivateKey(
        { web3signer: "http://signer:9000", publicKey: account.publicKey } as never,
        "--deployer-key",
      ),
    ).toThrow(/--deployer-key: this key signs here, in this process, so a remote signer cannot hold it/)
  })
})
