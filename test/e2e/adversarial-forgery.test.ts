/**
 * A stranger who can write every topic, against a running devnet whose bus
 * authenticates its producers (issue 11, "authenticated events").
 *
 * The attacker reads the log like anyone, so it knows every message id. It
 * then forges what would hurt most, each as a well-formed event that would
 * decode: a `DeliveryConfirmed` settling real messages nobody delivered (on
 * today's code the submitter drops them for good), a proposal of a root no
 * chain had, a proof of it, and an observation of a message nobody sent.
 * Some forgeries are unsigned, some signed with a key of its own, some with
 * a key the deployment knows (an operator's) on a topic that key may not
 * write, or claiming another producer.
 *
 * Ground truth from the chains: every real message reaches its recipient
 * exactly once, the forged root is never committed, nothing forged is
 * delivered; and every forgery is in the dead-letter topic as
 * `unauthenticated`, where `chorus verify-log` finds it too. The same on the
 * embedded log and on Kafka.
 */
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import {
  authenticatedBus,
  deriveSigningKey,
  producerPolicy,
  signerFromSeed,
  verifyLog,
} from "../../bus/authentication/index.ts"
import { waitFor } from "../../bus/contract/index.ts"
import { collect } from "../../bus/contract/support.ts"
import { publishEvents, readEvents } from "../../bus/events/index.ts"
import { deleteChorusLog } from "../../bus/kafka/index.ts"
import type { RecordPosition } from "../../bus/port.ts"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { inboxAbi } from "../../contracts/out/index.ts"
import {
  BlockRef,
  Bytes32,
  Checkpoint,
  CheckpointProposed,
  DeadLetter,
  DeliveryConfirmed,
  type Envelope,
  Lane,
  Message,
  MessageObserved,
  MessageOutcome,
  makeEnvelope,
  TxHash,
  U256,
} from "../../schemas/index.ts"
import { localKeyOf, operatorIdentity, submitterIdentity } from "../../services/config/index.ts"
import { busIdentitiesOf } from "../../services/registry.ts"
import { producerOf, quietLogger } from "../../services/runtime/index.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

const FORGED_ROOT = Bytes32.make(`0x${"ad".repeat(32)}`)

describe.each(["embedded", "kafka"] as const)(
  "adversarial on the %s bus: forged records from a writer the deployment does not trust",
  (kind) => {
    let devnet: Devnet
    beforeAll(async () => {
      if (kind === "embedded") {
        devnet = await startDevnet({ bus: { kind }, logger: quietLogger() })
        return
      }
      const brokers = inject("kafkaBrokers").split(",")
      // A devnet needs an empty log; an earlier file of this run may have used the broker.
      await deleteChorusLog(brokers)
      devnet = await startDevnet({ bus: { kind, brokers }, logger: quietLogger() })
    }, 180_000)
    afterAll(async () => {
      await devnet?.stop()
    }, 60_000)

    it("forged confirmations, proposals and observations are dead-lettered as unauthenticated, and every real message is delivered exactly once", async () => {
      const submitters = devnet.units.filter((u) => u.service === "submitter")
      for (const unit of submitters) {
        await unit.running?.stop()
        unit.running = undefined
      }
      const sent = await devnet.send({ messages: 6, rate: 6 })
      const observed: Envelope[] = []
      await waitFor(
        "every sent message observed",
        async () => {
          observed.length = 0
          for await (const read of readEvents(devnet.bus, {
            topic: TOPICS.messagesObserved.name,
            from: "earliest",
          }))
            if (read.ok) observed.push(read.envelope)
          return observed.length >= sent.length
        },
        { timeoutMs: 60_000 },
      )

      const stranger = authenticatedBus(devnet.bus, { signer: signerFromSeed(`0x${"77".repeat(32)}`) })
      const operator = devnet.config.operators[0]!
      const operatorKey = signerFromSeed(
        deriveSigningKey(localKeyOf(operatorIdentity(devnet.config, operator), "to write as it")),
      )
      const asOperator = authenticatedBus(devnet.bus, { signer: operatorKey })
      const forged: Envelope[] = []

      // 1. A confirmation that every observed message was delivered, per lane, unsigned and signed by a stranger.
      const byLane = new Map<string, MessageObserved[]>()
      for (const envelope of observed) {
        const event = envelope.event as MessageObserved
        const lane = `${event.message.srcChainId}:${event.message.dstChainId}`
        byLane.set(lane, [...(byLane.get(lane) ?? []), event])
      }
      for (const events of byLane.values()) {
        const first = events[0]!
        const confirmation = makeEnvelope(
          new DeliveryConfirmed({
            lane: new Lane({
              srcChainId: first.message.srcChainId,
              outbox: first.outbox,
              dstChainId: first.message.dstChainId,
            }),
            action: "commitAndDeliver",
            transactionHash: TxHash.make(`0x${"be".repeat(32)}`),
            block: new BlockRef({ number: 1, hash: Bytes32.make(`0x${"01".repeat(32)}`) }),
            gasUsed: U256.make("21000"),
            outcomes: events.map(
              (e) => new MessageOutcome({ messageId: e.messageId, result: "delivered", reason: null }),
            ),
          }),
          {
            producer: producerOf("submitter", String(first.message.dstChainId)),
            causationId: null,
            time: new Date(),
          },
        )
        forged.push(confirmation)
      }
      const positions: RecordPosition[] = []
      positions.push(...(await publishEvents(devnet.bus, forged.slice(0, 1))))
      positions.push(...(await publishEvents(stranger, forged.slice(1))))

      // 1b. The same confirmation from another destination's submitter, signed with its real key, under its own
      // name: a key bound to chain X may not settle deliveries to chain Y (owner-mismatch).
      const target = forged[0]!.event as DeliveryConfirmed
      const otherSubmitter = devnet.config.submitters.find((s) => s.chainId !== target.lane.dstChainId)!
      const otherKey = signerFromSeed(
        deriveSigningKey(localKeyOf(submitterIdentity(devnet.config, otherSubmitter), "to write as it")),
      )
      const crossChain = makeEnvelope(target, {
        producer: producerOf("submitter", String(otherSubmitter.chainId)),
        causationId: null,
        time: new Date(),
      })
      positions.push(
        ...(await publishEvents(authenticatedBus(devnet.bus, { signer: otherKey }), [crossChain])),
      )
      forged.push(crossChain)

      // 2. A proposal of a root no chain had, signed by a real operator's key (which may not propose).
      const first = observed[0]!.event as MessageObserved
      const proposal = makeEnvelope(
        new CheckpointProposed({
          checkpoint: new Checkpoint({
            srcChainId: first.message.srcChainId,
            outbox: first.outbox,
            dstChainId: first.message.dstChainId,
            root: FORGED_ROOT,
            count: 1_000,
          }),
          previousCount: 0,
          block: first.block,
        }),
        { producer: producerOf("proof-builder", "proof-builder"), causationId: null, time: new Date() },
      )
      positions.push(...(await publishEvents(asOperator, [proposal])))

      // 3. An observation of a message nobody sent, at the lane's next nonce, claiming the watcher.
      const fake = makeEnvelope(
        new MessageObserved({ ...first, message: new Message({ ...first.message, nonce: 10_000 }) }),
        {
          producer: producerOf("chain-watcher", String(first.message.srcChainId)),
          causationId: null,
          time: new Date(),
        },
      )
      positions.push(...(await publishEvents(stranger, [fake])))
      forged.push(proposal, fake)

      for (const unit of submitters) await devnet.restart(unit)
      await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 120_000 })

      // Ground truth: the forged root was never committed on the destination.
      const dst = devnet.world.chains.find((c) => c.chainId === first.message.dstChainId)!
      const src = devnet.world.chains.find((c) => c.chainId === first.message.srcChainId)!
      const committed = await dst.client.readContract({
        address: dst.inbox,
        abi: inboxAbi,
        functionName: "committedCount",
        args: [BigInt(src.chainId), src.outbox, FORGED_ROOT as `0x${string}`],
      })
      expect(committed).toBe(0)

      // Every forgery is on the dead-letter topic as unauthenticated, named by the consumer that met it.
      let letters: DeadLetter[] = []
      await waitFor(
        "a dead letter for every forgery",
        async () => {
          letters = (
            await collect(devnet.bus.read({ topic: TOPICS.deadLetters.name, from: "earliest" }))
          ).map((r) => Schema.decodeUnknownSync(DeadLetter)(JSON.parse(new TextDecoder().decode(r.value))))
          const ids = new Set(letters.map((l) => l.raw.headers["chorus-id"]))
          return forged.every((f) => ids.has(f.id))
        },
        {
          timeoutMs: 30_000,
          detail: () => JSON.stringify(letters.map((l) => [l.source.topic, l.error.message])),
        },
      )
      expect(new Set(letters.map((l) => l.reason))).toEqual(new Set(["unauthenticated"]))
      const reasons = letters.map((l) => l.error.message)
      expect(reasons.some((m) => m.includes("(unsigned)"))).toBe(true)
      expect(reasons.some((m) => m.includes("(unknown-signer)"))).toBe(true)
      expect(reasons.some((m) => m.includes("(topic-not-allowed)"))).toBe(true)
      expect(reasons.some((m) => m.includes("(owner-mismatch)"))).toBe(true)

      // `chorus verify-log` finds exactly the forgeries, wherever they are; every other record stands.
      const { grants } = busIdentitiesOf(devnet.config)
      const report = await verifyLog(
        devnet.bus,
        producerPolicy(grants, [TOPICS.deadLetters.name]),
        ALL_TOPICS.map((t) => t.name),
      )
      const flagged = [
        ...report.findings.map((f) => `${f.topic}/${f.partition}/${f.offset}`),
        ...report.unsigned.flatMap((r) =>
          Array.from({ length: r.to - r.from }, (_, i) => `${r.topic}/${r.partition}/${r.from + i}`),
        ),
      ].sort()
      expect(flagged).toEqual(positions.map((p) => `${p.topic}/${p.partition}/${p.offset}`).sort())
    }, 300_000)
  },
)
