/**
 * Records signed by a producer whose key stays in a remote signer (Web3Signer's API signs secp256k1, not
 * Ed25519): the headers carry its uncompressed secp256k1 key and `r ‖ s ‖ v`, a consumer's policy takes them
 * under the grant that names that key, and refuses them altered, moved, malleated or from a signer answering as
 * another key.
 */
import { keccak256, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { remoteDigestSignature } from "../../chains/index.ts"
import { BlockRef, Bytes32, ChainId, makeEnvelope, Producer, WatcherCursor } from "../../schemas/index.ts"
import { useEmbeddedBusPerTest } from "../../test/fixtures/embedded-bus.ts"
import { SECP256K1_N, useFakeWeb3Signers } from "../../test/fixtures/web3signer.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { collect } from "../contract/support.ts"
import { DEAD_LETTER_TOPIC } from "../dead-letter.ts"
import { publishEvents } from "../events/index.ts"
import {
  authenticatedBus,
  checkSignature,
  producerPolicy,
  remoteRecordSigner,
  SIGNATURE_HEADERS,
} from "./index.ts"

const KEY = keccak256(stringToHex("remote watcher"))
const account = privateKeyToAccount(KEY)
const N = SECP256K1_N

const startSigner = useFakeWeb3Signers(account)
const remoteWatcher = async (key = KEY) => {
  const { signer, ref } = await startSigner(key)
  return { signer, recordSigner: remoteRecordSigner(account.publicKey, (p) => remoteDigestSignature(ref, p)) }
}

const policyFor = (publicKey: `0x${string}`) =>
  producerPolicy(
    [{ service: "chain-watcher", instance: null, publicKey, topics: new Set([TOPICS.watcherCursors.name]) }],
    [DEAD_LETTER_TOPIC],
  )

const cursor = (n: number) =>
  makeEnvelope(
    new WatcherCursor({
      chainId: ChainId.make(901),
      block: new BlockRef({ number: n, hash: Bytes32.make(`0x${n.toString(16).padStart(64, "0")}`) }),
    }),
    {
      producer: new Producer({ service: "chain-watcher", instance: "901", version: "0.4.0" }),
      causationId: null,
      time: new Date(1_700_000_000_000 + n),
    },
  )

describe("records signed by a remote signer", () => {
  const bus = useEmbeddedBusPerTest(ALL_TOPICS, "chorus-remote-records-")

  it("given a producer whose key is in a remote signer, when it publishes, then each record names its secp256k1 key and a consumer's policy takes it", async () => {
    const { signer, recordSigner } = await remoteWatcher()
    expect(recordSigner.publicKey).toBe(account.publicKey.toLowerCase())
    await publishEvents(authenticatedBus(bus(), { signer: recordSigner }), [cursor(1), cursor(2)])
    const records = await collect(bus().read({ topic: TOPICS.watcherCursors.name, from: "earliest" }))
    expect(records).toHaveLength(2)
    expect(signer.asked).toHaveLength(2)
    const policy = policyFor(recordSigner.publicKey)
    for (const record of records) {
      expect(record.headers[SIGNATURE_HEADERS.signer]).toBe(account.publicKey.toLowerCase())
      expect(record.headers[SIGNATURE_HEADERS.signature]).toMatch(/^0x[0-9a-f]{128}(1b|1c)$/)
      expect(policy.authenticate(record)).toMatchObject({ ok: true })
    }
  })

  it("given a remotely signed record altered, moved to another topic, malleated to high s, or with another v, then it does not stand", async () => {
    const { recordSigner } = await remoteWatcher()
    await publishEvents(authenticatedBus(bus(), { signer: recordSigner }), [cursor(1)])
    const [record] = await collect(bus().read({ topic: TOPICS.watcherCursors.name, from: "earliest" }))
    const signature = record!.headers[SIGNATURE_HEADERS.signature]!
    const altered = { ...record!, value: new Uint8Array([...record!.value.slice(0, -1), 0x20]) }
    expect(checkSignature(altered)).toMatchObject({ ok: false, reason: "bad-signature" })
    expect(checkSignature({ ...record!, topic: TOPICS.messagesObserved.name })).toMatchObject({
      ok: false,
      reason: "bad-signature",
    })
    const s = BigInt(`0x${signature.slice(66, 130)}`)
    const twin = `${signature.slice(0, 66)}${(N - s).toString(16).padStart(64, "0")}${signature.endsWith("1b") ? "1c" : "1b"}`
    const malleated = { ...record!, headers: { ...record!.headers, [SIGNATURE_HEADERS.signature]: twin } }
    expect(checkSignature(malleated)).toMatchObject({ ok: false, reason: "bad-signature" })
    const otherV = {
      ...record!,
      headers: { ...record!.headers, [SIGNATURE_HEADERS.signature]: `${signature.slice(0, -2)}00` },
    }
    expect(checkSignature(otherV)).toMatchObject({ ok: false, reason: "malformed-signature" })
    const notAKey = {
      ...record!,
      headers: { ...record!.headers, [SIGNATURE_HEADERS.signer]: `0x04${"00".repeat(64)}` },
    }
    expect(checkSignature(notAKey)).toMatchObject({ ok: false })
  })

  it("given a signer answering as another key, when the producer publishes, then it fails naming the signer and nothing is written", async () => {
    const { signer, recordSigner } = await remoteWatcher(keccak256(stringToHex("someone else")))
    await expect(
      publishEvents(authenticatedBus(bus(), { signer: recordSigner }), [cursor(1)]),
    ).rejects.toThrow(new RegExp(`remote signer ${signer.url} for ${account.address}: signed as`))
    expect(await collect(bus().read({ topic: TOPICS.watcherCursors.name, from: "earliest" }))).toEqual([])
  })
})
