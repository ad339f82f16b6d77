import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { busContractSuite } from "../contract/index.ts"
import type { BusPort } from "../port.ts"
import { EmbeddedBus, type EmbeddedBusLogger, openEmbeddedBus } from "./index.ts"

const dirs: string[] = []
const quiet: EmbeddedBusLogger = { warn: () => {}, error: () => {} }

const asEmbedded = (bus: BusPort): EmbeddedBus => {
  if (!(bus instanceof EmbeddedBus)) throw new TypeError("the embedded harness got a bus it did not open")
  return bus
}

busContractSuite("embedded", {
  open: async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "chorus-bus-contract-"))
    dirs.push(dataDir)
    return openEmbeddedBus({ dataDir, logger: quiet })
  },
  reopen: async (bus) => openEmbeddedBus({ dataDir: asEmbedded(bus).dataDir, logger: quiet }),
  crash: (bus) => asEmbedded(bus).crash(),
  dispose: async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
  },
  timeouts: { waitMs: 10_000, testMs: 30_000 },
})
