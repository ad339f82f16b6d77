import { describe, expect, it } from "vitest"
import { publishEvents } from "../../bus/events/index.ts"
import { Address, ChainId, Lane, LaneStalled, makeEnvelope } from "../../schemas/index.ts"
import { producerOf } from "../../services/runtime/index.ts"
import { useEmbeddedBusPerTest } from "../../test/fixtures/embedded-bus.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { tailTopics } from "./tail-topics.ts"

const bus = useEmbeddedBusPerTest(ALL_TOPICS, "chorus-tail-")
const topic = TOPICS.checkpointsProposed.name
const stall = (n: number) =>
  makeEnvelope(
    new LaneStalled({
      lane: new Lane({
        srcChainId: ChainId.make(901),
        outbox: Address.make("0x00000000000000000000000000000000000000aa"),
        dstChainId: ChainId.make(902),
      }),
      reason: "nonce-gap",
      treeCount: n,
      detail: `stall ${n}`,
    }),
    { producer: producerOf("proof-builder", "proof-builder"), causationId: null, time: new Date() },
  )

describe("tailTopics", () => {
  it("given a garbage record between two events, when polled, then both events are read and the garbage is reported once with where it is", async () => {
    await publishEvents(bus(), [stall(1)])
    await bus().publish([{ topic, key: null, partition: 0, value: new TextEncoder().encode("not an event") }])
    await publishEvents(bus(), [stall(2)])
    const tail = tailTopics(bus(), [topic])

    const first = await tail.poll()
    expect(first.envelopes.map((e) => (e.event as LaneStalled).detail).sort()).toEqual(["stall 1", "stall 2"])
    expect(first.unreadable).toHaveLength(1)
    expect(first.unreadable[0]).toMatchObject({ topic, partition: 0 })
    expect(first.unreadable[0]!.reason).not.toBe("")

    await publishEvents(bus(), [stall(3)])
    const second = await tail.poll()
    expect(second.envelopes.map((e) => (e.event as LaneStalled).detail)).toEqual(["stall 3"])
    expect(second.unreadable).toEqual([])
  })
})
