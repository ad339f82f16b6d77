import { describe, expect, it } from "vitest"
import {
  Address,
  BlockRef,
  Bytes32,
  DestinationRead,
  type DestinationStep,
  EventId,
  Hex,
  makeEnvelope,
  Producer,
  TxHash,
  U256,
} from "../../../schemas/index.ts"
import { DST, submitterCoreFixture } from "../../../test/fixtures/submitter-core.ts"
import { foldCore, producerOf, stampOutputs } from "../../runtime/index.ts"
import { makeSubmitterCore } from "./fold.ts"
import { stepOutcomes } from "./step-outcomes.ts"

const { core: live, lane } = submitterCoreFixture(4)
const replaying = makeSubmitterCore(DST, { steps: true })
const ids = lane.ids.slice(0, 4)
const tx = (n: number) => TxHash.make(`0x${n.toString(16).padStart(64, "0")}`)
const block = new BlockRef({ number: 12, hash: Bytes32.make(`0x${"bb".repeat(32)}`) })
const me = Address.make("0x00000000000000000000000000000000000000aa")
const other = "0x00000000000000000000000000000000000000ee"
const revertData = Hex.make("0x08c379a0")
const readOf = (step: DestinationStep) => new DestinationRead({ lane: lane.lane, step })
const outcomesOf = (step: DestinationStep) => stepOutcomes(readOf(step)).map((e) => ({ ...e }))

describe("the records a submitter's step makes from the destination's answers", () => {
  it("given a receipt whose Inbox events delivered one message and failed another, then it confirms each as the events say, the rest skipped, and the root it stored", () => {
    const receipt = {
      transactionHash: tx(1),
      block,
      gasUsed: U256.make("90000"),
      delivered: [ids[0]!],
      failed: [{ messageId: ids[2]!, revertData }],
      committed: lane.checkpoint(4),
    }
    const records = stepOutcomes(
      readOf({ _tag: "Included", action: "commitAndDeliver", messageIds: ids.slice(0, 3), receipt }),
    )
    expect(records.map((e) => e._tag)).toEqual(["RootCommitted", "DeliveryConfirmed"])
    const confirmed = records[1]!
    if (confirmed._tag !== "DeliveryConfirmed") throw new Error("expected a confirmation")
    expect(confirmed.outcomes.map((o) => [o.messageId, o.result, o.reason])).toEqual([
      [ids[0], "delivered", null],
      [ids[1], "skipped", null],
      [ids[2], "failed", revertData],
    ])
  })

  it("given the Inbox attempted messages, by its own account (record lost) and by another relayer, then the own transaction is confirmed and the rest skipped with who did it and the status read", () => {
    const receipt = {
      transactionHash: tx(7),
      block,
      gasUsed: U256.make("50000"),
      delivered: [ids[0]!],
      failed: [],
      committed: null,
    }
    const step: DestinationStep = {
      _tag: "Attempted",
      action: "deliver",
      messageIds: ids.slice(0, 3),
      of: 4,
      sender: me,
      lookbackBlocks: 50_000,
      searchFailed: null,
      attempts: [
        {
          transactionHash: tx(7),
          messageIds: [ids[0]!],
          from: me.toUpperCase().replace("0X", "0x"),
          inboxFunction: null,
          receipt,
        },
        {
          transactionHash: tx(8),
          messageIds: [ids[1]!],
          from: other,
          inboxFunction: "deliver",
          receipt: null,
        },
      ],
      statuses: [{ messageId: ids[1]!, status: "failed" }],
    }
    const records = outcomesOf(step)
    expect(records.map((e) => e._tag)).toEqual(["DeliveryConfirmed", "DeliverySkipped"])
    expect(records[0]).toMatchObject({ action: "deliver", transactionHash: tx(7) })
    expect(records[1]).toMatchObject({
      messageIds: [ids[1], ids[2]],
      // A status the step did not read is unknown, never guessed.
      statuses: ["failed", "unknown"],
      reason:
        `3 of 4 messages already delivered (1 by its own account (recorded confirmed); by another relayer: 1 in tx ${tx(8)} from ${other}; ` +
        "1 by a transaction not among the Inbox's events of the last 50000 blocks)",
    })
  })

  it("given a nonce another transaction used, then what the Inbox shows is recorded: the stored root skipped, attempted messages skipped, the rest back to the queue", () => {
    const records = outcomesOf({
      _tag: "Superseded",
      action: "commitAndDeliver",
      messageIds: ids.slice(0, 3),
      transactionHash: tx(3),
      transactions: 2,
      nonce: 9,
      rootCommitted: true,
      attempted: [ids[1]!],
      statuses: [{ messageId: ids[1]!, status: "delivered" }],
      retryStatus: null,
    })
    const note = "none of its 2 transaction(s) landed and nonce 9 was used by another transaction"
    expect(records).toMatchObject([
      {
        _tag: "DeliverySkipped",
        action: "commit",
        messageIds: [],
        reason: `root already committed; ${note}`,
      },
      {
        _tag: "DeliverySkipped",
        messageIds: [ids[1]],
        statuses: ["delivered"],
        reason: `1 of 3 messages already delivered; ${note}`,
      },
      { _tag: "DeliveryFailed", messageIds: [ids[0], ids[2]], revertData: null, transactionHash: tx(3) },
    ])
  })

  it("given a retry whose nonce another transaction used, then the message is skipped only if the Inbox shows it delivered", () => {
    const base = {
      _tag: "Superseded" as const,
      action: "retry" as const,
      messageIds: [ids[0]!],
      transactionHash: tx(4),
      transactions: 1,
      nonce: 3,
      rootCommitted: null,
      attempted: [],
      statuses: [],
    }
    expect(outcomesOf({ ...base, retryStatus: "delivered" })).toMatchObject([
      { _tag: "DeliverySkipped", action: "retry", statuses: ["delivered"] },
    ])
    expect(outcomesOf({ ...base, retryStatus: null })).toMatchObject([
      { _tag: "DeliveryFailed", action: "retry", reason: expect.stringContaining("(Inbox status: unknown)") },
    ])
  })

  it("given an included transaction that reverted, then the reason is the re-simulation's, or says why there is none", () => {
    const reverted = (resimulation: Extract<DestinationStep, { _tag: "Reverted" }>["resimulation"]) =>
      outcomesOf({
        _tag: "Reverted",
        action: "deliver",
        messageIds: ids.slice(0, 1),
        transactionHash: tx(5),
        block,
        gasUsed: U256.make("100000"),
        resimulation,
      })[0]
    expect(reverted({ _tag: "SimulatedRevert", reason: "Paused()", revertData })).toMatchObject({
      reason: "Paused()",
      revertData,
    })
    expect(reverted({ _tag: "SimulatedSuccess", gasLimit: U256.make("100000") })).toMatchObject({
      reason: "ran out of gas (used all 100000)",
      revertData: "0x",
    })
    expect(reverted({ _tag: "SimulatedSuccess", gasLimit: U256.make("300000") })).toMatchObject({
      reason: "reverted on chain but not when re-simulated at block 12",
    })
    expect(reverted({ _tag: "NotReadBack" })).toMatchObject({
      reason: expect.stringContaining("could not be read back"),
    })
  })

  it("given one message the chain cannot give its gas limit, then the refusal says so with the chain's figures", () => {
    const [failed] = outcomesOf({
      _tag: "EstimateReverted",
      action: "deliver",
      messageIds: [ids[3]!],
      revert: {
        reason: "InsufficientGas(3, 40000000, 29000000)",
        revertData,
        errorName: "InsufficientGas",
        args: ["3", "40000000", "29000000"],
      },
    })
    expect(failed).toMatchObject({
      _tag: "DeliveryFailed",
      transactionHash: null,
      reason: `message 3 asks 40000000 gas, more than one transaction on chain ${DST} can give it (29000000 gas was left for it at the most gas the chain allows): InsufficientGas(3, 40000000, 29000000)`,
    })
  })
})

describe("a replay of the submitter's steps", () => {
  const producer = producerOf("submitter", String(DST))
  const attestation = EventId.make(`0x${"a1".repeat(32)}`)
  const broadcast: DestinationStep = {
    _tag: "Broadcast",
    action: "commit",
    messageIds: [],
    transactionHash: tx(6),
    nonce: 1,
    maxFeePerGas: U256.make("2000000000"),
    gasLimit: U256.make("120000"),
    replaces: null,
    proofRoot: null,
  }
  const time = new Date("2026-12-05T01:00:00.000Z")
  const stepBy = (by: Producer, step: DestinationStep, dstChainId = DST) =>
    makeEnvelope(new DestinationRead({ lane: { ...lane.lane, dstChainId } as typeof lane.lane, step }), {
      producer: by,
      causationId: attestation,
      time,
    })

  it("given its own read, then it makes the step's records beside it: the read's cause and time, so production's ids", () => {
    const read = stepBy(producer, broadcast)
    const { outputs } = foldCore(replaying, producer, [{ input: read, reads: [] }])
    const production = stampOutputs(
      producer,
      { id: attestation, time: time.toISOString() },
      stepOutcomes(read.event as DestinationRead),
    )
    expect(outputs.map((o) => o.id)).toEqual(production.map((o) => o.id))
    expect(outputs[0]).toMatchObject({
      type: "DeliverySubmitted",
      causationId: attestation,
      time: time.toISOString(),
    })
  })

  it("given a read planted by another producer, or of another destination, then it makes nothing and the state does not move", () => {
    const planted = [
      stepBy(producerOf("proof-builder", "proof-builder"), broadcast),
      stepBy(new Producer({ service: "submitter", instance: "903", version: "x" }), broadcast),
      stepBy(producer, broadcast, 903),
    ]
    const { outputs, state } = foldCore(
      replaying,
      producer,
      planted.map((input) => ({ input, reads: [] })),
    )
    expect(outputs).toEqual([])
    expect(state).toBe(replaying.initial)
  })

  it("given its own read reaching the live submitter (planted on a topic it consumes), then it makes nothing it would sign", () => {
    // The live submitter's records are its ticker's: a read it meets is no instruction, even one under its own name.
    const { outputs, state } = foldCore(live, producer, [{ input: stepBy(producer, broadcast), reads: [] }])
    expect(outputs).toEqual([])
    expect(state).toBe(live.initial)
  })
})
