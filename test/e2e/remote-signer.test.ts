/**
 * Keys that stay in remote signers (Web3Signer's API) end to end (issue 15):
 * the devnet's chains and services on the embedded bus, but every operator
 * runs with `privateKey: { web3signer, publicKey }` and a `busKey` of its
 * own, and the proof-builder's bus key is in a signer too (a secp256k1 key:
 * Web3Signer signs no Ed25519), so every record it writes is signed there.
 * Each signer is a stand-in holding its key.
 *
 * Every operator's key must stay out of its process, and the Inboxes must
 * still take what they sign: judged from the chains (every message delivered
 * exactly once, which needs commits signed by more than two thirds of the
 * stake). The smallest operator's signer answers with another key's
 * signatures at first: its operator must publish nothing (no signature that
 * recovers to a stranger reaches the collector), and once the signer is fixed,
 * sign what it held, losing nothing.
 */
import { readFileSync } from "node:fs"
import { type Hex, keccak256, recoverAddress, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { deriveSigningKey } from "../../bus/authentication/index.ts"
import { collect } from "../../bus/contract/support.ts"
import { readEvents } from "../../bus/events/index.ts"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import type { AttestationSigned, SignatureVerdict } from "../../schemas/index.ts"
import { decodeConfig } from "../../services/config/index.ts"
import { SERVICE_DEFINITIONS, startServices } from "../../services/registry.ts"
import { quietLogger, type RunningService } from "../../services/runtime/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { fakeWeb3Signer } from "../fixtures/web3signer.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

const MESSAGES = 12
const PROOF_BUILDER_KEY = keccak256(stringToHex("proof-builder in a remote signer"))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("operators and a bus producer signing through remote signers", () => {
  let devnet: Devnet
  let keys: Hex[]
  let proofBuilderSigner: Awaited<ReturnType<typeof fakeWeb3Signer>>
  const signers: Array<Awaited<ReturnType<typeof fakeWeb3Signer>>> = []
  const running: RunningService[] = []

  beforeAll(async () => {
    devnet = await startDevnet({ bus: { kind: "embedded" }, logger: quietLogger(), runServices: false })
    const json = JSON.parse(readFileSync(devnet.configPath, "utf8")) as {
      operators: Array<{ privateKey: Hex }>
      bus: { authentication: { producers: Array<{ service: string; privateKey?: unknown }> } }
    }
    keys = json.operators.map((o) => o.privateKey)
    for (const key of keys) signers.push(await fakeWeb3Signer(key))
    proofBuilderSigner = await fakeWeb3Signer(PROOF_BUILDER_KEY)
    // The smallest operator's signer holds a stranger's key at first.
    signers[3]!.useKey(`0x${"42".repeat(32)}`)
    const remote = decodeConfig(
      {
        ...json,
        operators: json.operators.map((operator, i) => ({
          ...operator,
          privateKey: { web3signer: signers[i]!.url, publicKey: privateKeyToAccount(keys[i]!).publicKey },
          // The bus identity the rest of the devnet knows each operator by.
          busKey: deriveSigningKey(keys[i]!),
        })),
        bus: {
          ...json.bus,
          authentication: {
            ...json.bus.authentication,
            producers: json.bus.authentication.producers.map((producer) =>
              producer.service === "proof-builder"
                ? {
                    service: "proof-builder",
                    privateKey: {
                      web3signer: proofBuilderSigner.url,
                      publicKey: privateKeyToAccount(PROOF_BUILDER_KEY).publicKey,
                    },
                  }
                : producer,
            ),
          },
        },
      },
      `${devnet.configPath} (operators' keys in remote signers)`,
    )
    // Every service holds every producer to the same config: the proof-builder's grant names the signer's key.
    const logger = quietLogger()
    for (const definition of SERVICE_DEFINITIONS.filter((d) => d.writes.length > 0)) {
      running.push(
        ...(await startServices({ bus: devnet.bus, config: remote, logger, service: definition.name })),
      )
    }
  }, 180_000)

  afterAll(async () => {
    await Promise.allSettled(running.map((service) => service.stop()))
    await Promise.allSettled([...signers, proofBuilderSigner].map((signer) => signer?.close()))
    await devnet?.stop()
  }, 60_000)

  const attestations = async () => {
    const out: AttestationSigned[] = []
    for await (const item of readEvents(devnet.bus, {
      topic: TOPICS.attestationsSigned.name,
      from: "earliest",
    })) {
      if (item.ok && item.envelope.event._tag === "AttestationSigned") out.push(item.envelope.event)
    }
    return out
  }

  it("delivers every message on signatures made by the signers, and an operator whose signer signs as another key publishes nothing until it is fixed", async () => {
    const sent = await devnet.send({ messages: MESSAGES, rate: 6 })
    await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 180_000 })

    const addresses = keys.map((key) => privateKeyToAccount(key).address.toLowerCase())
    const signed = await attestations()
    for (const [i, signer] of signers.entries()) {
      expect(signer.asked.length, `operator ${i}'s signer was never asked`).toBeGreaterThan(0)
      // What the signer was asked for is an EIP-712 preimage, never a digest or a transaction.
      expect(signer.asked.every((a) => a.data.startsWith("0x1901"))).toBe(true)
    }
    for (const attestation of signed) {
      const recovered = await recoverAddress({
        hash: attestation.digest as Hex,
        signature: attestation.signature as Hex,
      })
      expect(recovered.toLowerCase()).toBe(attestation.operator)
    }
    // Every proof the proof-builder wrote was signed by its signer, under its secp256k1 key.
    const proven = await collect(devnet.bus.read({ topic: TOPICS.messagesProven.name, from: "earliest" }))
    expect(proven.length).toBeGreaterThanOrEqual(MESSAGES)
    for (const record of proven) {
      expect(record.headers["chorus-signer"]).toBe(
        privateKeyToAccount(PROOF_BUILDER_KEY).publicKey.toLowerCase(),
      )
    }
    expect(proofBuilderSigner.asked.length).toBeGreaterThanOrEqual(proven.length)
    const by = (i: number) => signed.filter((a) => a.operator === addresses[i])
    expect(by(0).length).toBeGreaterThan(0)
    expect(by(3), "the operator with the hostile signer published a signature").toHaveLength(0)
    const verdicts: SignatureVerdict[] = []
    for await (const item of readEvents(devnet.bus, {
      topic: TOPICS.attestationVerdicts.name,
      from: "earliest",
    })) {
      if (item.ok && item.envelope.event._tag === "SignatureVerdict") verdicts.push(item.envelope.event)
    }
    expect(verdicts.filter((v) => v.result === "invalid")).toEqual([])

    // Fixed, the signer signs what its operator held: the latest checkpoint of every lane the others signed.
    signers[3]!.useKey(keys[3]!)
    const latest = new Map<string, number>()
    for (const a of by(0)) {
      const lane = `${a.checkpoint.srcChainId}->${a.checkpoint.dstChainId}`
      latest.set(lane, Math.max(latest.get(lane) ?? 0, a.checkpoint.count))
    }
    const deadline = Date.now() + 120_000
    let caught: AttestationSigned[] = []
    for (;;) {
      caught = (await attestations()).filter((a) => a.operator === addresses[3])
      const done = [...latest].every(([lane, count]) =>
        caught.some(
          (a) =>
            `${a.checkpoint.srcChainId}->${a.checkpoint.dstChainId}` === lane && a.checkpoint.count >= count,
        ),
      )
      if (done || Date.now() > deadline) break
      await sleep(1_000)
    }
    for (const [lane, count] of latest) {
      expect(
        caught.some(
          (a) =>
            `${a.checkpoint.srcChainId}->${a.checkpoint.dstChainId}` === lane && a.checkpoint.count >= count,
        ),
        `operator 3 signed nothing of ${lane} up to ${count} once its signer was fixed`,
      ).toBe(true)
    }
    for (const attestation of caught) {
      const recovered = await recoverAddress({
        hash: attestation.digest as Hex,
        signature: attestation.signature as Hex,
      })
      expect(recovered.toLowerCase()).toBe(addresses[3])
    }
  }, 400_000)
})
