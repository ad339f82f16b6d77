/**
 * The submitter against one anvil acting as destination chain 902 and an
 * embedded bus: upstream events are published as the attestation collector
 * and the proof-builder would, the submitter is driven with `tick()`, and
 * the chain (PingRecipient's `Pinged` events) says what was executed.
 */
import { toHex } from "viem"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { waitFor } from "../../../bus/contract/support.ts"
import { publishEvents, readEvents } from "../../../bus/events/index.ts"
import { describeRevertData } from "../../../chains/evm/index.ts"
import { buildDeliverArgs, inboxAbi, packSignatures } from "../../../contracts/index.ts"
import {
  BlockRef,
  Bytes32,
  ChainHalted,
  ChainId,
  type DeliveryConfirmed,
  type DeliveryFailed,
  type DeliverySkipped,
  type DeliverySubmitted,
  DestinationRead,
  type Envelope,
  encodeEnvelope,
  MessageProven,
  makeEnvelope,
  Producer,
  type RootCommitted,
  TxHash,
  U256,
} from "../../../schemas/index.ts"
import { haltedEnvelope, resumedEnvelope } from "../../../schemas/testing/chain-halts.ts"
import { startLossyRpc } from "../../../test/fixtures/lossy-rpc.ts"
import { TOPICS } from "../../../topology/index.ts"
import { decodeConfig } from "../../config/index.ts"
import { toChorusMessage } from "../../runtime/contract-message.ts"
import { producerOf, quietLogger } from "../../runtime/index.ts"
import { type Submitter, SubmitterMisconfiguredError, startSubmitter } from "../service/index.ts"
import {
  ANVIL_KEYS,
  type Destination,
  deliveries,
  expectReplayReproduces,
  folded,
  openTestBus,
  publish,
  SOURCES,
  startDestination,
  tickUntil,
} from "./destination-fixture.ts"
import { asHex, asHexes, makeLaneFixture, T0 } from "./lane-fixture.ts"

let dst: Destination
beforeAll(async () => {
  dst = await startDestination()
})
afterAll(async () => {
  await dst?.stop()
})

const laneFor = (source: (typeof SOURCES)[keyof typeof SOURCES], count: number) =>
  makeLaneFixture({ ...source, dstChainId: 902, recipient: dst.ping, count })

const of = <T extends Envelope["type"]>(events: ReadonlyArray<Envelope>, type: T) =>
  events.filter((e) => e.type === type) as unknown as Array<Envelope<Extract<Envelope["event"], { _tag: T }>>>

/** Delivers message `nonce` (a checkpoint's only new message) from another account, as a competing relayer would. */
const deliverAsAnotherRelayer = async (
  lane: ReturnType<typeof laneFor>,
  nonce: number,
  signatures: ReadonlyArray<{ signer: string; signature: string }>,
  range: { readonly end?: number; readonly from?: typeof dst.otherRelayer } = {},
) => {
  const end = range.end ?? nonce + 1
  const checkpoint = lane.checkpoint(end)
  const [srcChainId, outbox, dstChainId, root, start, packed, proof] = buildDeliverArgs({
    outbox: asHex(lane.outbox),
    messages: lane.messages.slice(nonce, end).map(toChorusMessage),
    proof: {
      start: nonce,
      end,
      root: asHex(checkpoint.root),
      siblings: asHexes(lane.proven(nonce, end, end).event.proof),
    },
  })
  const hash = await (range.from ?? dst.otherRelayer).writeContract({
    address: dst.inbox,
    abi: inboxAbi,
    functionName: "commitAndDeliver",
    args: [
      { srcChainId, outbox, dstChainId, root, count: checkpoint.count, epoch: 1n },
      packSignatures(signatures.map((s) => ({ signer: asHex(s.signer), signature: asHex(s.signature) }))),
      start,
      packed,
      proof,
    ],
    chain: null,
  })
  const receipt = await dst.publicClient.waitForTransactionReceipt({ hash })
  expect(receipt.status).toBe("success")
  return hash
}

/** Publishes `envelope` on `topic`, whatever topic its type belongs to: a record planted by whoever can write there. */
const plantOn = (bus: Awaited<ReturnType<typeof openTestBus>>["bus"], topic: string, envelope: Envelope) =>
  bus.publish([{ topic, ...encodeEnvelope(envelope) }])

/** The submitter's steps recorded on the reads topic, in log order. */
const stepsOf = async (bus: Awaited<ReturnType<typeof openTestBus>>["bus"]) => {
  const steps: DestinationRead[] = []
  for await (const read of readEvents(bus, { topic: TOPICS.laneReads.name, from: "earliest" }))
    if (read.ok && read.envelope.event._tag === "DestinationRead") steps.push(read.envelope.event)
  return steps
}

/** Runs `body` with a fresh bus and a submitter on it, checks a replay reproduces what it wrote, and cleans up. */
const withSubmitter = async (
  settings: Record<string, unknown> & { readonly rpcUrl?: string },
  body: (ctx: {
    bus: Awaited<ReturnType<typeof openTestBus>>["bus"]
    start: (options?: { onOutput?: (e: Envelope) => void; autoStart?: boolean }) => Promise<Submitter>
  }) => Promise<void>,
) => {
  const { bus, close } = await openTestBus()
  const started: Submitter[] = []
  const { rpcUrl, ...submitterSettings } = settings
  const config = dst.configWith(submitterSettings, rpcUrl)
  let passed = false
  try {
    await body({
      bus,
      start: async (options = {}) => {
        const submitter = await startSubmitter({
          bus,
          config,
          submitter: config.submitters[0]!,
          logger: quietLogger(),
          autoStart: options.autoStart ?? false,
          ...(options.onOutput === undefined ? {} : { onOutput: options.onOutput }),
        })
        started.push(submitter)
        return submitter
      },
    })
    passed = true
  } finally {
    await Promise.all(started.map((s) => s.stop()))
    // And a replay makes every record the submitter wrote from the answers it recorded.
    if (passed) await expectReplayReproduces(bus, config).finally(close)
    else await close()
  }
}

describe("submitter on one destination chain", () => {
  it("commits, delivers in batches across checkpoints, skips what another relayer delivered, and executes each message once", async () => {
    const lane = laneFor(SOURCES.happy, 13)
    await withSubmitter({ batchSize: 5 }, async ({ bus, start }) => {
      // Given checkpoints at 3 and 7, attested by every operator and proven in chunks of 2
      await publish(bus, [
        lane.attested(3, 0, await dst.sign(lane, 3)),
        ...lane.chunks(0, 3, 2),
        lane.attested(7, 0, await dst.sign(lane, 7)),
        ...lane.chunks(3, 7, 2),
      ])
      // When the submitter runs until it has nothing left to do
      const submitter = await start()
      await tickUntil(submitter, (r) => r.kind === "idle", "the first seven messages")

      // Then it committed the root at 7 once, delivered [0, 5) and [5, 7) against it, and recorded each step
      const events = await deliveries(bus, SOURCES.happy.srcChainId)
      const submitted = of(events, "DeliverySubmitted").map((e) => e.event as DeliverySubmitted)
      expect(submitted.map((s) => [s.action, s.messageIds.length, s.replaces])).toEqual([
        ["commit", 0, null],
        ["deliver", 5, null],
        ["deliver", 2, null],
      ])
      const committed = of(events, "RootCommitted").map((e) => e.event as RootCommitted)
      expect(committed.map((c) => c.checkpoint.count)).toEqual([7])
      expect(committed[0]!.transactionHash).toBe(submitted[0]!.transactionHash)
      const confirmed = of(events, "DeliveryConfirmed")
      expect(confirmed.map((e) => (e.event as DeliveryConfirmed).transactionHash)).toEqual(
        submitted.map((s) => s.transactionHash),
      )
      const outcomes = confirmed.flatMap((e) => (e.event as DeliveryConfirmed).outcomes)
      expect(outcomes.map((o) => [o.messageId, o.result])).toEqual(
        lane.ids.slice(0, 7).map((id) => [id, "delivered"]),
      )
      // …each confirmation caused by its submission
      const submissions = of(events, "DeliverySubmitted")
      expect(confirmed.map((e) => e.causationId)).toEqual(submissions.map((e) => e.id))
      expect(await dst.pingedBodies(SOURCES.happy.srcChainId)).toEqual(
        Array.from({ length: 7 }, (_, i) => toHex(`ping ${i}`)),
      )

      // Given another relayer delivered message 7 on its own (commitAndDeliver of the checkpoint at 8)
      const signatures8 = await dst.sign(lane, 8)
      const by7 = await deliverAsAnotherRelayer(lane, 7, signatures8)
      const other = dst.otherRelayer.account.address.toLowerCase()
      // When the checkpoint at 8 reaches the bus and the submitter runs
      await publish(bus, [lane.attested(8, 10, signatures8), ...lane.chunks(7, 8, 2, 10)])
      const skippedRun = await tickUntil(submitter, (r) => r.kind === "skipped", "message 7 to be skipped")
      // Then it recorded the skip instead of sending anything
      expect(skippedRun.at(-1)).toMatchObject({
        kind: "skipped",
        action: "commitAndDeliver",
        messageIds: [lane.ids[7]],
        // …naming the transaction that did, and who sent it, from the Inbox's events
        reason: `all 1 messages already delivered (by another relayer: 1 in tx ${by7} from ${other})`,
      })
      // …with what the Inbox shows for it: the other relayer's delivery ran at the recipient
      const [skip7] = of(await deliveries(bus, SOURCES.happy.srcChainId), "DeliverySkipped")
      expect(skip7!.event).toMatchObject({ messageIds: [lane.ids[7]], statuses: ["delivered"] })
      // …beside the answers it was made from, which name the other relayer's transaction without copying it
      const [attempted] = (await stepsOf(bus)).filter((s) => s.step._tag === "Attempted")
      expect(attempted!.step).toMatchObject({
        attempts: [{ transactionHash: by7, from: other, receipt: null }],
        statuses: [{ messageId: lane.ids[7], status: "delivered" }],
      })

      // Given another relayer also delivered message 9 (checkpoint at 10), but not message 10
      const signatures10 = await dst.sign(lane, 10)
      await deliverAsAnotherRelayer(lane, 9, signatures10)
      // When the checkpoints at 9, 10 and 11 reach the bus
      const mark = (await deliveries(bus, SOURCES.happy.srcChainId)).length
      await publish(bus, [
        lane.attested(9, 20, await dst.sign(lane, 9)),
        ...lane.chunks(8, 9, 2, 20),
        lane.attested(10, 20, signatures10),
        ...lane.chunks(9, 10, 2, 20),
        lane.attested(11, 20, await dst.sign(lane, 11)),
        ...lane.chunks(10, 11, 2, 20),
      ])
      await folded(bus)
      await tickUntil(
        submitter,
        (r) => r.kind === "confirmed" && r.action === "commitAndDeliver",
        "messages 8 to 10 to be confirmed",
      )
      // Then the batch [8, 11) went in one commitAndDeliver against the root at 11, message 9 reported skipped
      const later = (await deliveries(bus, SOURCES.happy.srcChainId)).slice(mark)
      expect(of(later, "DeliverySkipped")).toEqual([])
      const sent = of(later, "DeliverySubmitted").map((e) => e.event as DeliverySubmitted)
      expect(sent.map((s) => [s.action, s.messageIds])).toEqual([["commitAndDeliver", lane.ids.slice(8, 11)]])
      const [confirmation] = of(later, "DeliveryConfirmed").map((e) => e.event as DeliveryConfirmed)
      expect(confirmation!.outcomes.map((o) => o.result)).toEqual(["delivered", "skipped", "delivered"])

      // Given another relayer delivered message 11 (checkpoint at 12), and the checkpoints at 12 and 13 arrive together
      const signatures12 = await dst.sign(lane, 12)
      const by11 = await deliverAsAnotherRelayer(lane, 11, signatures12)
      const mark2 = (await deliveries(bus, SOURCES.happy.srcChainId)).length
      await publish(bus, [
        lane.attested(12, 30, signatures12),
        ...lane.chunks(11, 12, 2, 30),
        lane.attested(13, 30, await dst.sign(lane, 13)),
        ...lane.chunks(12, 13, 2, 30),
      ])
      await folded(bus)
      await tickUntil(
        submitter,
        (r) => r.kind === "confirmed" && r.action === "commitAndDeliver",
        "message 12 to be confirmed",
      )
      // Then the leading chunk the Inbox already had was dropped (and recorded skipped) before sending
      const last = (await deliveries(bus, SOURCES.happy.srcChainId)).slice(mark2)
      expect(
        of(last, "DeliverySkipped").map((e) => [
          (e.event as DeliverySkipped).messageIds,
          (e.event as DeliverySkipped).statuses,
          (e.event as DeliverySkipped).reason,
        ]),
      ).toEqual([
        [
          [lane.ids[11]],
          ["delivered"],
          `1 of 2 messages already delivered (by another relayer: 1 in tx ${by11} from ${other})`,
        ],
      ])
      expect(
        of(last, "DeliverySubmitted").map((e) => [
          (e.event as DeliverySubmitted).action,
          (e.event as DeliverySubmitted).messageIds,
        ]),
      ).toEqual([["commitAndDeliver", [lane.ids[12]]]])
      // And every body was received exactly once (9 and 11 by the other relayer, ahead of their turn)
      const bodies = Array.from({ length: 13 }, (_, i) => toHex(`ping ${i}`))
      expect(await dst.pingedBodies(SOURCES.happy.srcChainId)).toEqual([
        ...bodies.slice(0, 8),
        bodies[9],
        bodies[8],
        bodies[10],
        bodies[11],
        bodies[12],
      ])
    })
  })

  it("records DeliveryFailed with the decoded custom error when estimation reverts, and sends nothing", async () => {
    const lane = laneFor(SOURCES.refused, 2)
    await withSubmitter({}, async ({ bus, start }) => {
      // Given a checkpoint signed by one operator of four (threshold 3 of 4)
      await publish(bus, [
        lane.attested(2, 0, await dst.sign(lane, 2, dst.operators.slice(0, 1))),
        ...lane.chunks(0, 2, 2),
      ])
      // When the submitter runs on its own polling loop until it recorded something
      const recorded: Envelope[] = []
      const submitter = await start({ autoStart: true, onOutput: (e) => recorded.push(e) })
      await waitFor("the submitter to record the refusal", () => recorded.length > 0, { timeoutMs: 30_000 })
      await submitter.stop()
      // Then it recorded the Inbox's reason, with no transaction
      const events = await deliveries(bus, SOURCES.refused.srcChainId)
      expect(events.map((e) => e.type)).toEqual(["DeliveryFailed"])
      const failed = events[0]!.event as DeliveryFailed
      expect(failed.transactionHash).toBeNull()
      expect(failed.messageIds).toEqual(lane.ids)
      expect(failed.reason).toBe("InsufficientStake(signed=1, required=3)")
      expect(describeRevertData(asHex(failed.revertData!))).toBe(failed.reason)
      expect(await dst.pingedBodies(SOURCES.refused.srcChainId)).toEqual([])
    })
  })

  it("isolates the messages the chain refuses in a batch, delivers the rest, and refuses one that can never fit alone, with its reason", async () => {
    // Given one chunk of 7 messages: pings, two to a recipient that burns its whole 15M gas limit (two cannot
    // share a 30M block), and a ping asking 40M gas (more than any block gives)
    const heavy = new Map<number, bigint>([
      [2, 15_000_000n],
      [4, 15_000_000n],
      [6, 40_000_000n],
    ])
    const lane = makeLaneFixture({
      ...SOURCES.heavy,
      dstChainId: 902,
      recipient: dst.ping,
      recipientOf: (i) => (i === 2 || i === 4 ? dst.burner : dst.ping),
      gasLimit: (i) => heavy.get(i) ?? 200_000n,
      count: 7,
    })
    // …and no gas budget, so the batch goes whole to the chain's estimate
    await withSubmitter({ maxBatchGas: 1_000_000_000 }, async ({ bus, start }) => {
      await publish(bus, [lane.attested(7, 0, await dst.sign(lane, 7)), ...lane.chunks(0, 7, 7)])
      // When the submitter runs until it has nothing left to do
      const submitter = await start()
      await tickUntil(submitter, (r) => r.kind === "idle", "the batch to be settled")

      // Then the Inbox attempted every message but the one that cannot fit, each once: the pings ran, the burners failed
      const statuses = await Promise.all(
        lane.messages.map((_, nonce) =>
          dst.publicClient.readContract({
            address: dst.inbox,
            abi: inboxAbi,
            functionName: "messageStatus",
            args: [BigInt(SOURCES.heavy.srcChainId), SOURCES.heavy.outbox, nonce],
          }),
        ),
      )
      expect(statuses).toEqual([1, 1, 2, 1, 2, 1, 0])
      expect(await dst.pingedBodies(SOURCES.heavy.srcChainId)).toEqual(
        [0, 1, 3, 5].map((i) => toHex(`ping ${i}`)),
      )
      // …and the log says so: only message 6 is refused, alone, with a reason naming its gas limit
      const events = await deliveries(bus, SOURCES.heavy.srcChainId)
      const failed = of(events, "DeliveryFailed").map((e) => e.event as DeliveryFailed)
      expect(failed.map((f) => f.messageIds)).toEqual([[lane.ids[6]]])
      expect(failed[0]!.transactionHash).toBeNull()
      expect(failed[0]!.reason).toMatch(
        /^message 6 asks 40000000 gas, more than one transaction on chain 902 can give it .*InsufficientGas\(nonce=6, gasLimit=40000000/,
      )
      const outcomes = of(events, "DeliveryConfirmed").flatMap((e) => (e.event as DeliveryConfirmed).outcomes)
      expect(new Map(outcomes.map((o) => [o.messageId, o.result]))).toEqual(
        new Map([0, 1, 2, 3, 4, 5].map((i) => [lane.ids[i]!, i === 2 || i === 4 ? "failed" : "delivered"])),
      )
    })
  })

  it("keeps a batch's messages within the gas budget: heavy messages go on their own, and the chain refuses nothing", async () => {
    const lane = makeLaneFixture({
      ...SOURCES.budget,
      dstChainId: 902,
      recipient: dst.ping,
      recipientOf: (i) => (i === 1 || i === 3 ? dst.burner : dst.ping),
      gasLimit: (i) => (i === 1 || i === 3 ? 15_000_000n : 200_000n),
      count: 5,
    })
    // Given the default budget (10M gas a batch) and one chunk of 5 messages, two of them asking 15M
    await withSubmitter({}, async ({ bus, start }) => {
      await publish(bus, [lane.attested(5, 0, await dst.sign(lane, 5)), ...lane.chunks(0, 5, 5)])
      const submitter = await start()
      await tickUntil(submitter, (r) => r.kind === "idle", "the batch to be settled")
      // Then every message was attempted, in parts that respect the budget, and nothing was refused
      const events = await deliveries(bus, SOURCES.budget.srcChainId)
      expect(of(events, "DeliveryFailed")).toEqual([])
      const sent = of(events, "DeliverySubmitted").map((e) => (e.event as DeliverySubmitted).messageIds)
      expect(sent).toEqual([[lane.ids[0]], [lane.ids[1]], [lane.ids[2]], [lane.ids[3]], [lane.ids[4]]])
      expect(await dst.pingedBodies(SOURCES.budget.srcChainId)).toEqual(
        [0, 2, 4].map((i) => toHex(`ping ${i}`)),
      )
    })
  })

  it("records a send whose answer was lost but that reached the chain as submitted and confirmed, with its transaction", async () => {
    const lane = laneFor(SOURCES.lostAnswer, 3)
    // Given an RPC that loses the answer to the next send: the transaction reaches the chain, the submitter gets an error
    const rpc = await startLossyRpc({ upstream: dst.anvil.rpcUrl, dropRate: 0 })
    rpc.loseSendAnswers(1)
    try {
      await withSubmitter({ rpcUrl: rpc.url }, async ({ bus, start }) => {
        await publish(bus, [lane.attested(3, 0, await dst.sign(lane, 3)), ...lane.chunks(0, 3, 3)])
        // When the submitter runs until it has nothing left to do
        const submitter = await start()
        await tickUntil(submitter, (r) => r.kind === "idle", "the batch to be settled")
        // Then the chain ran each message once, by one transaction
        expect(await dst.pingedBodies(SOURCES.lostAnswer.srcChainId)).toEqual(
          [0, 1, 2].map((i) => toHex(`ping ${i}`)),
        )
        const logs = await dst.publicClient.getContractEvents({
          address: dst.inbox,
          abi: inboxAbi,
          eventName: "MessageDelivered",
          args: { messageId: [...lane.ids] as Array<`0x${string}`> },
          fromBlock: 0n,
        })
        const hashes = [...new Set(logs.map((l) => l.transactionHash))]
        expect(hashes).toHaveLength(1)
        // …and the log records that transaction as sent and confirmed, never as skipped
        const events = await deliveries(bus, SOURCES.lostAnswer.srcChainId)
        expect(of(events, "DeliverySkipped")).toEqual([])
        expect(of(events, "DeliverySubmitted").map((e) => e.event.transactionHash)).toEqual(hashes)
        const confirmed = of(events, "DeliveryConfirmed").map((e) => e.event as DeliveryConfirmed)
        expect(confirmed.map((c) => c.transactionHash)).toEqual(hashes)
        expect(confirmed[0]!.outcomes.map((o) => o.result)).toEqual(["delivered", "delivered", "delivered"])
      })
    } finally {
      await rpc.close()
    }
  })

  it("given a delivery its own account sent but never recorded (killed between broadcast and record), when the submitter finds the messages attempted, then it records that transaction as DeliveryConfirmed from the Inbox's events, not as skipped", async () => {
    const lane = laneFor(SOURCES.unrecorded, 3)
    await withSubmitter({}, async ({ bus, start }) => {
      await publish(bus, [lane.attested(3, 0, await dst.sign(lane, 3)), ...lane.chunks(0, 3, 3)])
      // Given the submitter's account already delivered [0, 3), and nothing of it is on the log
      const hash = await deliverAsAnotherRelayer(lane, 0, await dst.sign(lane, 3), {
        end: 3,
        from: dst.submitterAccount,
      })
      // When the submitter runs until it has nothing left to do
      const submitter = await start()
      await tickUntil(submitter, (r) => r.kind === "idle", "the batch to be settled")
      // Then the chain ran each message once, by that transaction
      expect(await dst.pingedBodies(SOURCES.unrecorded.srcChainId)).toEqual(
        [0, 1, 2].map((i) => toHex(`ping ${i}`)),
      )
      // …and the log records it confirmed, with its transaction and each message's outcome
      const events = await deliveries(bus, SOURCES.unrecorded.srcChainId)
      expect(of(events, "DeliverySkipped")).toEqual([])
      const confirmed = of(events, "DeliveryConfirmed").map((e) => e.event as DeliveryConfirmed)
      expect(confirmed.map((c) => [c.transactionHash, c.action])).toEqual([[hash, "commitAndDeliver"]])
      expect(confirmed[0]!.outcomes.map((o) => [o.messageId, o.result])).toEqual(
        lane.ids.slice(0, 3).map((id) => [id, "delivered"]),
      )
    })
  })

  it("on a graceful stop, follows the transaction in the air until its outcome is recorded", async () => {
    const lane = laneFor(SOURCES.stopping, 2)
    await withSubmitter({}, async ({ bus, start }) => {
      await publish(bus, [lane.attested(2, 0, await dst.sign(lane, 2)), ...lane.chunks(0, 2, 2)])
      // Given blocks are mined only on demand, and the submitter sent its transaction
      await dst.testClient.setAutomine(false)
      try {
        const submitter = await start()
        const sent = (await tickUntil(submitter, (r) => r.kind === "submitted", "the submission")).at(-1)!
        if (sent.kind !== "submitted") throw new Error(`expected a submission, got ${sent.kind}`)
        // When it is stopped, and the transaction is included while it stops
        const stopping = submitter.stop()
        await new Promise((resolve) => setTimeout(resolve, 300))
        await dst.testClient.mine({ blocks: 1 })
        await stopping
        // Then the chain delivered both, and the log says so with that transaction: nothing is left in flight
        expect(await dst.pingedBodies(SOURCES.stopping.srcChainId)).toEqual(
          [0, 1].map((i) => toHex(`ping ${i}`)),
        )
        const events = await deliveries(bus, SOURCES.stopping.srcChainId)
        const confirmed = of(events, "DeliveryConfirmed").map((e) => e.event as DeliveryConfirmed)
        expect(confirmed.map((c) => c.transactionHash)).toEqual([sent.transactionHash])
      } finally {
        await dst.testClient.setAutomine(true)
      }
    })
  })

  it("delivers nothing of a source chain its watcher halted (quarantined), and goes on with the other sources", async () => {
    const halted = laneFor(SOURCES.halted, 3)
    const healthy = laneFor(SOURCES.besideHalted, 3)
    await withSubmitter({}, async ({ bus, start }) => {
      // Given chain 788's watcher saw it rewritten below finality, and attested, proven work of 788 and of 789
      const halt = makeEnvelope(
        new ChainHalted({
          chainId: ChainId.make(SOURCES.halted.srcChainId),
          blockNumber: 41,
          expectedHash: Bytes32.make(`0x${"41".repeat(32)}`),
          observedHash: Bytes32.make(`0x${"42".repeat(32)}`),
          reason: "the chain was rewritten below the watcher's cursor (finality violated); stopping",
        }),
        {
          producer: new Producer({ service: "chain-watcher", instance: "788", version: "test" }),
          causationId: null,
          time: new Date(),
        },
      )
      await publishEvents(bus, [halt])
      await publish(bus, [
        halted.attested(3, 0, await dst.sign(halted, 3)),
        ...halted.chunks(0, 3, 3),
        healthy.attested(3, 0, await dst.sign(healthy, 3)),
        ...healthy.chunks(0, 3, 3),
      ])
      // When the submitter runs until it only waits
      const submitter = await start()
      const results = await tickUntil(
        submitter,
        (r) => r.kind === "waiting" && /quarantined/.test(r.reason),
        "the halted lane to wait",
      )
      // Then it says why the halted lane waits
      expect(results.at(-1)!.reason).toMatch(/source chain 788 is halted \(rewritten at block 41\)/)
      // …the Inbox never saw a message of 788, and the log holds no transaction for them
      for (let nonce = 0; nonce < 3; nonce++) {
        const status = await dst.publicClient.readContract({
          address: dst.inbox,
          abi: inboxAbi,
          functionName: "messageStatus",
          args: [BigInt(SOURCES.halted.srcChainId), SOURCES.halted.outbox, nonce],
        })
        expect(status).toBe(0)
      }
      expect(await deliveries(bus, SOURCES.halted.srcChainId)).toEqual([])
      expect(await dst.pingedBodies(SOURCES.halted.srcChainId)).toEqual([])
      // …while chain 789's messages went through
      expect(await dst.pingedBodies(SOURCES.besideHalted.srcChainId)).toEqual(
        [0, 1, 2].map((i) => toHex(`ping ${i}`)),
      )
    })
  })

  it("once a halted source is resumed, delivers what its trusted block covers, holds a checkpoint past it attested before the resume, and delivers the rest on an attestation after it", async () => {
    const lane = laneFor(SOURCES.resumed, 5)
    const src = SOURCES.resumed.srcChainId
    const statuses = async () => {
      const out: number[] = []
      for (let nonce = 0; nonce < 5; nonce++)
        out.push(
          Number(
            await dst.publicClient.readContract({
              address: dst.inbox,
              abi: inboxAbi,
              functionName: "messageStatus",
              args: [BigInt(src), SOURCES.resumed.outbox, nonce],
            }),
          ),
        )
      return out
    }
    await withSubmitter({}, async ({ bus, start }) => {
      // Given chain 790 halted, and checkpoints at 2 and at 5 attested before anything was resumed
      const halt = haltedEnvelope(src, { blockNumber: 41 })
      await publishEvents(bus, [halt])
      await publish(bus, [
        lane.attested(2, 0, await dst.sign(lane, 2)),
        ...lane.chunks(0, 2, 2),
        lane.attested(5, 0, await dst.sign(lane, 5)),
        ...lane.chunks(2, 5, 3),
      ])
      const submitter = await start()
      await tickUntil(
        submitter,
        (r) => r.kind === "waiting" && /quarantined/.test(r.reason),
        "the quarantine",
      )
      expect(await statuses()).toEqual([0, 0, 0, 0, 0])

      // When chorus chain resume lifts the halt from a block where lane 790 → 902 counted 2
      await publishEvents(bus, [
        resumedEnvelope(halt, { block: 38, outbox: SOURCES.resumed.outbox, counts: { 902: 2 } }),
      ])
      // Then the messages up to the trusted count go, and the checkpoint past it waits, saying why
      const held = await tickUntil(
        submitter,
        (r) => r.kind === "waiting" && /attested after the resume/.test(r.reason),
        "the checkpoint attested before the resume to wait",
      )
      expect(held.at(-1)!.reason).toMatch(
        /^checkpoint #5 \(root 0x[0-9a-f]{64}\) was attested at 2026-01-01T00:00:00.000Z, before source chain 790 was resumed from block 38 by alice@ops at .*, where lane 790 → 902 counted 2: messages 2..4 were observed on the history the rewrite replaced/,
      )
      expect(await statuses()).toEqual([1, 1, 0, 0, 0])

      // When the checkpoint is attested again after the resume (operators signed it on the chain as it is now)
      const fresh = lane.attested(
        5,
        Date.now() + 1_000 - T0,
        await dst.sign(lane, 5, dst.operators.slice(0, 3)),
      )
      await publish(bus, [fresh])
      await folded(bus)
      await tickUntil(submitter, (r) => r.kind === "idle", "the rest to be delivered")
      // Then the rest is delivered, each message once
      expect(await statuses()).toEqual([1, 1, 1, 1, 1])
      expect(await dst.pingedBodies(src)).toEqual([0, 1, 2, 3, 4].map((i) => toHex(`ping ${i}`)))
    })
  })

  it("halts with a clear error when the configured Inbox has no code", async () => {
    const { bus, close } = await openTestBus()
    try {
      const config = dst.configWith()
      const wrong = decodeConfig({
        network: { registryChainId: 902, registry: dst.registry.toLowerCase() },
        chains: [{ ...config.chains[0]!, inbox: "0x00000000000000000000000000000000000f00d0" }],
        submitters: [{ chainId: 902, privateKey: ANVIL_KEYS[2] }],
      })
      const submitter = await startSubmitter({
        bus,
        config: wrong,
        submitter: wrong.submitters[0]!,
        logger: quietLogger({ write: () => true }),
      })
      await expect(submitter.done).rejects.toThrow(SubmitterMisconfiguredError)
      await expect(submitter.done).rejects.toThrow(
        /no contract at the Inbox address 0x00000000000000000000000000000000000f00d0/,
      )
      await submitter.stop()
    } finally {
      await close()
    }
  })

  it("finishes a flight after a restart without sending the batch again", async () => {
    const lane = laneFor(SOURCES.restart, 3)
    await withSubmitter({ stopDrainMs: 0 }, async ({ bus, start }) => {
      await publish(bus, [lane.attested(3, 0, await dst.sign(lane, 3)), ...lane.chunks(0, 3, 32)])
      // Given blocks are mined only on demand, so the transaction stays pending
      await dst.testClient.setAutomine(false)
      try {
        // When the first submitter is stopped right after it recorded DeliverySubmitted, without following the
        // transaction (stopDrainMs 0, as after a kill)
        let first: Submitter | undefined
        first = await start({
          onOutput: (envelope) => {
            if (envelope.type === "DeliverySubmitted") void first?.stop()
          },
        })
        const before = await tickUntil(first, (r) => r.kind === "submitted", "the first submission")
        await first.stop()
        const sent = before.at(-1)!
        if (sent.kind !== "submitted") throw new Error(`expected a submission, got ${sent.kind}`)

        // And a fresh submitter starts on the same bus
        const second = await start()
        const resumed = await tickUntil(second, (r) => r.kind === "pending", "the resumed flight")
        expect(resumed.every((r) => r.kind !== "submitted")).toBe(true)
        expect(resumed.at(-1)).toMatchObject({ kind: "pending", transactionHash: sent.transactionHash })
        await dst.testClient.mine({ blocks: 1 })
        await tickUntil(second, (r) => r.kind === "confirmed", "the confirmation")
        await tickUntil(second, (r) => r.kind === "idle", "the submitter to go idle")

        // Then the batch was submitted once, confirmed once, and each body received once
        const events = await deliveries(bus, SOURCES.restart.srcChainId)
        expect(events.map((e) => e.type)).toEqual(["DeliverySubmitted", "DeliveryConfirmed"])
        expect((events[1]!.event as DeliveryConfirmed).transactionHash).toBe(
          (events[0]!.event as DeliverySubmitted).transactionHash,
        )
        expect(events[1]!.producer.instance).toBe("902")
        expect(await dst.pingedBodies(SOURCES.restart.srcChainId)).toEqual(
          [0, 1, 2].map((i) => toHex(`ping ${i}`)),
        )
      } finally {
        await dst.testClient.setAutomine(true)
      }
    })
  })

  it("given two members for one destination, then one sends and the other stands by; when the active one stops, the standby finishes the rest, each message once on chain", async () => {
    const lane = laneFor(SOURCES.standby, 4)
    await withSubmitter({}, async ({ bus, start }) => {
      await publish(bus, [lane.attested(2, 0, await dst.sign(lane, 2)), ...lane.chunks(0, 2, 32)])
      // Given two members of the destination's submitter group, the first started first
      const first = await start()
      const second = await start()
      // When both tick, then the first delivers and the second stands by, touching nothing
      await tickUntil(first, (r) => r.kind === "confirmed", "the first member's delivery")
      expect(await second.tick()).toMatchObject({ kind: "standby" })
      // When the first stops, and more work arrives
      await first.stop()
      await publish(bus, [lane.attested(4, 0, await dst.sign(lane, 4)), ...lane.chunks(2, 4, 32)])
      // Then the second takes every partition, and delivers the rest
      await tickUntil(second, (r) => r.kind === "confirmed", "the second member's delivery")
      await tickUntil(second, (r) => r.kind === "idle", "the second member to go idle")
      // And the chain received each message once, the first two from the first member, the rest from the second
      expect(await dst.pingedBodies(SOURCES.standby.srcChainId)).toEqual(
        [0, 1, 2, 3].map((i) => toHex(`ping ${i}`)),
      )
      const confirmed = (await deliveries(bus, SOURCES.standby.srcChainId)).filter(
        (e) => e.type === "DeliveryConfirmed",
      )
      expect(confirmed).toHaveLength(2)
    })
  })

  it("refuses a forged proof chunk on chorus.deliveries with its reason, delivers the real one, and refuses it only once across a restart", async () => {
    const lane = laneFor(SOURCES.forged, 4)
    const real = lane.proven(0, 4, 4)
    // A chunk of the real messages whose proof has one sibling where the full tree of 4 needs none
    const forged = makeEnvelope(
      new MessageProven({ ...real.event, proof: [Bytes32.make(`0x${"66".repeat(32)}`)] }),
      { producer: real.producer, causationId: null, time: new Date(real.time) },
    )
    await withSubmitter({}, async ({ bus, start }) => {
      await publish(bus, [lane.attested(4, 0, await dst.sign(lane, 4)), forged, real])
      // When the submitter runs until it has nothing left to do
      const outputs: Envelope[] = []
      const first = await start({ onOutput: (envelope) => outputs.push(envelope) })
      await tickUntil(first, (r) => r.kind === "idle", "the real chunk to be delivered")

      // Then one ProofRefused, caused by the forged chunk, says why; and the real chunk was delivered
      const refusals = of(await deliveries(bus, SOURCES.forged.srcChainId), "ProofRefused")
      expect(refusals.map((r) => [r.causationId, r.producer.instance])).toEqual([[forged.id, "902"]])
      expect(refusals[0]!.event).toMatchObject({
        reason: "unverifiable",
        start: 0,
        messageCount: 4,
        messageIds: lane.ids.slice(0, 4),
        detail: "the proof has 1 sibling; the range [0, 4) of a tree of 4 messages needs 0",
      })
      expect(outputs.filter((o) => o.type === "ProofRefused").map((o) => o.id)).toEqual([refusals[0]!.id])
      expect(await dst.pingedBodies(SOURCES.forged.srcChainId)).toEqual(
        [0, 1, 2, 3].map((i) => toHex(`ping ${i}`)),
      )

      // When it restarts on the same log (its state rebuilt, its own ProofRefused folded back)
      await first.stop()
      const second = await start()
      await tickUntil(second, (r) => r.kind === "idle", "the restarted submitter to go idle")
      // Then nothing is refused or sent again
      const after = await deliveries(bus, SOURCES.forged.srcChainId)
      expect(of(after, "ProofRefused")).toHaveLength(1)
      expect(of(after, "DeliverySubmitted")).toHaveLength(1)

      // Given records planted where production folds none of them: a read under the submitter's own name on
      // chorus.deliveries, saying a transaction delivered the messages, and the forged chunk on the reads topic
      const plantedRead = makeEnvelope(
        new DestinationRead({
          lane: lane.lane,
          step: {
            _tag: "Included",
            action: "deliver",
            messageIds: lane.ids.slice(0, 4),
            receipt: {
              transactionHash: TxHash.make(`0x${"77".repeat(32)}`),
              block: new BlockRef({ number: 1, hash: Bytes32.make(`0x${"78".repeat(32)}`) }),
              gasUsed: U256.make("1"),
              delivered: lane.ids.slice(0, 4),
              failed: [],
              committed: null,
            },
          },
        }),
        { producer: producerOf("submitter", "902"), causationId: null, time: new Date() },
      )
      const plantedChunk = makeEnvelope(new MessageProven({ ...forged.event, start: 0 }), {
        producer: real.producer,
        causationId: forged.id,
        time: new Date(),
      })
      await plantOn(bus, TOPICS.deliveries.name, plantedRead)
      await plantOn(bus, TOPICS.laneReads.name, plantedChunk)
      await second.stop()
      const third = await start()
      await tickUntil(third, (r) => r.kind === "idle", "the submitter to go idle over the planted records")
      // Then the live submitter made nothing of them (and its replay, checked below, makes nothing either)
      const made = (await deliveries(bus, SOURCES.forged.srcChainId)).filter(
        (e) => e.producer.service === "submitter" && e.id !== plantedRead.id,
      )
      expect(made.map((e) => e.id)).toEqual(
        after.filter((e) => e.producer.service === "submitter").map((e) => e.id),
      )
    })
  })

  it("records a reverted transaction with its re-simulated reason, and retries work the Inbox paused", async () => {
    const lane = laneFor(SOURCES.paused, 2)
    await withSubmitter({}, async ({ bus, start }) => {
      await publish(bus, [lane.attested(2, 0, await dst.sign(lane, 2)), ...lane.chunks(0, 2, 32)])
      await dst.testClient.setAutomine(false)
      let paused = false
      try {
        // Given the submitter's transaction is pending
        const submitter = await start()
        await tickUntil(submitter, (r) => r.kind === "submitted", "the submission")
        // When the owner pauses the Inbox in the same block, ahead of it (a higher tip)
        await dst.owner.writeContract({
          address: dst.inbox,
          abi: inboxAbi,
          functionName: "setPaused",
          args: [true],
          chain: null,
          maxFeePerGas: 200_000_000_000n,
          maxPriorityFeePerGas: 100_000_000_000n,
        })
        paused = true
        await dst.testClient.mine({ blocks: 1 })
        // Then the receipt's revert is recorded with the reason re-simulated at its block
        const reverted = await tickUntil(submitter, (r) => r.kind === "reverted", "the revert")
        expect(reverted.at(-1)).toMatchObject({ kind: "reverted", reason: "InboxPaused()" })
        // And while paused, the work is not parked: estimation is refused for now and nothing is recorded
        await tickUntil(submitter, (r) => r.kind === "inbox-blocked", "the paused Inbox to refuse for now")

        // When the owner lifts the pause
        await dst.testClient.setAutomine(true)
        const hash = await dst.owner.writeContract({
          address: dst.inbox,
          abi: inboxAbi,
          functionName: "setPaused",
          args: [false],
          chain: null,
        })
        await dst.publicClient.waitForTransactionReceipt({ hash })
        paused = false
        // Then the same work goes again and lands
        await tickUntil(submitter, (r) => r.kind === "confirmed", "the delivery after the pause")
        const events = await deliveries(bus, SOURCES.paused.srcChainId)
        expect(events.map((e) => e.type)).toEqual([
          "DeliverySubmitted",
          "DeliveryFailed",
          "DeliverySubmitted",
          "DeliveryConfirmed",
        ])
        const failed = events[1]!.event as DeliveryFailed
        expect(failed.reason).toBe("InboxPaused()")
        expect(failed.transactionHash).toBe((events[0]!.event as DeliverySubmitted).transactionHash)
        expect(await dst.pingedBodies(SOURCES.paused.srcChainId)).toEqual([toHex("ping 0"), toHex("ping 1")])
      } finally {
        await dst.testClient.setAutomine(true)
        if (paused) {
          await dst.publicClient.waitForTransactionReceipt({
            hash: await dst.owner.writeContract({
              address: dst.inbox,
              abi: inboxAbi,
              functionName: "setPaused",
              args: [false],
              chain: null,
            }),
          })
        }
      }
    })
  })

  it("replaces a stuck transaction at the same nonce with bumped fees", async () => {
    const lane = laneFor(SOURCES.stuck, 1)
    await withSubmitter({ stuckAfterMs: 1_000 }, async ({ bus, start }) => {
      await publish(bus, [lane.attested(1, 0, await dst.sign(lane, 1)), ...lane.chunks(0, 1, 32)])
      await dst.testClient.setAutomine(false)
      try {
        // Given a submitted transaction that is not mined
        const submitter = await start()
        await tickUntil(submitter, (r) => r.kind === "submitted", "the submission")
        // When it stays pending past stuckAfterMs
        const results = await tickUntil(submitter, (r) => r.kind === "replaced", "the replacement")
        const replaced = results.at(-1)!
        // Then a replacement was recorded at the same nonce, naming the transaction it replaces
        const events = await deliveries(bus, SOURCES.stuck.srcChainId)
        const [original, replacement] = of(events, "DeliverySubmitted").map(
          (e) => e.event as DeliverySubmitted,
        )
        expect(replacement).toMatchObject({ nonce: original!.nonce, replaces: original!.transactionHash })
        expect(BigInt(replacement!.maxFeePerGas) * 100n).toBeGreaterThanOrEqual(
          BigInt(original!.maxFeePerGas) * 110n,
        )
        expect(replaced).toMatchObject({ kind: "replaced", transactionHash: replacement!.transactionHash })
        // And once mined, the replacement is the one confirmed and the body is received once
        await dst.testClient.mine({ blocks: 1 })
        await tickUntil(submitter, (r) => r.kind === "confirmed", "the confirmation")
        const after = await deliveries(bus, SOURCES.stuck.srcChainId)
        expect(
          of(after, "DeliveryConfirmed").map((e) => (e.event as DeliveryConfirmed).transactionHash),
        ).toEqual([replacement!.transactionHash])
        expect(await dst.pingedBodies(SOURCES.stuck.srcChainId)).toEqual([toHex("ping 0")])
      } finally {
        await dst.testClient.setAutomine(true)
      }
    })
  })

  describe("several transactions in the air", () => {
    /** Three checkpoints of three messages each, attested and proven, so batches of three go out one per root. */
    const threeRoots = async (lane: ReturnType<typeof laneFor>) => [
      lane.attested(3, 0, await dst.sign(lane, 3)),
      ...lane.chunks(0, 3, 3),
      lane.attested(6, 0, await dst.sign(lane, 6)),
      ...lane.chunks(3, 6, 3),
      lane.attested(9, 0, await dst.sign(lane, 9)),
      ...lane.chunks(6, 9, 3),
    ]
    const nine = Array.from({ length: 9 }, (_, i) => toHex(`ping ${i}`))
    const settings = { batchSize: 3, windowMs: 0, maxInFlight: 2 }
    /** Runs `body` with blocks mined only on demand. */
    const minedOnDemand = async (body: () => Promise<void>) => {
      await dst.testClient.setAutomine(false)
      try {
        await body()
      } finally {
        await dst.testClient.setAutomine(true)
      }
    }
    /** A submitter with `overrides` on a lane of three roots from `source`, with blocks mined only on demand. */
    const onThreeRoots = (
      source: (typeof SOURCES)[keyof typeof SOURCES],
      overrides: Record<string, unknown>,
      body: (ctx: {
        bus: Awaited<ReturnType<typeof openTestBus>>["bus"]
        start: () => Promise<Submitter>
        lane: ReturnType<typeof laneFor>
      }) => Promise<void>,
    ) =>
      withSubmitter({ ...settings, ...overrides }, async ({ bus, start }) => {
        const lane = laneFor(source, 9)
        await publish(bus, await threeRoots(lane))
        await minedOnDemand(() => body({ bus, start: () => start(), lane }))
      })
    const launchTwo = async (submitter: Submitter) => {
      await tickUntil(submitter, (r) => r.kind === "submitted", "the first batch")
      await tickUntil(submitter, (r) => r.kind === "submitted", "the second batch, behind the first")
    }
    /** Mines what is in the air, then the third batch the submitter sends behind it, until it is idle. */
    const landTheRest = async (submitter: Submitter) => {
      await dst.testClient.mine({ blocks: 1 })
      await tickUntil(submitter, (r) => r.kind === "submitted", "the third batch")
      await dst.testClient.mine({ blocks: 1 })
      await tickUntil(submitter, (r) => r.kind === "idle", "the submitter to go idle")
    }

    it("sends the next batch at the next nonce while one is pending, up to maxInFlight, and confirms each from its own receipt", async () => {
      // Given blocks are mined only on demand
      await onThreeRoots(SOURCES.pipelined, {}, async ({ bus, start, lane }) => {
        const submitter = await start()
        // When the submitter runs while nothing is mined
        await launchTwo(submitter)
        const held = await Promise.all([1, 2, 3].map(() => submitter.tick()))
        // Then two batches are in the air at consecutive nonces, and no third while both are
        expect(held.map((r) => r.kind)).toEqual(["pending", "pending", "pending"])
        const inAir = of(await deliveries(bus, SOURCES.pipelined.srcChainId), "DeliverySubmitted")
        expect(inAir.map((e) => e.event.nonce - inAir[0]!.event.nonce)).toEqual([0, 1])
        expect(inAir.map((e) => e.event.messageIds)).toEqual([lane.ids.slice(0, 3), lane.ids.slice(3, 6)])

        // When one block is mined, and then the rest as they come
        await landTheRest(submitter)

        // Then both were included in that one block, each confirmed by its own transaction
        const events = await deliveries(bus, SOURCES.pipelined.srcChainId)
        const submitted = of(events, "DeliverySubmitted").map((e) => e.event)
        const confirmed = of(events, "DeliveryConfirmed").map((e) => e.event)
        expect(confirmed.map((c) => c.transactionHash)).toEqual(submitted.map((s) => s.transactionHash))
        expect(confirmed[0]!.block.number).toBe(confirmed[1]!.block.number)
        expect(submitted.map((s) => s.nonce - submitted[0]!.nonce)).toEqual([0, 1, 2])
        // …and the recipient ran every message once, in order
        expect(await dst.pingedBodies(SOURCES.pipelined.srcChainId)).toEqual(nine)
      })
    })

    it("after a restart, follows every flight left in the air without sending any batch again", async () => {
      await onThreeRoots(SOURCES.pipelinedRestart, { stopDrainMs: 0 }, async ({ bus, start }) => {
        // Given a submitter stopped (as if killed) with two batches in the air
        const first = await start()
        await launchTwo(first)
        await first.stop()
        const before = of(await deliveries(bus, SOURCES.pipelinedRestart.srcChainId), "DeliverySubmitted")

        // When a fresh one starts on the same log, before anything is mined
        const second = await start()
        const resumed = await tickUntil(second, (r) => r.kind === "pending", "the resumed flights")
        await Promise.all([1, 2].map(() => second.tick()))
        // Then it sends nothing new: both nonces are still taken by the first one's batches
        expect(resumed.every((r) => r.kind !== "submitted")).toBe(true)
        expect(
          of(await deliveries(bus, SOURCES.pipelinedRestart.srcChainId), "DeliverySubmitted"),
        ).toHaveLength(2)

        await landTheRest(second)
        // And the first two are confirmed by the transactions sent before the restart, each body received once
        const events = await deliveries(bus, SOURCES.pipelinedRestart.srcChainId)
        expect(
          of(events, "DeliveryConfirmed")
            .slice(0, 2)
            .map((e) => e.event.transactionHash),
        ).toEqual(before.map((e) => e.event.transactionHash))
        expect(await dst.pingedBodies(SOURCES.pipelinedRestart.srcChainId)).toEqual(nine)
      })
    })

    it("after a restart, never sends a new batch at the nonce of a flight still on the log, even one the node dropped", async () => {
      await onThreeRoots(
        SOURCES.droppedBehind,
        { maxInFlight: 3, stopDrainMs: 0, stuckAfterMs: 1_000 },
        async ({ bus, start, lane }) => {
          // Given a submitter stopped with two batches in the air, the node dropped the second, the first landed
          const first = await start()
          await launchTwo(first)
          await first.stop()
          const [, second] = of(await deliveries(bus, SOURCES.droppedBehind.srcChainId), "DeliverySubmitted")
          await dst.testClient.dropTransaction({ hash: asHex(second!.event.transactionHash) })
          await dst.testClient.mine({ blocks: 1 })
          await dst.testClient.setAutomine(true)

          // When a fresh submitter starts and runs until it has nothing left to do
          const restarted = await start()
          await tickUntil(restarted, (r) => r.kind === "idle", "the submitter to go idle")

          // Then the third batch did not take the second's nonce while the log still had it in the air: only once
          // the log closed it as dropped (the restart may take longer than stuckAfterMs on a busy machine, and a
          // flight the node forgot is then given up, its nonce free again)
          const events = await deliveries(bus, SOURCES.droppedBehind.srcChainId)
          const thirdAt = events.findIndex(
            (e) => e.event._tag === "DeliverySubmitted" && e.event.messageIds.includes(lane.ids[6]!),
          )
          const third = events[thirdAt]!.event as DeliverySubmitted
          const closedAt = events.findIndex(
            (e) =>
              e.event._tag === "DeliveryFailed" && e.event.transactionHash === second!.event.transactionHash,
          )
          if (third.nonce === second!.event.nonce) {
            expect(closedAt, "the second flight closed as dropped before its nonce was used again").not.toBe(
              -1,
            )
            expect(closedAt).toBeLessThan(thirdAt)
          }
          // …and the recipient ran every message once (the dropped batch's messages go back to the queue, so they
          // may run after the third batch's: the Inbox takes a lane's nonces in any order)
          expect([...(await dst.pingedBodies(SOURCES.droppedBehind.srcChainId))].sort()).toEqual(
            [...nine].sort(),
          )
        },
      )
    })

    it("sends again a transaction the node dropped while a later one waited behind it, and both land", async () => {
      await onThreeRoots(SOURCES.droppedAhead, { stuckAfterMs: 1_000 }, async ({ bus, start }) => {
        const submitter = await start()
        await launchTwo(submitter)
        // Given the node drops the first from its pool, so the second waits behind a nonce gap
        const [lowest] = of(await deliveries(bus, SOURCES.droppedAhead.srcChainId), "DeliverySubmitted")
        await dst.testClient.dropTransaction({ hash: asHex(lowest!.event.transactionHash) })
        await dst.testClient.mine({ blocks: 1 })
        // When it stays out past stuckAfterMs
        const replaced = await tickUntil(submitter, (r) => r.kind === "replaced", "the lowest sent again")
        // Then it is sent again at its own nonce, with bumped fees
        expect(replaced.at(-1)).toMatchObject({ kind: "replaced", nonce: lowest!.event.nonce })
        await landTheRest(submitter)
        // And every message ran once, the first batch by the replacement
        const events = await deliveries(bus, SOURCES.droppedAhead.srcChainId)
        const replacement = of(events, "DeliverySubmitted").find((e) => e.event.replaces !== null)!
        expect(of(events, "DeliveryConfirmed")[0]!.event.transactionHash).toBe(
          replacement.event.transactionHash,
        )
        expect(await dst.pingedBodies(SOURCES.droppedAhead.srcChainId)).toEqual(nine)
      })
    })
  })
})
