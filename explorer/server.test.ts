import { describe, expect, it } from "vitest"
import { publishEvents, readEvents } from "../bus/events/index.ts"
import { BlockRef, Bytes32, ChainId, makeEnvelope, Producer, WatcherCursor } from "../schemas/index.ts"
import { useEmbeddedBusPerTest } from "../test/fixtures/embedded-bus.ts"
import { ALL_TOPICS, TOPICS } from "../topology/index.ts"
import { readOnlyBus } from "./server.ts"

const cursor = () =>
  makeEnvelope(
    new WatcherCursor({
      chainId: ChainId.make(901),
      block: new BlockRef({ number: 1, hash: Bytes32.make(`0x${"11".repeat(32)}`) }),
    }),
    {
      producer: new Producer({ service: "chain-watcher", instance: "901", version: "0.4.0" }),
      causationId: null,
      time: new Date(0),
    },
  )

describe("the explorer's read-only bus", () => {
  const bus = useEmbeddedBusPerTest(ALL_TOPICS, "chorus-explorer-bus-")

  it("given an adapter whose methods live on its prototype, then it reads through it, and refuses to publish, subscribe or create topics", async () => {
    await publishEvents(bus(), [cursor()])
    const readOnly = readOnlyBus(bus())
    const read = []
    for await (const item of readEvents(readOnly, { topic: TOPICS.watcherCursors.name, from: "earliest" }))
      read.push(item)
    expect(read).toHaveLength(1)
    expect((await readOnly.watermarks(TOPICS.watcherCursors.name)).some((w) => w.high === 1)).toBe(true)
    await expect(publishEvents(readOnly, [cursor()])).rejects.toThrow(/the explorer is read-only/)
    await expect(readOnly.ensureTopics(ALL_TOPICS)).rejects.toThrow(/read-only/)
    await expect(
      readOnly.subscribe({
        groupId: "g",
        topics: [TOPICS.watcherCursors.name],
        handler: async () => undefined,
      } as never),
    ).rejects.toThrow(/read-only/)
  })
})
