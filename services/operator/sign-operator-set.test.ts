import { type Hex, keccak256, recoverAddress, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { hashOperatorSetUpdate } from "../../contracts/index.ts"
import {
  BlockRef,
  ChainId,
  type Envelope,
  makeEnvelope,
  OperatorSetObserved,
  OperatorSetRefused,
  OperatorSetSigned,
  OperatorWeight,
  RegistrySetRead,
  toAddress,
  U256,
} from "../../schemas/index.ts"
import { bytes32, TEST_DOMAIN } from "../../test/fixtures/checkpoint.ts"
import { foldCore, producerOf } from "../runtime/index.ts"
import { makeOperatorCore } from "./core.ts"

const KEY = keccak256(stringToHex("operator-set-signing-test"))
const ME = toAddress(privateKeyToAccount(KEY).address)
const HUB = { chainId: ChainId.make(TEST_DOMAIN.chainId), registry: toAddress(TEST_DOMAIN.verifyingContract) }
const watcher = producerOf("set-watcher", String(HUB.chainId))
const me = producerOf("operator", privateKeyToAccount(KEY).address)
const T0 = new Date("2026-01-01T00:00:00.000Z")

const weights = (...pairs: Array<[string, number]>) =>
  pairs.map(
    ([byte, weight]) =>
      new OperatorWeight({ address: toAddress(`0x${byte.repeat(20)}`), weight: U256.make(String(weight)) }),
  )
const SET_2 = { epoch: 2, operators: weights(["11", 1], ["22", 1], ["33", 2]), thresholdBps: 6_667 }
const SET_3 = { epoch: 3, operators: weights(["11", 1], ["33", 2]), thresholdBps: 5_000 }

type Set = typeof SET_2

const observe = (set: Set, at = 50, hub = HUB): Envelope =>
  makeEnvelope(
    new OperatorSetObserved({ ...hub, block: new BlockRef({ number: at, hash: bytes32("b0") }), ...set }),
    { producer: watcher, causationId: null, time: T0 },
  )

/** The operator's own read of the registry, made for `input`: the set its hub RPC shows at its finalized head. */
const readOf = (input: Envelope, set: Set, reader = ME): Envelope =>
  makeEnvelope(
    new RegistrySetRead({ reader, ...HUB, block: new BlockRef({ number: 60, hash: bytes32("c0") }), ...set }),
    { producer: me, causationId: input.id, time: T0 },
  )

const core = makeOperatorCore({ privateKey: KEY, domain: TEST_DOMAIN, chains: [], maxBlocksAhead: 64 })
const run = (steps: ReadonlyArray<{ input: Envelope; reads: ReadonlyArray<Envelope> }>) =>
  foldCore(core, me, steps).outputs.map((o) => o.event)

const refusal = (event: unknown) => {
  expect(event).toBeInstanceOf(OperatorSetRefused)
  return event as OperatorSetRefused
}

describe("an operator signing an operator-set update", () => {
  it("signs the set its own hub RPC shows at a final block, with the digest the Inbox checks", async () => {
    // Given the set-watcher's record of epoch 2, and the operator's own read showing that very set
    const input = observe(SET_2)
    // When it decides
    const [event] = run([{ input, reads: [readOf(input, SET_2)] }])
    // Then it signs the EIP-712 OperatorSetUpdate of that set, and the signature recovers to it
    expect(event).toBeInstanceOf(OperatorSetSigned)
    const signed = event as OperatorSetSigned
    const digest = hashOperatorSetUpdate({
      domain: TEST_DOMAIN,
      update: {
        epoch: 2n,
        operators: SET_2.operators.map((o) => o.address as Hex),
        weights: SET_2.operators.map((o) => BigInt(o.weight)),
        thresholdBps: SET_2.thresholdBps,
      },
    })
    expect(signed.digest).toBe(digest.toLowerCase())
    expect(signed.operator).toBe(ME)
    expect(toAddress(await recoverAddress({ hash: digest, signature: signed.signature as Hex }))).toBe(ME)
  })

  it("refuses a record whose set its own RPC does not show, naming both", () => {
    // Given a record claiming a set the registry does not hold at that epoch (a forged or lying record)
    const forged = { ...SET_2, operators: weights(["11", 1], ["22", 1], ["44", 9]) }
    const input = observe(forged)
    // When the operator's own read shows the real set
    const [event] = run([{ input, reads: [readOf(input, SET_2)] }])
    // Then it refuses, and says what each showed
    const refused = refusal(event)
    expect(refused.reason).toBe("set-mismatch")
    expect(refused.detail).toContain(`0x${"44".repeat(20)}=9`)
    expect(refused.detail).toContain(`0x${"33".repeat(20)}=2`)
  })

  it("refuses an epoch its own RPC has not finalized, and one it has already moved past", () => {
    const early = observe(SET_3)
    const late = observe(SET_2)
    expect(refusal(run([{ input: early, reads: [readOf(early, SET_2)] }])[0]).reason).toBe("not-final")
    expect(refusal(run([{ input: late, reads: [readOf(late, SET_3)] }])[0]).reason).toBe("superseded")
  })

  it("never signs an older set after a newer one, nor two sets for one epoch", () => {
    const three = observe(SET_3)
    // A stale record of epoch 2 arriving later, with a read (say, from a lagging RPC) that shows epoch 2
    const two = observe(SET_2, 40)
    const otherThree = { ...SET_3, thresholdBps: 9_000 }
    const conflicting = observe(otherThree, 70)
    const [first, second, third] = run([
      { input: three, reads: [readOf(three, SET_3)] },
      { input: two, reads: [readOf(two, SET_2)] },
      { input: conflicting, reads: [readOf(conflicting, otherThree)] },
    ])
    expect(first).toBeInstanceOf(OperatorSetSigned)
    expect(refusal(second).reason).toBe("superseded")
    expect(refusal(third).reason).toBe("conflicting-signature")
  })

  it("signs the same set observed again with the same signature", () => {
    const once = observe(SET_2)
    const again = observe(SET_2, 55)
    const [a, b] = run([
      { input: once, reads: [readOf(once, SET_2)] },
      { input: again, reads: [readOf(again, SET_2)] },
    ])
    expect((a as OperatorSetSigned).signature).toBe((b as OperatorSetSigned).signature)
  })

  it("refuses without its own read, or with another's, and for another network's registry", () => {
    const input = observe(SET_2)
    const someoneElse = toAddress(`0x${"99".repeat(20)}`)
    expect(refusal(run([{ input, reads: [] }])[0]).reason).toBe("rpc-invalid")
    expect(refusal(run([{ input, reads: [readOf(input, SET_2, someoneElse)] }])[0]).reason).toBe(
      "rpc-invalid",
    )
    const foreign = observe(SET_2, 50, { ...HUB, registry: toAddress(`0x${"77".repeat(20)}`) })
    expect(refusal(run([{ input: foreign, reads: [readOf(foreign, SET_2)] }])[0]).reason).toBe(
      "wrong-registry",
    )
  })
})
