import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import type { BusPort } from "../../bus/port.ts"
import {
  checkWindow,
  InvalidReplayWindowError,
  parseReplayBound,
  type ReplayBound,
  resolveWindow,
} from "./window.ts"

describe("parseReplayBound", () => {
  it("given digits, when parsed, then it is an offset", () => {
    expect(parseReplayBound("120", "--from")).toEqual({ kind: "offset", offset: 120 })
  })

  it("given an ISO-8601 time with a zone, or a date, when parsed, then it is that instant", () => {
    expect(parseReplayBound("2026-11-21T16:02:00Z", "--to")).toMatchObject({
      kind: "time",
      time: 1795276920000,
    })
    expect(parseReplayBound("2026-11-21T17:02:00.000+01:00", "--to")).toMatchObject({ time: 1795276920000 })
    expect(parseReplayBound("2026-11-21", "--to")).toMatchObject({ time: Date.parse("2026-11-21T00:00:00Z") })
  })

  it("given anything else, when parsed, then the error names the flag and the accepted forms", () => {
    for (const bad of ["-1", "yesterday", "2026-11-21T16:02:00", "2026-13-45T00:00:00Z", "1e3"]) {
      expect(() => parseReplayBound(bad, "--from"), bad).toThrow(InvalidReplayWindowError)
      expect(() => parseReplayBound(bad, "--from"), bad).toThrow(/--from .* neither an offset/)
    }
  })

  it("given a window that ends before it starts, when checked, then it is refused", () => {
    const offset = (n: number): ReplayBound => ({ kind: "offset", offset: n })
    expect(() => checkWindow(offset(5), offset(5))).toThrow(/not before --to/)
    expect(() => checkWindow(offset(1), offset(5))).not.toThrow()
    expect(() => checkWindow({ kind: "latest" }, offset(5))).toThrow(/cannot be latest/)
  })
})

describe("resolveWindow", () => {
  let dir: string
  let bus: BusPort
  const topic = "chorus.messages.observed"
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "chorus-window-"))
    bus = await openEmbeddedBus({ dataDir: dir })
    await bus.ensureTopics([{ name: topic, partitions: 2, cleanupPolicy: "delete", retentionMs: -1 }])
    const value = new TextEncoder().encode("x")
    // Partition 0 holds five records at t = 1000..5000, partition 1 two at t = 1000, 2000.
    await bus.publish([
      ...[1, 2, 3, 4, 5].map((i) => ({ topic, key: null, partition: 0, value, timestamp: i * 1000 })),
      ...[1, 2].map((i) => ({ topic, key: null, partition: 1, value, timestamp: i * 1000 })),
    ])
  })
  afterAll(async () => {
    await bus.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("given offsets, when resolved, then each partition is cut at that offset, clamped to its log", async () => {
    const windows = await resolveWindow(
      bus,
      topic,
      [0, 1],
      { kind: "offset", offset: 1 },
      { kind: "offset", offset: 4 },
    )
    expect(windows).toEqual([
      { topic, partition: 0, low: 0, from: 1, to: 4 },
      { topic, partition: 1, low: 0, from: 1, to: 2 },
    ])
  })

  it("given times, when resolved, then each partition is cut at its first record at or after them", async () => {
    const windows = await resolveWindow(
      bus,
      topic,
      [0, 1],
      { kind: "time", time: 2000, text: "t2" },
      { kind: "time", time: 4500, text: "t4.5" },
    )
    expect(windows).toEqual([
      { topic, partition: 0, low: 0, from: 1, to: 4 },
      { topic, partition: 1, low: 0, from: 1, to: 2 },
    ])
  })

  it("given latest, when resolved, then the window ends at the high watermark", async () => {
    const [window] = await resolveWindow(bus, topic, [0], { kind: "offset", offset: 9 }, { kind: "latest" })
    expect(window).toEqual({ topic, partition: 0, low: 0, from: 5, to: 5 })
  })
})
