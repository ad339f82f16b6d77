import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it, vi } from "vitest"
import type { BusPort } from "../../bus/port.ts"
import { runCommand } from "../../test/fixtures/run-cli.ts"
import { useTempDirs } from "../../test/fixtures/temp-dirs.ts"
import { openBusFromFlags } from "../open-bus.ts"
import { run } from "./run.ts"

vi.mock("../open-bus.ts", async (original) => ({
  ...(await original<typeof import("../open-bus.ts")>()),
  openBusFromFlags: vi.fn(),
}))

const freshDir = useTempDirs("chorus-run-start-")

afterEach(() => {
  vi.mocked(openBusFromFlags).mockReset()
})

/** A config `loadConfig` takes: one chain, nothing reachable (no service gets as far as reading it). */
const configFile = (dir: string): string => {
  const file = join(dir, "config.json")
  writeFileSync(
    file,
    JSON.stringify({
      network: { registryChainId: 901, registry: `0x${"11".repeat(20)}` },
      chains: [901, 902].map((chainId) => ({
        chainId,
        rpcUrls: ["http://127.0.0.1:1"],
        outbox: `0x${"33".repeat(20)}`,
        inbox: `0x${"44".repeat(20)}`,
      })),
      bus: { brokers: ["127.0.0.1:1"] },
    }),
  )
  return file
}

describe("chorus run, failing to start", () => {
  it("given a broker that fails ensureTopics, when a service starts, then the start fails with that error and the bus is closed (an open Kafka client kept the process alive for good)", async () => {
    // Given a bus whose topics cannot be ensured (kafkajs under load answered a metadata request with null)
    const close = vi.fn(async () => {})
    const failure = new Error("ensureTopics failed: Cannot destructure property 'topicMetadata'")
    vi.mocked(openBusFromFlags).mockResolvedValue({
      kind: "kafka",
      ensureTopics: async () => {
        throw failure
      },
      close,
    } as unknown as BusPort)
    const dir = await freshDir()
    // When
    const started = runCommand(run, ["all", "--config", configFile(dir)])
    // Then
    await expect(started).rejects.toBe(failure)
    expect(close).toHaveBeenCalledTimes(1)
  })
})
