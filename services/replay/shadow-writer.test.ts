import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { BlockRef, Bytes32, ChainId, makeEnvelope, WatcherCursor } from "../../schemas/index.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { producerOf } from "../runtime/index.ts"
import {
  defaultShadowSuffix,
  manifestTopicName,
  ProductionWriteRefusedError,
  shadowSpecOf,
  shadowWriter,
} from "./shadow-writer.ts"

const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

const records = async (bus: BusPort, topic: string) =>
  (await bus.watermarks(topic)).reduce((n, m) => n + (m.high - m.low), 0)

const cursor = makeEnvelope(
  new WatcherCursor({
    chainId: ChainId.make(901),
    block: new BlockRef({ number: 5, hash: Bytes32.make(`0x${"5".padStart(64, "0")}`) }),
  }),
  { producer: producerOf("chain-watcher", "901"), causationId: null, time: new Date(1_700_000_000_000) },
)

describe("the shadow writer", () => {
  let dir: string
  let bus: BusPort
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "chorus-shadow-"))
    bus = await openEmbeddedBus({ dataDir: dir })
    await bus.ensureTopics(ALL_TOPICS)
  })
  afterEach(async () => {
    await bus.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("given a batch naming a production topic, when published, then it is refused and nothing is written", async () => {
    const writer = shadowWriter(bus)
    const shadow = shadowSpecOf("fix-1", TOPICS.messagesProven.name)
    await writer.ensureTopics([shadow])
    const value = new TextEncoder().encode("{}")
    await expect(
      writer.publish([
        { topic: shadow.name, key: "901-902", value },
        { topic: TOPICS.messagesProven.name, key: "901-902", value },
      ]),
    ).rejects.toBeInstanceOf(ProductionWriteRefusedError)
    expect(await records(bus, TOPICS.messagesProven.name)).toBe(0)
    expect(await records(bus, shadow.name)).toBe(0)
  })

  it("given a production topic, when asked to create it, then it refuses", async () => {
    await expect(shadowWriter(bus).ensureTopics([TOPICS.chainHalts])).rejects.toThrow(/only shadow topics/)
  })

  it("given events, when published, then they land on the shadows of their topics with their production keys", async () => {
    const writer = shadowWriter(bus)
    const spec = shadowSpecOf("fix-1", TOPICS.watcherCursors.name)
    await writer.ensureTopics([spec])
    const [position] = await writer.publishEvents("fix-1", [cursor])
    expect(position!.topic).toBe("shadow.fix-1.chorus.watcher.cursors")
    expect(await records(bus, TOPICS.watcherCursors.name)).toBe(0)
    const [record] = await collect(bus.read({ topic: spec.name, from: "earliest" }))
    expect(record!.key).toBe("901")
  })

  it("creates a shadow with its production topic's partitions, cleanup policy and retention", () => {
    expect(shadowSpecOf("fix-1", TOPICS.watcherCursors.name)).toEqual({
      name: "shadow.fix-1.chorus.watcher.cursors",
      partitions: TOPICS.watcherCursors.partitions,
      cleanupPolicy: "compact",
      retentionMs: TOPICS.watcherCursors.retentionMs,
    })
    expect(manifestTopicName("fix-1")).toBe("shadow.fix-1.manifest")
  })

  it("names a default suffix after the service and the UTC time", () => {
    expect(defaultShadowSuffix("proof-builder", new Date("2026-11-21T16:02:00.123Z"))).toBe(
      "proof-builder-20261121T160200",
    )
  })
})
