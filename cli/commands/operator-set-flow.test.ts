import { describe, expect, it } from "vitest"
import {
  BlockRef,
  ChainId,
  type ChorusEvent,
  makeEnvelope,
  OperatorSetApplied,
  OperatorSetObserved,
  OperatorSetRefused,
  OperatorSetSigned,
  type Producer,
  TxHash,
  toAddress,
  U256,
} from "../../schemas/index.ts"
import { producerOf } from "../../services/runtime/index.ts"
import { bytes32 } from "../../test/fixtures/checkpoint.ts"
import { describeEpochFlow, operatorSetFlow } from "./operator-set-flow.ts"

const T0 = new Date("2026-01-01T00:00:00.000Z")
const HUB = ChainId.make(901)
const REGISTRY = toAddress(`0x${"aa".repeat(20)}`)
const OPERATOR = toAddress(`0x${"11".repeat(20)}`)
const envelope = (event: ChorusEvent, producer: Producer) =>
  makeEnvelope(event, { producer, causationId: null, time: T0 })
const set = { epoch: 3, operators: [], thresholdBps: 5_000 }
const observed = (at: number) =>
  new OperatorSetObserved({
    chainId: HUB,
    registry: REGISTRY,
    block: new BlockRef({ number: at, hash: bytes32("0a") }),
    ...set,
  })

describe("the operator-set updates as the log tells them", () => {
  it("tells each epoch's steps, counting only what each step's own producer wrote", () => {
    const watcher = producerOf("set-watcher", "901")
    const { epochs, ignored } = operatorSetFlow([
      envelope(observed(40), watcher),
      envelope(observed(55), watcher),
      // an operator's record under another operator's name, and a hub record from an operator: not counted
      envelope(observed(41), producerOf("operator", OPERATOR)),
      envelope(
        new OperatorSetSigned({
          chainId: HUB,
          registry: REGISTRY,
          ...set,
          digest: bytes32("d1"),
          operator: OPERATOR,
          signature: `0x${"ab".repeat(65)}` as OperatorSetSigned["signature"],
        }),
        producerOf("operator", OPERATOR),
      ),
      envelope(
        new OperatorSetRefused({
          chainId: HUB,
          registry: REGISTRY,
          epoch: 3,
          operator: toAddress(`0x${"22".repeat(20)}`),
          reason: "not-final",
          detail: "its own hub RPC shows epoch 2",
        }),
        producerOf("operator", OPERATOR),
      ),
      envelope(
        new OperatorSetApplied({
          destination: ChainId.make(902),
          epoch: 3,
          transactionHash: TxHash.make(bytes32("7a")),
          blockNumber: 77,
          gasUsed: U256.make("111059"),
        }),
        producerOf("submitter", "902"),
      ),
      envelope(
        new OperatorSetApplied({
          destination: ChainId.make(903),
          epoch: 3,
          transactionHash: TxHash.make(bytes32("7b")),
          blockNumber: 78,
          gasUsed: U256.make("1"),
        }),
        producerOf("submitter", "902"),
      ),
    ])
    expect(ignored).toBe(3)
    expect(epochs).toHaveLength(1)
    const [three] = epochs
    expect(three!.observedAt).toEqual([40, 55])
    expect(three!.signedBy).toEqual([OPERATOR])
    expect(three!.refusedBy).toEqual([])
    expect(three!.destinations.map((d) => [d.destination, d.applied?.block])).toEqual([[902, 77]])
    const text = describeEpochFlow(three!).join("\n")
    expect(text).toContain("recorded at hub block 40 (announced 2 times: an Inbox lagged it)")
    expect(text).toContain("Inbox on 902: not attested; applied at block 77")
  })
})
