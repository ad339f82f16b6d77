import { keccak256, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import {
  BlockRef,
  ChainId,
  type Envelope,
  InboxSetRead,
  makeEnvelope,
  OperatorSetAttested,
  OperatorSetObserved,
  OperatorSetSigned,
  OperatorWeight,
  toAddress,
  U256,
} from "../../schemas/index.ts"
import { bytes32, TEST_DOMAIN } from "../../test/fixtures/checkpoint.ts"
import { signDigest } from "../operator/sign-checkpoint.ts"
import { operatorSetDigest } from "../operator/sign-operator-set.ts"
import { foldCore, producerOf } from "../runtime/index.ts"
import { makeCollectorCore } from "./core.ts"
import { recoverSigner } from "./verify-signature.ts"

const keyOf = (name: string) => keccak256(stringToHex(`set-updates-test ${name}`))
const KEYS = { a: keyOf("a"), b: keyOf("b"), c: keyOf("c"), d: keyOf("d"), stranger: keyOf("stranger") }
const addressOf = (key: `0x${string}`) => toAddress(privateKeyToAccount(key).address)
const HUB = ChainId.make(TEST_DOMAIN.chainId)
const REGISTRY = toAddress(TEST_DOMAIN.verifyingContract)
const T0 = new Date("2026-01-01T00:00:00.000Z")
const collector = producerOf("attestation-collector", "attestation-collector")

const membersOf = (...keys: Array<`0x${string}`>) =>
  keys
    .map((key) => new OperatorWeight({ address: addressOf(key), weight: U256.make("1") }))
    .sort((x, y) => (x.address < y.address ? -1 : 1))

/** The hub registry's set at epoch 2: a, b and d; c removed. */
const UPDATE = { epoch: 2, operators: membersOf(KEYS.a, KEYS.b, KEYS.d), thresholdBps: 5_000 }

const signedBy = (
  key: `0x${string}`,
  update: typeof UPDATE = UPDATE,
  digest = operatorSetDigest(TEST_DOMAIN, update),
) =>
  makeEnvelope(
    new OperatorSetSigned({
      chainId: HUB,
      registry: REGISTRY,
      ...update,
      digest,
      operator: addressOf(key),
      signature: signDigest(key, operatorSetDigest(TEST_DOMAIN, update)),
    }),
    { producer: producerOf("operator", privateKeyToAccount(key).address), causationId: null, time: T0 },
  )

/** Destination 11 trusts a, b, c at epoch 1 (two of three needed); 12 is at epoch 2 already; 13 trusts a and c. */
const inboxReads = (input: Envelope) =>
  [
    { destination: 11, epoch: 1, operators: membersOf(KEYS.a, KEYS.b, KEYS.c) },
    { destination: 12, epoch: 2, operators: UPDATE.operators },
    { destination: 13, epoch: 1, operators: membersOf(KEYS.a, KEYS.c) },
  ].map((inbox) =>
    makeEnvelope(
      new InboxSetRead({
        chainId: HUB,
        destination: ChainId.make(inbox.destination),
        inbox: toAddress(`0x${String(inbox.destination).repeat(20)}`),
        epoch: inbox.epoch,
        block: new BlockRef({ number: 7, hash: bytes32("07") }),
        operators: inbox.operators,
        thresholdBps: 5_000,
      }),
      { producer: collector, causationId: input.id, time: T0 },
    ),
  )

/** The set-watcher's record of the hub's set (by default the real update). */
const observed = (update: typeof UPDATE = UPDATE, producer = producerOf("set-watcher", String(HUB))) =>
  makeEnvelope(
    new OperatorSetObserved({
      chainId: HUB,
      registry: REGISTRY,
      block: new BlockRef({ number: 5, hash: bytes32("05") }),
      ...update,
    }),
    { producer, causationId: null, time: T0 },
  )

/** The collector fed the hub's record first (unless `from` says otherwise), the Inbox reads with the first signature. */
const run = (inputs: ReadonlyArray<Envelope>, from: ReadonlyArray<Envelope> = [observed()]) => {
  const core = makeCollectorCore({ domain: TEST_DOMAIN, proposalTtlMs: 60_000 })
  const steps = [...from, ...inputs].map((input, i) => ({
    input,
    reads: i === from.length ? inboxReads(input) : [],
  }))
  return foldCore(core, collector, steps).outputs.map((o) => o.event as OperatorSetAttested)
}

describe("the collector gathering an operator-set update per destination", () => {
  it("attests each destination once its own set's members meet its threshold, signatures ascending", () => {
    // Given a's signature, then b's (c, removed by the update, never signs)
    const outputs = run([signedBy(KEYS.a), signedBy(KEYS.b), signedBy(KEYS.d)])
    // Then 13 (a is half of a and c) is attested on a's signature, 11 on b's (two of a, b, c); 12 is not behind
    expect(outputs.map((o) => [o.destination, o.fromEpoch, o.epoch])).toEqual([
      [13, 1, 2],
      [11, 1, 2],
    ])
    const eleven = outputs[1]!
    expect(eleven).toBeInstanceOf(OperatorSetAttested)
    expect(eleven.signatures.map((s) => s.signer)).toEqual([addressOf(KEYS.a), addressOf(KEYS.b)].sort())
    expect(eleven.signedStake).toBe("2")
    expect(eleven.totalStake).toBe("3")
    for (const s of eleven.signatures) {
      const recovered = recoverSigner(eleven.digest, s.signature)
      expect(recovered.ok && recovered.signer).toBe(s.signer)
    }
  })

  it("counts no signature over another digest, of another set, or by a stranger", () => {
    const forgedDigest = signedBy(KEYS.b, UPDATE, bytes32("66"))
    const outputs = run([signedBy(KEYS.stranger), forgedDigest, signedBy(KEYS.c)])
    // c alone is a member of 13 (half its stake): 13 is attested; 11 needs two of a, b, c and has only c
    expect(outputs.map((o) => o.destination)).toEqual([13])
    expect(outputs[0]!.signatures.map((s) => s.signer)).toEqual([addressOf(KEYS.c)])
  })

  it("is not stopped by a member signing a bogus later set, and never carries a set the hub did not show", () => {
    const bogus = { ...UPDATE, epoch: 9, operators: membersOf(KEYS.c) }
    const outputs = run([signedBy(KEYS.c, bogus), signedBy(KEYS.a), signedBy(KEYS.b)])
    // c's bogus epoch 9 alone would meet 13's threshold on chain, but the hub never showed it: only epoch 2 goes
    expect(outputs.map((o) => [o.destination, o.epoch])).toEqual([
      [13, 2],
      [11, 2],
    ])
  })

  it("attests only once the set-watcher's record of the set is in, whichever comes first", () => {
    // signatures first: nothing (no hub record yet), then the record completes both destinations at once
    const late = run([signedBy(KEYS.a), signedBy(KEYS.b), observed()], [])
    expect(late.map((o) => o.destination)).toEqual([11, 13])
    // a record of the set from anyone but the set-watcher is not the hub's word
    const forged = run([signedBy(KEYS.a), signedBy(KEYS.b)], [observed(UPDATE, producerOf("operator", "x"))])
    expect(forged).toEqual([])
  })

  it("attests an update once per destination, however many signatures follow", () => {
    const outputs = run([signedBy(KEYS.a), signedBy(KEYS.b), signedBy(KEYS.b), signedBy(KEYS.d)])
    expect(outputs.map((o) => o.destination).sort()).toEqual([11, 13])
  })
})
