/**
 * A lossy watcher RPC end to end (issue 12): the devnet's three chains and
 * every service on the embedded bus, but chain 901's watcher reads through a
 * proxy that silently drops 20% of the logs of every `eth_getLogs` answer,
 * its only RPC. Every other service, and every other chain's watcher, reads
 * the chains directly.
 *
 * Today's watcher would miss the dropped messages for good (and strand the
 * nonces behind them); a watcher that proves each range complete against
 * the Outbox's lane counts reads a short range again until it holds every
 * message. Judged from the chains: every sent message delivered exactly
 * once, with the payload that was sent.
 */
import { readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { readEvents } from "../../bus/events/index.ts"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import type { OutboxRangeRead } from "../../schemas/index.ts"
import { completenessOf } from "../../services/chain-watcher/completeness.ts"
import { decodeConfig } from "../../services/config/index.ts"
import { SERVICE_DEFINITIONS, startServices } from "../../services/registry.ts"
import { quietLogger, type RunningService } from "../../services/runtime/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { type LossyRpc, startLossyRpc } from "../fixtures/lossy-rpc.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

const MESSAGES = 60
const DROP_RATE = 0.2

describe("a watcher RPC that drops 20% of eth_getLogs results", () => {
  let devnet: Devnet
  let proxy: LossyRpc
  const running: RunningService[] = []
  let lossyChain: number

  beforeAll(async () => {
    devnet = await startDevnet({ bus: { kind: "embedded" }, logger: quietLogger(), runServices: false })
    const chain = devnet.world.chains[0]!
    lossyChain = chain.chainId
    proxy = await startLossyRpc({
      upstream: chain.rpcUrl,
      dropRate: DROP_RATE,
      seed: 12,
      addresses: [chain.outbox],
    })
    // The watchers' config: the devnet's, with chain 901 reached through the proxy alone.
    const json = JSON.parse(readFileSync(devnet.configPath, "utf8")) as {
      chains: Array<{ chainId: number; rpcUrls: string[] }>
    }
    const watcherConfig = decodeConfig(
      {
        ...json,
        chains: json.chains.map((c) => (c.chainId === lossyChain ? { ...c, rpcUrls: [proxy.url] } : c)),
      },
      `${devnet.configPath} (chain ${lossyChain} through the lossy proxy)`,
    )
    const logger = quietLogger()
    for (const definition of SERVICE_DEFINITIONS.filter((d) => d.writes.length > 0)) {
      const config = definition.name === "chain-watcher" ? watcherConfig : devnet.config
      running.push(...(await startServices({ bus: devnet.bus, config, logger, service: definition.name })))
    }
  }, 180_000)

  afterAll(async () => {
    await Promise.allSettled(running.map((service) => service.stop()))
    await proxy?.close()
    await devnet?.stop()
  }, 60_000)

  it("delivers every message exactly once: each short answer is on the log and read again", async () => {
    const sent = await devnet.send({ messages: MESSAGES, rate: 10 })
    expect(sent).toHaveLength(MESSAGES)

    await expectDeliveredExactlyOnce(devnet, sent, {
      timeoutMs: 180_000,
      diagnostics: () => `lossy proxy: ${JSON.stringify(proxy.stats())}`,
    })

    const stats = proxy.stats()
    expect(
      stats.dropped,
      `the proxy dropped no log (${JSON.stringify(stats)}): the test proved nothing`,
    ).toBeGreaterThan(0)
    const reads: OutboxRangeRead[] = []
    for await (const item of readEvents(devnet.bus, { topic: TOPICS.watcherReads.name, from: "earliest" })) {
      if (
        item.ok &&
        item.envelope.event._tag === "OutboxRangeRead" &&
        item.envelope.event.chainId === lossyChain
      )
        reads.push(item.envelope.event)
    }
    // Each drop shortened one answer, recorded with the lane counts that expose it (several drops may share one).
    const short = reads.filter((read) => completenessOf(read, undefined).kind === "short")
    expect(short.length).toBeGreaterThan(0)
    expect(short.length).toBeLessThanOrEqual(stats.dropped)
    expect(reads.every((read) => read.lanes !== null)).toBe(true)
  }, 300_000)
})
