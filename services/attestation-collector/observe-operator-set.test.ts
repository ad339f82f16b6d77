/**
 * What the collector reads from a destination chain per input (issue 11,
 * proposal floods): a proposal nobody signed yet asks the chain nothing, so a
 * flood of junk proposals costs no RPC call once the destination's set is known.
 */
import { keccak256, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import type { ChainReader } from "../../chains/index.ts"
import { signCheckpoint } from "../../contracts/index.ts"
import {
  Address,
  AttestationSigned,
  BlockRef,
  Bytes32,
  type ChorusEvent,
  type Envelope,
  Hex,
  makeEnvelope,
  OperatorSetRead,
  OperatorWeight,
  toAddress,
  toU256,
} from "../../schemas/index.ts"
import {
  bytes32,
  proposalOf,
  TEST_DOMAIN,
  TEST_LANE,
  testCheckpoint,
} from "../../test/fixtures/checkpoint.ts"
import type { ChainConfig } from "../config/index.ts"
import { toTypedCheckpoint } from "../operator/sign-checkpoint.ts"
import { producerOf, quietLogger } from "../runtime/index.ts"
import { type CollectorState, makeCollectorCore } from "./core.ts"
import { makeOperatorSetObserver } from "./observe-operator-set.ts"
import { checkpointDigest } from "./verify-signature.ts"

const INBOX = Address.make("0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0")
const SIGNER = privateKeyToAccount(keccak256(stringToHex("observe-operator-set")))
const T0 = new Date("2026-01-01T00:00:00.000Z")
const collector = producerOf("attestation-collector", "attestation-collector")

/** Destination 902's Inbox at epoch 1 with one operator, counting what is asked of it. */
const destination = () => {
  const calls = { epoch: 0, operatorSet: 0 }
  const block = new BlockRef({ number: 100, hash: bytes32("0e") })
  const inbox = {
    epoch: async () => {
      calls.epoch++
      return { block, epoch: 1 }
    },
    operatorSet: async () => {
      calls.operatorSet++
      return {
        epoch: 1,
        operators: [new OperatorWeight({ address: toAddress(SIGNER.address), weight: toU256(1n) })],
        thresholdBps: 6667,
      }
    },
  }
  const reader = { chainId: 902, inbox: () => inbox } as unknown as ChainReader
  return { reader, calls }
}

const observerOf = (reader: ChainReader, clock?: { now: number; epochCheckEveryMs: number }) =>
  makeOperatorSetObserver({
    ...(clock === undefined ? {} : { now: () => clock.now, epochCheckEveryMs: clock.epochCheckEveryMs }),
    chains: [{ chainId: 902, inbox: INBOX }] as unknown as ReadonlyArray<ChainConfig>,
    readerFor: () => reader,
    domain: TEST_DOMAIN,
    logger: quietLogger({ write: () => true }),
    rpcFaults: { unreachableAfterMs: 60_000, logEveryMs: 60_000 },
    record: async () => {},
    signal: new AbortController().signal,
  })

const junk = (i: number) =>
  proposalOf(
    testCheckpoint({ root: Bytes32.make(keccak256(stringToHex(`junk ${i}`))) }),
    new BlockRef({ number: 50, hash: bytes32("50") }),
    T0,
  )

/** A collector state that knows destination 902's set (as read for `input`), after `inputs`. */
const stateAfter = (inputs: ReadonlyArray<Envelope>): CollectorState => {
  const core = makeCollectorCore({ domain: TEST_DOMAIN, proposalTtlMs: 60_000 })
  const state = core.initial
  inputs.forEach((input, i) => {
    const reads =
      i === 0
        ? [
            makeEnvelope(
              new OperatorSetRead({
                lane: TEST_LANE,
                inbox: INBOX,
                epoch: 1,
                block: new BlockRef({ number: 100, hash: bytes32("0e") }),
                operators: [new OperatorWeight({ address: toAddress(SIGNER.address), weight: toU256(1n) })],
                thresholdBps: 6667,
              }),
              { producer: collector, causationId: input.id, time: T0 },
            ),
          ]
        : []
    core.decide(state, input, reads)
  })
  return state
}

const signedBy = async (checkpoint = testCheckpoint(), epoch = 1) =>
  makeEnvelope(
    new AttestationSigned({
      checkpoint,
      epoch,
      digest: checkpointDigest(TEST_DOMAIN, checkpoint, epoch),
      operator: toAddress(SIGNER.address),
      signature: Hex.make(
        (
          await signCheckpoint({
            account: SIGNER,
            domain: TEST_DOMAIN,
            checkpoint: toTypedCheckpoint(checkpoint, epoch),
          })
        ).toLowerCase(),
      ),
    }),
    { producer: producerOf("operator", SIGNER.address), causationId: null, time: T0 },
  )

const tagsOf = (events: ReadonlyArray<ChorusEvent>) => events.map((e) => e._tag)

describe("the collector's reads of a destination's operator set", () => {
  it("given a collector that knows destination 902's set, when 1,000 junk proposals arrive, then none of them reads the destination chain", async () => {
    // given
    const { reader, calls } = destination()
    const observe = observerOf(reader)
    const state = stateAfter([junk(-1)])
    // when
    for (let i = 0; i < 1_000; i++) expect(await observe(state, junk(i))).toEqual([])
    // then
    expect(calls).toEqual({ epoch: 0, operatorSet: 0 })
  })

  it("given signatures already held for a checkpoint, when its proposal arrives, then it checks the Inbox's epoch once (the held signatures count against the set it holds now)", async () => {
    // given a signature that arrived before its proposal
    const { reader, calls } = destination()
    const state = stateAfter([junk(-1), await signedBy()])
    // when
    const proposal = proposalOf(testCheckpoint(), new BlockRef({ number: 50, hash: bytes32("50") }), T0)
    const reads = await observerOf(reader)(state, proposal)
    // then: the epoch is unchanged, so nothing is recorded
    expect(reads).toEqual([])
    expect(calls).toEqual({ epoch: 1, operatorSet: 0 })
  })

  it("given no set known yet for the destination, when a proposal arrives, then it reads the set", async () => {
    const { reader, calls } = destination()
    const reads = await observerOf(reader)(
      makeCollectorCore({ domain: TEST_DOMAIN, proposalTtlMs: 1 }).initial,
      junk(0),
    )
    expect(tagsOf(reads)).toEqual(["OperatorSetRead"])
    expect(calls).toEqual({ epoch: 1, operatorSet: 1 })
  })

  it("given a known set, when a signature arrives, then it checks the epoch (a signature is what may need a new set)", async () => {
    const { reader, calls } = destination()
    const state = stateAfter([junk(-1)])
    expect(await observerOf(reader)(state, await signedBy())).toEqual([])
    expect(calls).toEqual({ epoch: 1, operatorSet: 0 })
  })

  it("given the epoch checked a moment ago, when 100 signatures arrive within epochCheckEveryMs, then the Inbox is asked once (a checkpoint's signatures cost no read each)", async () => {
    // given
    const { reader, calls } = destination()
    const clock = { now: 1_000_000, epochCheckEveryMs: 2_000 }
    const observe = observerOf(reader, clock)
    const state = stateAfter([junk(-1)])
    const signature = await signedBy()
    // when
    for (let i = 0; i < 100; i++) {
      expect(await observe(state, signature)).toEqual([])
      clock.now += 10
    }
    // then
    expect(calls).toEqual({ epoch: 1, operatorSet: 0 })
  })

  it("given the last check older than epochCheckEveryMs, when a signature arrives, then the epoch is checked again", async () => {
    // given
    const { reader, calls } = destination()
    const clock = { now: 1_000_000, epochCheckEveryMs: 2_000 }
    const observe = observerOf(reader, clock)
    const state = stateAfter([junk(-1)])
    const signature = await signedBy()
    await observe(state, signature)
    // when
    clock.now += 2_000
    await observe(state, signature)
    // then
    expect(calls).toEqual({ epoch: 2, operatorSet: 0 })
  })

  it("given a check whose epoch differs from the set the state holds, when a signature arrives within the window, then the set is read (a fresh check never hides a new epoch)", async () => {
    // given: the state holds no set for 902 yet, so the first check's epoch is not the state's
    const { reader, calls } = destination()
    const clock = { now: 1_000_000, epochCheckEveryMs: 60_000 }
    const observe = observerOf(reader, clock)
    const empty = makeCollectorCore({ domain: TEST_DOMAIN, proposalTtlMs: 1 }).initial
    // when
    const first = await observe(empty, await signedBy())
    const second = await observe(empty, await signedBy())
    // then: both read the set, since the state never folded the first read
    expect(tagsOf(first)).toEqual(["OperatorSetRead"])
    expect(tagsOf(second)).toEqual(["OperatorSetRead"])
    expect(calls).toEqual({ epoch: 2, operatorSet: 2 })
  })
})
