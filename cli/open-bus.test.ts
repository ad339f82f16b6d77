import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it, vi } from "vitest"
import { ConsumerGroupsInOwnerError, EmbeddedBus, EmbeddedBusClient } from "../bus/embedded/index.ts"
import type { BusRecord } from "../bus/port.ts"
import { useTempDirs } from "../test/fixtures/temp-dirs.ts"
import { UsageError } from "./command.ts"
import { embeddedDataDir, openBusFromFlags } from "./open-bus.ts"

const freshDir = useTempDirs("chorus-open-bus-")

describe("openBusFromFlags", () => {
  it("owns a free embedded log, and joins the live owner of a locked one as a client, printing nothing", async () => {
    const dataDir = await freshDir()
    const stdout = vi.spyOn(process.stdout, "write")
    try {
      const owner = await openBusFromFlags({ "data-dir": dataDir })
      expect(owner).toBeInstanceOf(EmbeddedBus)
      await owner.ensureTopics([{ name: "t", partitions: 2, cleanupPolicy: "delete", retentionMs: -1 }])
      const seen: BusRecord[] = []
      await owner.subscribe({
        groupId: "g",
        topics: ["t"],
        handler: async (record) => {
          seen.push(record)
        },
      })

      const client = await openBusFromFlags({ "data-dir": dataDir })
      expect(client).toBeInstanceOf(EmbeddedBusClient)
      // A command's publish (as `chorus retry` does) reaches the owner's services.
      const [position] = await client.publish([
        { topic: "t", key: "m", value: new TextEncoder().encode("retry") },
      ])
      await expect
        .poll(() => seen.map((r) => [r.partition, r.offset]), { timeout: 5_000 })
        .toEqual([[position!.partition, position!.offset]])
      await expect(
        client.subscribe({ groupId: "h", topics: ["t"], handler: async () => {} }),
      ).rejects.toBeInstanceOf(ConsumerGroupsInOwnerError)
      await client.close()
      await owner.close()
      expect(stdout).not.toHaveBeenCalled()
    } finally {
      stdout.mockRestore()
    }
  })

  it("uses the log/ of a directory `chorus devnet --data-dir` keeps, and any other directory as is", async () => {
    const devnet = await freshDir()
    writeFileSync(join(devnet, "config.json"), "{}")
    mkdirSync(join(devnet, "log", "topics"), { recursive: true })
    expect(embeddedDataDir(devnet)).toBe(join(devnet, "log"))
    const bus = await openBusFromFlags({ "data-dir": devnet })
    expect((bus as EmbeddedBus).dataDir).toBe(join(devnet, "log"))
    await bus.close()

    const plain = await freshDir()
    expect(embeddedDataDir(plain)).toBe(plain)
    expect(embeddedDataDir(join(devnet, "log"))).toBe(join(devnet, "log"))
  })

  it("asks for exactly one bus", async () => {
    await expect(openBusFromFlags({})).rejects.toBeInstanceOf(UsageError)
    await expect(openBusFromFlags({ brokers: "127.0.0.1:9092", "data-dir": "/tmp/x" })).rejects.toThrow(
      /not both/,
    )
  })
})
