/**
 * The set-watcher against a real chain: a registry on anvil, read at its finality (`confirmations: 0`), on an
 * embedded bus. Ground truth is the registry's own set, read with viem.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { packSignatures, signOperatorSetUpdate } from "../../contracts/checkpoint/index.ts"
import { readOperatorSet } from "../../contracts/deploy/index.ts"
import { inboxAbi, operatorRegistryAbi } from "../../contracts/out/index.ts"
import { createWorld, makeOperators, type World } from "../../contracts/test/world.ts"
import type { OperatorSetObserved } from "../../schemas/index.ts"
import { useTempDirs } from "../../test/fixtures/temp-dirs.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { decodeConfig } from "../config/index.ts"
import { quietLogger } from "../runtime/index.ts"
import { startSetWatcher } from "./service.ts"

let w: World
beforeAll(async () => {
  w = await createWorld({ operators: 3 })
}, 60_000)
afterAll(async () => {
  await w?.anvil.stop()
})
const tempDir = useTempDirs("chorus-set-watcher-")
const openBus = async (): Promise<BusPort> => {
  const bus = await openEmbeddedBus({ dataDir: await tempDir() })
  await bus.ensureTopics(ALL_TOPICS)
  return bus
}

const configFor = (rpcUrls: ReadonlyArray<string> = [w.anvil.rpcUrl]) =>
  decodeConfig({
    network: { registryChainId: w.chainId, registry: w.registry.toLowerCase() },
    chains: [
      {
        chainId: w.chainId,
        rpcUrls,
        outbox: `0x${"33".repeat(20)}`,
        inbox: w.inbox.toLowerCase(),
        finality: { confirmations: 0 },
      },
    ],
    setWatcher: { pollIntervalMs: 20 },
  })

const observed = async (bus: BusPort): Promise<OperatorSetObserved[]> => {
  const events: OperatorSetObserved[] = []
  for await (const read of readEvents(bus, { topic: TOPICS.operatorSets.name, from: "earliest" }))
    if (read.ok && read.envelope.event._tag === "OperatorSetObserved") events.push(read.envelope.event)
  return events
}

describe("set-watcher", () => {
  it("records the hub registry's set, each change once, and nothing again after a restart", async () => {
    const bus = await openBus()
    try {
      const config = configFor()
      const first = await startSetWatcher({ bus, config, logger: quietLogger(), autoStart: false })
      // two ticks at once (the loop's and another): one record
      await Promise.all([first.tick(), first.tick()])
      const truth = await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })
      expect(
        (await observed(bus)).map((e) => [e.epoch, e.operators.map((o) => o.address), e.thresholdBps]),
      ).toEqual([[Number(truth.epoch), truth.operators.map((a) => a.toLowerCase()), truth.thresholdBps]])
      // the same set at later blocks: nothing more
      await w.testClient.mine({ blocks: 2 })
      await first.tick()
      expect(await observed(bus)).toHaveLength(1)
      // a change on the hub: recorded once, with the block it was read at
      const [newcomer] = makeOperators(1, "set-watcher-newcomer")
      await w.write(w.walletClient, w.registry, operatorRegistryAbi, "addOperator", [newcomer!.address, 7n])
      await first.tick()
      await first.tick()
      await first.stop()
      const after = await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })
      const events = await observed(bus)
      expect(events.map((e) => e.epoch)).toEqual([Number(truth.epoch), Number(after.epoch)])
      expect(events[1]!.operators.find((o) => o.address === newcomer!.address.toLowerCase())?.weight).toBe(
        "7",
      )
      // a restart compares with what is on the log: nothing is recorded twice
      const second = await startSetWatcher({ bus, config, logger: quietLogger(), autoStart: false })
      await second.tick()
      await second.stop()
      expect(await observed(bus)).toHaveLength(2)
    } finally {
      await bus.close()
    }
  })

  it("records the set again while the Inbox lags it, reannounceAfterMs after the last record, and not once it caught up", async () => {
    const bus = await openBus()
    try {
      const config = decodeConfig({
        ...configFor(),
        setWatcher: { pollIntervalMs: 20, reannounceAfterMs: 100 },
      })
      const watcher = await startSetWatcher({ bus, config, logger: quietLogger(), autoStart: false })
      await watcher.tick()
      const hub = await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })
      const inboxEpoch = async () =>
        w.publicClient.readContract({ address: w.inbox, abi: inboxAbi, functionName: "epoch" })
      // Given the hub ahead of the Inbox (the registry changed above; the Inbox still trusts its bootstrap set)
      expect(await inboxEpoch()).toBeLessThan(hub.epoch)
      // When a tick comes sooner than reannounceAfterMs, nothing; after it, the same set again
      await watcher.tick()
      expect(await observed(bus)).toHaveLength(1)
      await new Promise((resolve) => setTimeout(resolve, 150))
      await w.testClient.mine({ blocks: 1 })
      await watcher.tick()
      const again = await observed(bus)
      expect(again.map((e) => e.epoch)).toEqual([Number(hub.epoch), Number(hub.epoch)])
      expect(again[1]!.block.number).toBeGreaterThan(again[0]!.block.number)
      // Once the Inbox took the set (signed by the set it trusts), no more
      const update = {
        epoch: hub.epoch,
        operators: hub.operators,
        weights: hub.weights,
        thresholdBps: hub.thresholdBps,
      }
      const signatures = packSignatures(
        await Promise.all(
          w.operators.map(async (account) => ({
            signer: account.address,
            signature: await signOperatorSetUpdate({ account, domain: w.domain, update }),
          })),
        ),
      )
      await w.inboxWrite("updateOperatorSet", [
        update.operators,
        update.weights,
        update.thresholdBps,
        update.epoch,
        signatures,
      ])
      expect(await inboxEpoch()).toBe(hub.epoch)
      await new Promise((resolve) => setTimeout(resolve, 150))
      await watcher.tick()
      await watcher.stop()
      expect(await observed(bus)).toHaveLength(2)
    } finally {
      await bus.close()
    }
  })

  it("records nothing from an RPC it cannot reach, and keeps trying", async () => {
    const bus = await openBus()
    try {
      const running = await startSetWatcher({
        bus,
        config: configFor(["http://127.0.0.1:1"]),
        logger: quietLogger(),
      })
      await expect(running.tick()).rejects.toThrow(/127\.0\.0\.1:1/)
      await running.stop()
      expect(await observed(bus)).toEqual([])
    } finally {
      await bus.close()
    }
  })
})
