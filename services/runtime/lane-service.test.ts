import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { waitFor } from "../../bus/contract/index.ts"
import { collect } from "../../bus/contract/support.ts"
import { type EmbeddedBus, openEmbeddedBus } from "../../bus/embedded/index.ts"
import { publishEvents, readEvents } from "../../bus/events/index.ts"
import { partitionForKey } from "../../bus/partitioner/index.ts"
import type { BusPort, OutgoingRecord } from "../../bus/port.ts"
import {
  BlockRef,
  Bytes32,
  type Envelope,
  LaneStalled,
  MessageId,
  MessageObserved,
  makeEnvelope,
  OutboxLaneRead,
  TxHash,
} from "../../schemas/index.ts"
import { testMessage } from "../../test/fixtures/message.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { NotCoPartitionedError } from "./errors.ts"
import type { LaneCore } from "./lane-core.ts"
import { type LaneService, type LaneServiceOptions, startLaneService } from "./lane-service.ts"
import { jsonLogger, quietLogger } from "./logger.ts"
import { producerOf } from "./producer.ts"

/**
 * The runtime's invariants, on the embedded bus, with a core that counts the
 * nonces it folded per shard and updates its state in place (as the
 * proof-builder's tree does), so a half-applied input would show as a
 * double count.
 */
interface Counted {
  readonly nonces: number[]
}
const countingCore: LaneCore<Counted> = {
  initial: { nonces: [] },
  decide: (state, input) => {
    if (input.event._tag !== "MessageObserved") return { state, outputs: [] }
    const event = input.event
    // In place, on purpose: the runtime must discard a shard whose publish failed after this ran.
    const next = state === countingCore.initial ? { nonces: [] } : state
    next.nonces.push(event.message.nonce)
    return {
      state: next,
      outputs: [
        new LaneStalled({
          lane: {
            srcChainId: event.message.srcChainId,
            outbox: event.outbox,
            dstChainId: event.message.dstChainId,
          },
          reason: "nonce-gap",
          treeCount: next.nonces.length,
          detail: `folded ${event.message.nonce}`,
        }),
      ],
    }
  },
}

const OUTBOX = "0x00000000000000000000000000000000000000aa"
const hashOf = (n: number) => Bytes32.make(`0x${n.toString(16).padStart(64, "0")}`)
const watcher = producerOf("chain-watcher", "901")
const observed = (nonce: number): Envelope =>
  makeEnvelope(
    new MessageObserved({
      message: testMessage({ nonce, body: `m${nonce}` }),
      messageId: MessageId.make(hashOf(1_000 + nonce)),
      outbox: OUTBOX as never,
      block: new BlockRef({ number: 10 + nonce, hash: hashOf(10 + nonce) }),
      blockTimestamp: 1_700_000_000 + nonce,
      transactionHash: TxHash.make(hashOf(2_000 + nonce)),
      logIndex: 0,
    }),
    { producer: watcher, causationId: null, time: new Date(1_700_000_000_000 + nonce * 1000) },
  )

const INPUTS = [TOPICS.messagesObserved.name]
const GROUP = "chorus.test.lane-service"

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

const freshBus = async (): Promise<EmbeddedBus> => {
  const dir = await mkdtemp(join(tmpdir(), "chorus-lane-service-"))
  const bus = await openEmbeddedBus({ dataDir: dir, logger: { warn: () => {}, error: () => {} } })
  cleanup.push(async () => {
    await bus.close()
    await rm(dir, { recursive: true, force: true })
  })
  return bus
}

/** The counting service as a proof-builder instance, with whatever core, observer or logger a test needs. */
const start = async (
  bus: BusPort,
  over: Partial<Pick<LaneServiceOptions<Counted>, "core" | "observe" | "logger">> = {},
): Promise<LaneService<Counted>> => {
  const service = await startLaneService({
    bus,
    service: "proof-builder",
    instance: "proof-builder",
    groupId: GROUP,
    inputs: INPUTS,
    core: countingCore,
    logger: quietLogger({ write: () => true }),
    ...over,
  })
  cleanup.push(() => service.stop())
  return service
}

const laneKey = observed(0).key!

/** What a chain read of the input's lane would record: `root` at the input's block. */
const laneRead = (input: Envelope, root: ReturnType<typeof hashOf>) => {
  const event = input.event as MessageObserved
  return new OutboxLaneRead({
    reader: "proof-builder",
    srcChainId: event.message.srcChainId,
    outbox: event.outbox,
    dstChainId: event.message.dstChainId,
    block: event.block,
    finalized: event.block,
    root,
    count: event.message.nonce + 1,
  })
}
const until = (what: string, predicate: () => boolean) => waitFor(what, predicate, { timeoutMs: 10_000 })

describe("lane service runtime", () => {
  it("given a partition whose records were all handled before a restart, when the service starts again, then its shard is rebuilt on assignment without any new record", async () => {
    const bus = await freshBus()
    await bus.ensureTopics(ALL_TOPICS)
    const partition = partitionForKey(laneKey, await bus.partitions(INPUTS[0]!))
    await publishEvents(bus, [observed(0), observed(1), observed(2)])
    const first = await start(bus)
    await until("three inputs folded", () => first.shardState(partition)?.nonces.length === 3)
    await first.stop()

    const second = await start(bus)
    await until("the shard rebuilt on assignment", () => second.shardState(partition) !== undefined)
    expect(second.shardState(partition)?.nonces).toEqual([0, 1, 2])
    await until("caught up", () => second.caughtUp())
    // Every other partition it holds has a shard too, empty.
    expect(second.heldStates().size).toBe(await bus.partitions(INPUTS[0]!))
  })

  it("given a publish that fails after decide ran, when the record is redelivered, then the shard was discarded and the input is folded exactly once", async () => {
    const bus = await freshBus()
    await bus.ensureTopics(ALL_TOPICS)
    const partition = partitionForKey(laneKey, await bus.partitions(INPUTS[0]!))
    let failures = 1
    const flaky: BusPort = Object.assign(Object.create(bus) as BusPort, {
      publish: (records: ReadonlyArray<OutgoingRecord>) => {
        if (records.some((r) => r.topic === TOPICS.checkpointsProposed.name) && failures-- > 0) {
          return Promise.reject(new Error("broker unavailable"))
        }
        return bus.publish(records)
      },
    })
    await publishEvents(bus, [observed(0), observed(1)])
    const service = await start(flaky)
    await until("two inputs folded", () => service.shardState(partition)?.nonces.length === 2)
    expect(service.shardState(partition)?.nonces).toEqual([0, 1])
    expect(failures).toBeLessThan(0)
    // Ground truth on the log: one output per input, none lost.
    await until("outputs published", () => service.caughtUp())
    const outputs: string[] = []
    for await (const read of readEvents(bus, { topic: TOPICS.checkpointsProposed.name, from: "earliest" })) {
      if (read.ok && read.envelope.event._tag === "LaneStalled") outputs.push(read.envelope.event.detail)
    }
    expect(outputs).toEqual(["folded 0", "folded 1"])
  })

  it("given a second member, when partitions move to it, then the first discards their shards and the second rebuilds them from the log", async () => {
    const bus = await freshBus()
    await bus.ensureTopics(ALL_TOPICS)
    const count = await bus.partitions(INPUTS[0]!)
    const partition = partitionForKey(laneKey, count)
    await publishEvents(bus, [observed(0), observed(1), observed(2)])
    const a = await start(bus)
    await until("a folded the lane", () => a.shardState(partition)?.nonces.length === 3)
    const b = await start(bus)
    const owner = () => (a.subscription.assignment().some((tp) => tp.partition === partition) ? a : b)
    const other = owner() === a ? b : a
    await until("the owner holds the lane's shard", () => owner().shardState(partition) !== undefined)
    expect(owner().shardState(partition)?.nonces).toEqual([0, 1, 2])
    expect(other.shardState(partition)).toBeUndefined()
    // Every shard either member holds is one it is assigned.
    for (const member of [a, b]) {
      const assigned = new Set(member.subscription.assignment().map((tp) => tp.partition))
      for (const held of member.heldStates().keys()) expect(assigned.has(held)).toBe(true)
    }
  })

  it("given a rebuild on assignment that fails, when no new record arrives, then the rebuild is retried until the shard is there", async () => {
    const bus = await freshBus()
    await bus.ensureTopics(ALL_TOPICS)
    const partition = partitionForKey(laneKey, await bus.partitions(INPUTS[0]!))
    await publishEvents(bus, [observed(0), observed(1)])
    const first = await start(bus)
    await until("two inputs folded", () => first.shardState(partition)?.nonces.length === 2)
    await first.stop()

    // Every rebuild the assignment starts fails, twice over: only a retry gets the shards built.
    let failures = 12
    const flaky: BusPort = Object.assign(Object.create(bus) as BusPort, {
      committedOffsets: (groupId: string, topic: string) =>
        failures-- > 0
          ? Promise.reject(new Error("coordinator not available"))
          : bus.committedOffsets(groupId, topic),
    })
    const second = await start(flaky)
    await until("every held shard rebuilt after the failure", () => second.caughtUp())
    expect(failures).toBeLessThan(0)
    expect(second.shardState(partition)?.nonces).toEqual([0, 1])
  })

  it("given a read planted on chorus.lane.reads for an input not yet in the log, when the service restarts and the input arrives, then it observes its chain again and the planted read never reaches decide", async () => {
    const bus = await freshBus()
    await bus.ensureTopics(ALL_TOPICS)
    const decided: string[] = []
    const recordingReads: LaneCore<Counted> = {
      initial: countingCore.initial,
      decide: (state, input, reads) => {
        for (const read of reads) if (read.event._tag === "OutboxLaneRead") decided.push(read.event.root)
        return countingCore.decide(state, input, reads)
      },
    }
    const honest = hashOf(0xc0ffee)
    const observeChain = async (_state: Counted, input: Envelope) =>
      input.event._tag === "MessageObserved" ? [laneRead(input, honest)] : []
    const startObserving = () => start(bus, { core: recordingReads, observe: observeChain })
    const partition = partitionForKey(laneKey, await bus.partitions(INPUTS[0]!))
    await publishEvents(bus, [observed(0)])
    const first = await startObserving()
    await until("the first input folded", () => first.shardState(partition)?.nonces.length === 1)
    await first.stop()

    // The attacker computes the next input's id and plants a read for it, stamped as the service's own.
    const next = observed(1)
    const forged = hashOf(0xbad)
    await publishEvents(bus, [
      makeEnvelope(laneRead(next, forged), {
        producer: producerOf("proof-builder", "proof-builder"),
        causationId: next.id,
        time: new Date(),
      }),
    ])
    const second = await startObserving()
    await until("caught up after the restart", () => second.caughtUp())
    await publishEvents(bus, [next])
    await until("the second input folded", () => second.shardState(partition)?.nonces.length === 2)
    // Input 0 live, input 0 again in the rebuild (its own recorded read), input 1 live on a fresh read.
    expect(decided).toEqual([honest, honest, honest])
  })

  it("given garbage on the reads topic, when a service that observes chains rebuilds, then it dead-letters it once and says where it is", async () => {
    const bus = await freshBus()
    await bus.ensureTopics(ALL_TOPICS)
    const partition = partitionForKey(laneKey, await bus.partitions(INPUTS[0]!))
    const [garbage] = await bus.publish([
      {
        topic: TOPICS.laneReads.name,
        key: laneKey,
        partition,
        value: new TextEncoder().encode("not an event"),
      },
    ])
    const lines: string[] = []
    const service = await start(bus, {
      observe: async () => [],
      logger: jsonLogger({ write: (line: string) => lines.push(line) }, "warn"),
    })
    await until("caught up", () => service.caughtUp())
    const warned = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((l) => l.topic === TOPICS.laneReads.name)
    expect(warned).toEqual([expect.objectContaining({ partition, offset: garbage!.offset })])
    const letters = (await collect(bus.read({ topic: TOPICS.deadLetters.name, from: "earliest" }))).map(
      (record) =>
        JSON.parse(new TextDecoder().decode(record.value)) as Record<string, Record<string, unknown>>,
    )
    expect(letters).toEqual([
      expect.objectContaining({
        source: expect.objectContaining({ topic: TOPICS.laneReads.name, partition, offset: garbage!.offset }),
        reason: "undecodable",
        consumer: expect.objectContaining({ groupId: GROUP }),
      }),
    ])
  })

  it("given input topics with different partition counts, when the service starts, then it refuses, naming each count", async () => {
    const bus = await freshBus()
    await bus.ensureTopics([
      { ...TOPICS.messagesObserved, partitions: 4 },
      { ...TOPICS.laneReads, partitions: 8 },
    ])
    const refused = startLaneService({
      bus,
      service: "proof-builder",
      instance: "proof-builder",
      groupId: GROUP,
      inputs: [TOPICS.messagesObserved.name, TOPICS.laneReads.name],
      core: countingCore,
      logger: quietLogger({ write: () => true }),
    })
    await expect(refused).rejects.toBeInstanceOf(NotCoPartitionedError)
    await expect(refused).rejects.toThrow(/chorus\.messages\.observed=4, chorus\.lane\.reads=8/)
  })

  it("given an expected position on an input topic, when it is not handled yet, then the service is not caught up until it is", async () => {
    const bus = await freshBus()
    await bus.ensureTopics(ALL_TOPICS)
    const partition = partitionForKey(laneKey, await bus.partitions(INPUTS[0]!))
    const service = await start(bus)
    await until("caught up on an empty log", () => service.caughtUp())
    const [position] = await publishEvents(bus, [observed(5)])
    service.expect([position!])
    await until("caught up with the expected record", () => service.caughtUp())
    expect(service.shardState(partition)?.nonces).toEqual([5])
  })
})
