import { describe, expect, it } from "vitest"
import {
  ChainId,
  type Envelope,
  makeEnvelope,
  OperatorSetApplied,
  OperatorSetAttested,
  OperatorSetSubmitted,
  OperatorSetUpdateFailed,
  OperatorWeight,
  Signature,
  TxHash,
  toAddress,
  U256,
} from "../../../schemas/index.ts"
import { bytes32 } from "../../../test/fixtures/checkpoint.ts"
import { foldCore, producerOf } from "../../runtime/index.ts"
import { malformedUpdate } from "../service/set-update.ts"
import { makeSubmitterCore } from "./fold.ts"
import { setUpdateDue } from "./state.ts"

const DST = 902
const T0 = new Date("2026-01-01T00:00:00.000Z")
const collector = producerOf("attestation-collector", "attestation-collector")
const me = producerOf("submitter", String(DST))
const address = (byte: string) => toAddress(`0x${byte.repeat(20)}`)
const tx = (byte: string) => TxHash.make(bytes32(byte))

const attested = (epoch: number, fromEpoch = 1, producer = collector, destination = DST): Envelope =>
  makeEnvelope(
    new OperatorSetAttested({
      chainId: ChainId.make(901),
      registry: address("aa"),
      destination: ChainId.make(destination),
      inbox: address("bb"),
      fromEpoch,
      epoch,
      operators: [new OperatorWeight({ address: address("11"), weight: U256.make("1") })],
      thresholdBps: 5_000,
      digest: bytes32((epoch % 256).toString(16).padStart(2, "0")),
      signatures: [
        new Signature({
          signer: address("11"),
          signature: `0x${"ab".repeat(64)}1b` as Signature["signature"],
        }),
      ],
      signedStake: U256.make("1"),
      totalStake: U256.make("1"),
    }),
    { producer, causationId: null, time: T0 },
  )

const own = (event: OperatorSetSubmitted | OperatorSetApplied | OperatorSetUpdateFailed, cause: Envelope) =>
  makeEnvelope(event, { producer: me, causationId: cause.id, time: T0 })

const stateAfter = (inputs: ReadonlyArray<Envelope>) =>
  foldCore(
    makeSubmitterCore(DST),
    me,
    inputs.map((input) => ({ input, reads: [] })),
  ).state

describe("the submitter's operator-set updates, as its log folds them", () => {
  it("takes only the collector's attestations for its own destination, and sends the highest past the Inbox", () => {
    const two = attested(2)
    const state = stateAfter([
      two,
      attested(3, 1, producerOf("operator", "x")),
      attested(9, 1, collector, 903),
    ])
    expect(setUpdateDue(state, 1)?.update.epoch).toBe(2)
    // settled by the chain: nothing is due once the Inbox shows the epoch, whatever was recorded
    expect(setUpdateDue(state, 2)).toBeNull()
  })

  it("holds nothing new while one is in the air, and is due again after a transaction that did not apply", () => {
    const two = attested(2)
    const sent = new OperatorSetSubmitted({
      destination: ChainId.make(DST),
      epoch: 2,
      transactionHash: tx("01"),
      nonce: 7,
      gasLimit: U256.make("200000"),
      maxFeePerGas: U256.make("1"),
    })
    const inTheAir = stateAfter([two, own(sent, two)])
    expect(setUpdateDue(inTheAir, 1)).toBeNull()
    const reverted = new OperatorSetUpdateFailed({
      destination: ChainId.make(DST),
      epoch: 2,
      transactionHash: tx("01"),
      reason: "reverted",
    })
    expect(setUpdateDue(stateAfter([two, own(sent, two), own(reverted, two)]), 1)?.update.epoch).toBe(2)
    const applied = new OperatorSetApplied({
      destination: ChainId.make(DST),
      epoch: 2,
      transactionHash: tx("01"),
      blockNumber: 40,
      gasUsed: U256.make("120000"),
    })
    expect(stateAfter([two, own(sent, two), own(applied, two)]).setUpdate.submitted).toBeNull()
  })

  it("never sends again an attestation the Inbox refused before sending, but takes a new one from another epoch", () => {
    const bogus = attested(2 ** 40)
    const refused = new OperatorSetUpdateFailed({
      destination: ChainId.make(DST),
      epoch: 2 ** 40,
      transactionHash: null,
      reason: "the Inbox refuses it: InsufficientStake",
    })
    const genuine = attested(3, 2)
    const state = stateAfter([bogus, own(refused, bogus), genuine])
    // a refused high epoch does not shadow the genuine update
    expect(setUpdateDue(state, 2)?.update.epoch).toBe(3)
  })

  it("finds a malformed update before it reaches the chain", () => {
    const good = attested(2).event as OperatorSetAttested
    expect(malformedUpdate(good)).toBeUndefined()
    const short = new OperatorSetAttested({
      ...good,
      signatures: [
        new Signature({ signer: address("11"), signature: `0x${"ab".repeat(64)}` as Signature["signature"] }),
      ],
    })
    expect(malformedUpdate(short)).toContain("64 bytes")
    expect(malformedUpdate(new OperatorSetAttested({ ...good, thresholdBps: 70_000 }))).toContain("threshold")
    const unordered = new OperatorSetAttested({
      ...good,
      operators: [
        new OperatorWeight({ address: address("22"), weight: U256.make("1") }),
        new OperatorWeight({ address: address("11"), weight: U256.make("1") }),
      ],
    })
    expect(malformedUpdate(unordered)).toContain("not ascending")
    expect(malformedUpdate(new OperatorSetAttested({ ...good, operators: [] }))).toContain("0 operators")
  })
})
