/**
 * Cheap proposals that used to stall whole partitions (issue 11, part 4),
 * against a running devnet whose operators wait `finalityWaitMs` = 60 s for
 * a block to be final, as deployed.
 *
 * The attacker is a compromised proof-builder: the bus authenticates every
 * producer, so only a writer holding the proof-builder's bus key can publish
 * a proposal anyone consumes (it signs with the devnet's proof-builder key,
 * as `busIdentitiesOf(config).signerFor("proof-builder", …)` gives it). It
 * publishes, on every lane, a proposal of a forged root at a block a million
 * blocks past the chain's head and one a few margins past it, then a flood
 * of 2,000 junk proposals for far-future blocks, while real messages flow.
 *
 * Before the fix every operator waited 60 s on each such proposal, holding
 * every lane of its partition. Ground truth from the chains: every real
 * message reaches its recipient exactly once, well within a bound far below
 * 60 s; no forged root is committed by any Inbox. From the log: every
 * operator refused each far-future proposal at once (`not-finalized`, naming
 * the block, its head and the margin), with the head read it decided on
 * recorded on `chorus.lane.reads`; no honest proposal was refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { authenticatedBus } from "../../bus/authentication/index.ts"
import { publishEvents, readEvents } from "../../bus/events/index.ts"
import type { BusRecord } from "../../bus/port.ts"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { inboxAbi } from "../../contracts/out/index.ts"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  Checkpoint,
  CheckpointProposed,
  type Envelope,
  makeEnvelope,
} from "../../schemas/index.ts"
import { operatorIdentity } from "../../services/config/index.ts"
import { busIdentitiesOf } from "../../services/registry.ts"
import { producerOf, quietLogger } from "../../services/runtime/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

/** What no message may take, with the operators' 60 s finality wait left as deployed. */
const DELIVERY_BOUND_MS = 25_000
const FLOOD = 2_000
const forgedRoot = (seed: number) => Bytes32.make(`0x${seed.toString(16).padStart(8, "0")}${"f0".repeat(28)}`)

describe("adversarial: far-future proposals and proposal floods from a compromised proof-builder", () => {
  let devnet: Devnet
  beforeAll(async () => {
    devnet = await startDevnet({ bus: { kind: "embedded" }, logger: quietLogger() })
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
  })

  it("far-future proposals and a flood of 2,000 junk proposals: refused at once, no lane held for finalityWaitMs, every real message delivered exactly once, no forged root committed", async ({
    annotate,
  }) => {
    const { config, world } = devnet
    expect(config.operators.every((o) => o.finalityWaitMs === 60_000)).toBe(true)
    const margin = config.operators[0]!.maxBlocksAhead
    // Signed as the proof-builder: the bus refuses proposals from anyone else.
    const signer = busIdentitiesOf(config).signerFor("proof-builder", "proof-builder")
    const asProofBuilder = authenticatedBus(devnet.bus, signer === undefined ? {} : { signer })

    const lanes = world.chains.flatMap((src) =>
      world.chains
        .filter((dst) => dst.chainId !== src.chainId)
        .map((dst) => ({ src, dst, outbox: Address.make(src.outbox.toLowerCase()) })),
    )
    const heads = new Map<number, number>()
    for (const chain of world.chains) heads.set(chain.chainId, Number(await chain.client.getBlockNumber()))
    const proposalOf = (
      lane: (typeof lanes)[number],
      root: Bytes32,
      count: number,
      blockNumber: number,
    ): Envelope =>
      makeEnvelope(
        new CheckpointProposed({
          checkpoint: new Checkpoint({
            srcChainId: ChainId.make(lane.src.chainId),
            outbox: lane.outbox,
            dstChainId: ChainId.make(lane.dst.chainId),
            root,
            count,
          }),
          previousCount: 0,
          block: new BlockRef({ number: blockNumber, hash: Bytes32.make(`0x${"fb".repeat(32)}`) }),
        }),
        { producer: producerOf("proof-builder", "proof-builder"), causationId: null, time: new Date() },
      )

    // A million blocks past each source's head, and four margins past it: neither exists there.
    const targeted = lanes.flatMap((lane, i) => {
      const head = heads.get(lane.src.chainId)!
      return [
        proposalOf(lane, forgedRoot(i), 1_000 + i, head + 1_000_000),
        proposalOf(lane, forgedRoot(100 + i), 2_000 + i, head + 4 * margin),
      ]
    })
    const flood = Array.from({ length: FLOOD }, (_, i) => {
      const lane = lanes[i % lanes.length]!
      return proposalOf(lane, forgedRoot(1_000 + i), 10_000 + i, heads.get(lane.src.chainId)! + 10_000 + i)
    })
    const forged = new Set<string>([...targeted, ...flood].map((e) => e.id))

    const publishedAt = Date.now()
    await publishEvents(asProofBuilder, targeted)
    const sending = devnet.send({ messages: 12, rate: 6 })
    for (let i = 0; i < flood.length; i += 250) await publishEvents(asProofBuilder, flood.slice(i, i + 250))
    const sent = await sending

    // Ground truth: every real message reached its recipient exactly once, and none was held for 60 s.
    await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 90_000 })
    const latencies = devnet.tracker.progress().latenciesMs
    expect(latencies).toHaveLength(sent.length)
    expect(Math.max(...latencies), `latencies ${JSON.stringify(latencies)}`).toBeLessThan(DELIVERY_BOUND_MS)

    await annotate(`delivery latencies (ms): ${[...latencies].sort((a, b) => a - b).join(", ")}`)

    // Every operator refused every targeted proposal at once, naming the block, its head and the margin.
    const operators = config.operators.map((o) => operatorIdentity(config, o).address.toLowerCase())
    const answers: Array<{ envelope: Envelope; record: BusRecord }> = []
    for await (const read of readEvents(devnet.bus, {
      topic: TOPICS.attestationsSigned.name,
      from: "earliest",
    }))
      if (read.ok) answers.push(read)
    for (const proposal of targeted) {
      const block = (proposal.event as CheckpointProposed).block.number
      const refusals = answers.filter((a) => a.envelope.causationId === proposal.id)
      expect(refusals.map((a) => a.envelope.event._tag)).toEqual(operators.map(() => "AttestationRefused"))
      for (const { envelope, record } of refusals) {
        const event = envelope.event as { reason: string; detail: string }
        expect(event.reason).toBe("not-finalized")
        expect(event.detail).toContain(`block ${block}`)
        expect(event.detail).toContain(`maxBlocksAhead ${margin}`)
        expect(record.timestamp - publishedAt).toBeLessThan(DELIVERY_BOUND_MS)
      }
    }
    const slowest = Math.max(
      ...targeted.flatMap((p) =>
        answers.filter((a) => a.envelope.causationId === p.id).map((a) => a.record.timestamp - publishedAt),
      ),
    )
    await annotate(`slowest refusal of a targeted far-future proposal: ${slowest} ms after it was published`)
    // …and the flood, every proposal of it by every operator; no honest proposal was refused.
    const refused = answers.filter((a) => a.envelope.event._tag === "AttestationRefused")
    expect(refused.filter((a) => !forged.has(a.envelope.causationId ?? ""))).toEqual([])
    expect(refused.filter((a) => forged.has(a.envelope.causationId ?? ""))).toHaveLength(
      forged.size * operators.length,
    )
    expect(
      answers.filter(
        (a) => a.envelope.event._tag === "AttestationSigned" && forged.has(a.envelope.causationId ?? ""),
      ),
    ).toEqual([])

    // The head each refusal rests on is in the log, so a replay refuses again without an RPC call.
    const heads_ = new Set<string>()
    for await (const read of readEvents(devnet.bus, { topic: TOPICS.laneReads.name, from: "earliest" }))
      if (read.ok && read.envelope.event._tag === "ChainHeadRead" && read.envelope.causationId !== null)
        heads_.add(`${read.envelope.causationId}:${(read.envelope.event as { reader: string }).reader}`)
    for (const proposal of targeted)
      for (const operator of operators) expect(heads_.has(`${proposal.id}:${operator}`)).toBe(true)

    // Ground truth: no Inbox committed a forged root.
    for (const proposal of [...targeted, ...flood.filter((_, i) => i % 20 === 0)]) {
      const { checkpoint } = proposal.event as CheckpointProposed
      const dst = world.chains.find((c) => c.chainId === checkpoint.dstChainId)!
      const committed = await dst.client.readContract({
        address: dst.inbox,
        abi: inboxAbi,
        functionName: "committedCount",
        args: [
          BigInt(checkpoint.srcChainId),
          checkpoint.outbox as `0x${string}`,
          checkpoint.root as `0x${string}`,
        ],
      })
      expect(committed).toBe(0)
    }
  }, 300_000)
})
