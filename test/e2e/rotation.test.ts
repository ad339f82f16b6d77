/**
 * Attested rotation (issue 14): the hub registry's owner changes the set mid-traffic (removes an operator,
 * changes a weight and the threshold). Nobody touches an Inbox: the set-watcher records the change, the
 * operators verify it on their own hub RPCs and sign it, the collector gathers a quorum of each Inbox's current
 * set, and each destination's submitter sends `Inbox.updateOperatorSet`. Ground truth from the chains: every
 * Inbox ends at the hub's epoch with the hub's very set, moved there by a transaction of its submitter's account
 * (never the owner's), and every message sent across the rotation reaches its recipient once.
 */

import { type Address, createWalletClient, decodeFunctionData, http } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { waitFor } from "../../bus/contract/index.ts"
import { readEvents } from "../../bus/events/index.ts"
import type { Devnet } from "../../cli/devnet/devnet.ts"
import type { SentMessage } from "../../cli/devnet/traffic.ts"
import type { DevnetChain } from "../../cli/devnet/world.ts"
import { ANVIL_KEYS } from "../../cli/devnet/world.ts"
import { inboxAbi, operatorRegistryAbi, readOperatorSet } from "../../contracts/index.ts"
import type { CheckpointResignRequested, OperatorSetApplied } from "../../schemas/index.ts"
import { submitterIdentity } from "../../services/config/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { runCli } from "../fixtures/run-cli.ts"
import { useEmbeddedDevnet } from "./embedded-devnet.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

describe("attested rotation of the operator set, from the hub registry to every Inbox", () => {
  const net = useEmbeddedDevnet("rotation")
  /** What the tests before sent on the same devnet: the tracker and the recipients hold those too. */
  const earlier: SentMessage[] = []

  const inboxSet = async (chain: Devnet["world"]["chains"][number]) => {
    const [operators, weights, thresholdBps, , , epoch] = await chain.client.readContract({
      address: chain.inbox,
      abi: inboxAbi,
      functionName: "operatorSet",
    })
    return { epoch, operators: operators.map((o: Address) => o.toLowerCase()), weights, thresholdBps }
  }

  it("carries a hub change to every Inbox through the relay, and every message across it lands once", async () => {
    const { devnet, dir } = net
    const { world } = devnet
    const hub = world.chains[0]!
    // Traffic for some 8 s, the change in the middle of it (one send: the tracker knows messages by their body).
    const sending = devnet.send({ messages: 16, rate: 2 })
    await new Promise((resolve) => setTimeout(resolve, 2_000))

    // The hub's owner changes the set: one operator out, another's weight up, a new threshold.
    const owner = createWalletClient({
      account: privateKeyToAccount(ANVIL_KEYS.deployer),
      transport: http(hub.rpcUrl),
    })
    const removed = world.operators[3]!.address
    const change = async (write: () => Promise<`0x${string}`>) =>
      expect((await hub.client.waitForTransactionReceipt({ hash: await write() })).status).toBe("success")
    const registry = { address: world.registry, abi: operatorRegistryAbi, chain: null } as const
    await change(() => owner.writeContract({ ...registry, functionName: "removeOperator", args: [removed] }))
    await change(() =>
      owner.writeContract({
        ...registry,
        functionName: "setWeight",
        args: [world.operators[0]!.address, 3n],
      }),
    )
    await change(() => owner.writeContract({ ...registry, functionName: "setThreshold", args: [5_000] }))
    const target = await readOperatorSet({ publicClient: hub.client, registry: world.registry })

    // Every Inbox moves to the hub's epoch, with the hub's set.
    await waitFor(
      "every Inbox trusts the hub's new set",
      async () => (await Promise.all(world.chains.map(inboxSet))).every((s) => s.epoch === target.epoch),
      { timeoutMs: 120_000 },
    )
    for (const chain of world.chains) {
      const set = await inboxSet(chain)
      expect(set.operators).toEqual(target.operators.map((o) => o.toLowerCase()))
      expect(set.weights).toEqual(target.weights)
      expect(set.thresholdBps).toBe(target.thresholdBps)
      expect(set.operators).not.toContain(removed.toLowerCase())
    }

    // Each by an `updateOperatorSet` its submitter's account sent, as the log records it, with the gas it used.
    // (recorded once the transaction has its confirmations, a little after the Inbox shows it)
    let applied: OperatorSetApplied[] = []
    await waitFor(
      "each submitter recorded the update to the hub's epoch applied",
      async () => {
        applied = []
        for await (const read of readEvents(devnet.bus, { topic: TOPICS.deliveries.name, from: "earliest" }))
          if (read.ok && read.envelope.event._tag === "OperatorSetApplied") applied.push(read.envelope.event)
        return world.chains.every((c) =>
          applied.some((a) => a.destination === c.chainId && a.epoch === Number(target.epoch)),
        )
      },
      { timeoutMs: 60_000 },
    )
    for (const chain of world.chains) {
      const last = applied.find((a) => a.destination === chain.chainId && a.epoch === Number(target.epoch))
      expect(BigInt(last!.gasUsed)).toBeGreaterThan(0n)
      const tx = await chain.client.getTransaction({ hash: last!.transactionHash as `0x${string}` })
      const submitter = devnet.config.submitters.find((s) => s.chainId === chain.chainId)!
      const account = submitterIdentity(devnet.config, submitter).address
      expect(tx.from.toLowerCase()).toBe(account.toLowerCase())
      expect(tx.from.toLowerCase()).not.toBe(world.owner.toLowerCase())
      expect(tx.to?.toLowerCase()).toBe(chain.inbox.toLowerCase())
      expect(decodeFunctionData({ abi: inboxAbi, data: tx.input }).functionName).toBe("updateOperatorSet")
    }

    // `chorus operators` tells each step of the update to the hub's epoch, per Inbox.
    const shown = await runCli(["operators", "--data-dir", dir])
    expect(shown.code, shown.text).toBe(0)
    expect(shown.text).toMatch(
      new RegExp(`epoch ${target.epoch}: recorded at hub block \\d+.*; signed by \\d+ operator`),
    )
    for (const chain of world.chains) {
      expect(shown.text).toMatch(
        new RegExp(
          `Inbox on ${chain.chainId}: attested from epoch \\d+ \\(\\d+ signer\\(s\\), stake \\d+ of \\d+\\); applied at block \\d+`,
        ),
      )
      expect(shown.text).toContain(`Inbox on ${chain.chainId} (`)
    }

    // And the relay went on: every message sent before, during and after the change reached its recipient once
    // (a checkpoint attested under the old set and refused by an Inbox that moved on is attested again).
    earlier.push(...(await sending))
    await expectDeliveredExactlyOnce(devnet, earlier, { timeoutMs: 150_000 })
  }, 360_000)

  it("catches up an Inbox two epochs behind in one update, signed by the set it still trusts, and has the checkpoints attested under its old epoch signed again: every message in flight lands once", async () => {
    const { devnet } = net
    const { world } = devnet
    const hub = world.chains[0]!
    const [first, second, lagging] = world.chains as [DevnetChain, DevnetChain, DevnetChain]
    // Given the lagging chain's submitter is down while the hub changes twice
    const unit = devnet.units.find(
      (u) => u.service === "submitter" && u.instance === String(lagging.chainId),
    )!
    await unit.running?.stop()
    unit.running = undefined
    const from = (await inboxSet(lagging)).epoch
    // and messages towards it attested under the epoch it trusts now, before the hub changes
    const sent = await devnet.send({ messages: 6, rate: 6, firstIndex: earlier.length })
    const toLagging = new Set(sent.filter((m) => m.dstChainId === lagging.chainId).map((m) => m.index))
    expect(toLagging.size).toBeGreaterThan(0)
    await waitFor(
      "the lagging chain's messages were attested under its old epoch",
      async () => {
        await devnet.poll()
        const tracked = devnet.tracker.messages().filter((m) => toLagging.has(m.sent.index))
        return tracked.length === toLagging.size && tracked.every((m) => m.attestedAt !== undefined)
      },
      { timeoutMs: 60_000 },
    )
    const owner = createWalletClient({
      account: privateKeyToAccount(ANVIL_KEYS.deployer),
      transport: http(hub.rpcUrl),
    })
    const registry = { address: world.registry, abi: operatorRegistryAbi, chain: null } as const
    for (const hash of [
      await owner.writeContract({
        ...registry,
        functionName: "setWeight",
        args: [world.operators[0]!.address, 4_500n],
      }),
      await owner.writeContract({ ...registry, functionName: "setThreshold", args: [6_000] }),
    ])
      expect((await hub.client.waitForTransactionReceipt({ hash })).status).toBe("success")
    const target = await readOperatorSet({ publicClient: hub.client, registry: world.registry })
    expect(target.epoch).toBe(from + 2n)
    await waitFor(
      "the other Inboxes took the hub's set",
      async () => (await Promise.all([first, second].map(inboxSet))).every((s) => s.epoch === target.epoch),
      { timeoutMs: 120_000 },
    )
    expect((await inboxSet(lagging)).epoch).toBe(from)

    // When its submitter comes back
    await devnet.restart(unit)
    await waitFor(
      "the lagging Inbox caught up",
      async () => (await inboxSet(lagging)).epoch === target.epoch,
      {
        timeoutMs: 120_000,
      },
    )

    // Then one update moved it from its old epoch straight to the hub's, signed by the set it trusted then
    const updates = await lagging.client.getContractEvents({
      address: lagging.inbox,
      abi: inboxAbi,
      eventName: "OperatorSetUpdated",
      fromBlock: 0n,
    })
    expect(updates.map((u) => u.args.epoch).filter((e) => e! > from)).toEqual([target.epoch])
    const set = await inboxSet(lagging)
    expect(set.weights).toEqual(target.weights)
    expect(set.thresholdBps).toBe(6_000)

    // And every message lands once: the lagging Inbox refused the old epoch's quorum (EpochLeft), the collector
    // asked the operators to sign again, and the Inbox committed under the hub's epoch.
    await expectDeliveredExactlyOnce(devnet, [...earlier, ...sent], { timeoutMs: 150_000 })
    // Ground truth on the lagging Inbox: every quorum it took after the update was signed under the hub's epoch.
    const lastUpdate = updates.at(-1)!.blockNumber
    const landed = await lagging.client.getContractEvents({
      address: lagging.inbox,
      abi: inboxAbi,
      fromBlock: lastUpdate + 1n,
    })
    const quorumEpochs: bigint[] = []
    for (const hash of new Set(landed.map((e) => e.transactionHash))) {
      const { input } = await lagging.client.getTransaction({ hash })
      const call = decodeFunctionData({ abi: inboxAbi, data: input })
      if (call.functionName === "commit" || call.functionName === "commitAndDeliver")
        quorumEpochs.push((call.args[0] as { readonly epoch: bigint }).epoch)
    }
    expect(quorumEpochs.length).toBeGreaterThan(0)
    expect(new Set(quorumEpochs)).toEqual(new Set([target.epoch]))
    const requests: CheckpointResignRequested[] = []
    for await (const read of readEvents(devnet.bus, {
      topic: TOPICS.checkpointsResign.name,
      from: "earliest",
    }))
      if (read.ok && read.envelope.event._tag === "CheckpointResignRequested")
        requests.push(read.envelope.event)
    expect(
      requests.some((r) => r.checkpoint.dstChainId === lagging.chainId && r.epoch === Number(target.epoch)),
    ).toBe(true)
  }, 360_000)
})
