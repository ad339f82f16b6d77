/**
 * A hostile bus writer against a running devnet (issue 11). Each case plays
 * an attack as a stranger who can write topics would, and asserts ground
 * truth from the chains (what the Inbox committed), not only the log.
 *
 * Garbage: one record no service can decode, on a topic the devnet
 * follows, is reported with where it is and stops nothing.
 *
 * Planted reads: the attacker computes the id of a proposal it has not
 * published yet, plants one `OutboxLaneRead` per operator caused by it
 * (stamped as that operator's own read, with a root no chain ever had),
 * forces every operator to rebuild from the log (a restart), then
 * publishes the proposal — signed with the proof-builder's key, as a
 * compromised proof-builder would, so it reaches the operators past the
 * producer policy. Every operator must decide on its own RPC's read
 * and refuse; nothing may be signed, attested or committed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { authenticatedBus, signerFromSeed } from "../../bus/authentication/index.ts"
import { waitFor } from "../../bus/contract/index.ts"
import { publishEvents, readEvents } from "../../bus/events/index.ts"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { devnetProducerKey } from "../../cli/devnet/world.ts"
import { inboxAbi, outboxAbi } from "../../contracts/out/index.ts"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  Checkpoint,
  CheckpointProposed,
  makeEnvelope,
  OutboxLaneRead,
} from "../../schemas/index.ts"
import { operatorIdentity } from "../../services/config/index.ts"
import { producerOf, quietLogger } from "../../services/runtime/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

const FORGED_ROOT = Bytes32.make(`0x${"de".repeat(32)}`)

describe("adversarial: a hostile bus writer against running services", () => {
  let devnet: Devnet
  beforeAll(async () => {
    devnet = await startDevnet({ bus: { kind: "embedded" }, logger: quietLogger() })
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
  })

  it("planted reads with a forced rebuild: no operator signs a root no chain had, and the Inbox commits nothing", async () => {
    const [source, destination] = devnet.world.chains
    const src = source!
    const dst = destination!
    // A real, finalized block of the source chain, so every operator's own read of it succeeds.
    const finalized = await src.client.getBlock({ blockTag: "finalized" })
    const block = new BlockRef({
      number: Number(finalized.number),
      hash: Bytes32.make(finalized.hash.toLowerCase()),
    })
    const outbox = Address.make(src.outbox.toLowerCase())
    const realCount = await src.client.readContract({
      address: src.outbox,
      abi: outboxAbi,
      functionName: "count",
      args: [BigInt(dst.chainId)],
      blockNumber: finalized.number,
    })
    const count = Number(realCount) + 1
    const proposal = makeEnvelope(
      new CheckpointProposed({
        checkpoint: new Checkpoint({
          srcChainId: ChainId.make(src.chainId),
          outbox,
          dstChainId: ChainId.make(dst.chainId),
          root: FORGED_ROOT,
          count,
        }),
        previousCount: Number(realCount),
        block,
      }),
      { producer: producerOf("proof-builder", "proof-builder"), causationId: null, time: new Date() },
    )
    const planted = devnet.config.operators.map((operator) => {
      const { address } = operatorIdentity(devnet.config, operator)
      return makeEnvelope(
        new OutboxLaneRead({
          reader: address.toLowerCase(),
          srcChainId: ChainId.make(src.chainId),
          outbox,
          dstChainId: ChainId.make(dst.chainId),
          block,
          finalized: block,
          root: FORGED_ROOT,
          count,
        }),
        { producer: producerOf("operator", address), causationId: proposal.id, time: new Date() },
      )
    })
    await publishEvents(devnet.bus, planted)

    // Force every operator to rebuild its shards from the log, as a restart or a rebalance would.
    for (const unit of devnet.units.filter((u) => u.service === "operator")) await devnet.restart(unit)
    const proofBuilder = authenticatedBus(devnet.bus, {
      signer: signerFromSeed(devnetProducerKey("proof-builder")),
    })
    await publishEvents(proofBuilder, [proposal])

    const answers = new Map<string, string>()
    await waitFor(
      "every operator answered the forged proposal",
      async () => {
        for await (const read of readEvents(devnet.bus, {
          topic: TOPICS.attestationsSigned.name,
          from: "earliest",
        })) {
          if (!read.ok || read.envelope.causationId !== proposal.id) continue
          const event = read.envelope.event
          if (event._tag === "AttestationSigned") answers.set(event.operator, "signed")
          if (event._tag === "AttestationRefused") answers.set(event.operator, `refused: ${event.reason}`)
        }
        return answers.size === devnet.config.operators.length
      },
      { timeoutMs: 90_000, detail: () => JSON.stringify([...answers]) },
    )
    expect([...answers.values()].filter((answer) => answer === "signed")).toEqual([])

    // Ground truth: the destination's Inbox never committed the forged root.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    const committed = await dst.client.readContract({
      address: dst.inbox,
      abi: inboxAbi,
      functionName: "committedCount",
      args: [BigInt(src.chainId), src.outbox, FORGED_ROOT as `0x${string}`],
    })
    expect(committed).toBe(0)
  }, 240_000)

  it("a garbage record on chorus.deliveries: the devnet reports where it is and goes on, and every later message is delivered exactly once", async () => {
    const topic = TOPICS.deliveries.name
    const [position] = await devnet.bus.publish([
      { topic, key: null, partition: 1, value: new TextEncoder().encode("not an event") },
    ])
    const reported = await devnet.poll()
    expect(reported).toEqual([expect.objectContaining({ topic, partition: 1, offset: position!.offset })])
    const sent = await devnet.send({ messages: 6, rate: 6 })
    await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 120_000 })
  }, 240_000)
})
