/**
 * The code held to the declaration: every service runs from its definition
 * on a devnet, each on a bus that records what it does, and what it did must
 * be exactly what its definition declares (and what `chorus topology`
 * draws).
 *
 * The run exercises every declared edge: traffic in every direction (reads,
 * proposals, signatures, attestations, deliveries), one undecodable record
 * on every consumed topic (every consumer dead-letters it), a restart of
 * every lane service (rebuilds read the recorded reads), and a rewrite of a
 * source chain below its finalized head (the watcher halts).
 */
import { createWalletClient, http } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { waitFor } from "../../bus/contract/index.ts"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { equivocate } from "../../cli/devnet/equivocate.ts"
import { ANVIL_KEYS } from "../../cli/devnet/world.ts"
import { operatorRegistryAbi } from "../../contracts/index.ts"
import { SERVICE_DEFINITIONS, startServices } from "../../services/registry.ts"
import { groupOf, quietLogger, type RunningService, selectInstances } from "../../services/runtime/index.ts"
import { type ServiceName, TOPICS, topicsOf } from "../../topology/index.ts"
import { type BusUse, emptyUse, recordingBus } from "../fixtures/recording-bus.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const rpc = async (url: string, method: string, params: unknown[]): Promise<unknown> => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  })
  const body = (await response.json()) as { result?: unknown; error?: { message: string } }
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`)
  return body.result
}

describe("topology: what each service does on the bus is what its definition declares", () => {
  let devnet: Devnet
  const uses = new Map<ServiceName, BusUse>(SERVICE_DEFINITIONS.map((d) => [d.name, emptyUse()]))
  let running: RunningService[] = []
  const start = async () => {
    running = [
      ...(await startServices({
        bus: devnet.bus,
        config: devnet.config,
        logger: quietLogger(),
        service: "all",
        busFor: (service) => recordingBus(devnet.bus, uses.get(service)!),
      })),
    ]
  }

  beforeAll(async () => {
    devnet = await startDevnet({ bus: { kind: "embedded" }, logger: quietLogger(), runServices: false })
  }, 120_000)
  afterAll(async () => {
    await Promise.allSettled(running.map((s) => s.stop()))
    await devnet?.stop()
  })

  it("runs every service and uses exactly the declared topics, groups and edges", async () => {
    // The halt below rewrites chain 901 back to here, after its contracts were deployed.
    const first = devnet.world.chains[0]!
    const snapshot = await rpc(first.rpcUrl, "evm_snapshot", [])

    await start()
    const sent = await devnet.send({ messages: 12, rate: 6 })
    await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 120_000 })

    // An operator that signs a second root for a count it signed: the collector writes the evidence topic.
    await equivocate(devnet, 0)
    await waitFor(
      "the collector wrote evidence",
      () => uses.get("attestation-collector")!.written.has(TOPICS.evidence.name),
      { timeoutMs: 60_000 },
    )

    // One destination's submitter is down while messages towards it are attested under the epoch its Inbox trusts.
    const lagging = devnet.world.chains[2]!
    const submitterName = `submitter/${lagging.chainId}`
    await running.find((s) => s.name === submitterName)!.stop()
    running = running.filter((s) => s.name !== submitterName)
    const inFlight = await devnet.send({ messages: 6, rate: 6, firstIndex: sent.length })
    const toLagging = new Set(inFlight.filter((m) => m.dstChainId === lagging.chainId).map((m) => m.index))
    await waitFor(
      "the messages towards the stopped submitter's chain were attested",
      async () => {
        await devnet.poll()
        const tracked = devnet.tracker.messages().filter((m) => toLagging.has(m.sent.index))
        return tracked.length === toLagging.size && tracked.every((m) => m.attestedAt !== undefined)
      },
      { timeoutMs: 60_000 },
    )

    // The hub's owner changes the threshold: the set flow carries it, and the collector attests it per Inbox.
    const owner = createWalletClient({
      account: privateKeyToAccount(ANVIL_KEYS.deployer),
      transport: http(first.rpcUrl),
    })
    const change = await owner.writeContract({
      address: devnet.world.registry,
      abi: operatorRegistryAbi,
      functionName: "setThreshold",
      args: [6_000],
      chain: null,
    })
    await first.client.waitForTransactionReceipt({ hash: change })
    await waitFor(
      "the collector attested an operator-set update",
      () => uses.get("attestation-collector")!.written.has(TOPICS.operatorSetsAttested.name),
      { timeoutMs: 60_000 },
    )
    // The submitter comes back: its Inbox moves, refuses the old epoch's quorum, and the collector asks the
    // operators to sign those checkpoints again under the new epoch.
    running.push(
      ...(await startServices({
        bus: devnet.bus,
        config: devnet.config,
        logger: quietLogger(),
        service: "submitter",
        instance: String(lagging.chainId),
        busFor: (service) => recordingBus(devnet.bus, uses.get(service)!),
      })),
    )
    await expectDeliveredExactlyOnce(devnet, [...sent, ...inFlight], { timeoutMs: 120_000 })
    expect(uses.get("attestation-collector")!.written.has(TOPICS.checkpointsResign.name)).toBe(true)

    // A restart of every service: lane services rebuild their shards from the log and its recorded reads.
    await Promise.all(running.map((s) => s.stop()))
    await start()

    // One record no service can decode, on every consumed topic: every consumer must dead-letter it.
    const consumed = [...new Set(SERVICE_DEFINITIONS.flatMap((d) => d.consumes))]
    await devnet.bus.publish(
      consumed.map((topic) => ({
        topic,
        key: null,
        partition: 0,
        value: new TextEncoder().encode("not an event"),
      })),
    )
    const deadLetterWriters = SERVICE_DEFINITIONS.filter((d) => d.consumes.length > 0).map((d) => d.name)
    await waitFor(
      "every consumer dead-lettered the undecodable record",
      () => deadLetterWriters.every((name) => uses.get(name)!.written.has(TOPICS.deadLetters.name)),
      {
        timeoutMs: 60_000,
        detail: () =>
          deadLetterWriters.filter((n) => !uses.get(n)!.written.has(TOPICS.deadLetters.name)).join(", "),
      },
    )

    // A rewrite of chain 901 below what its watcher took as final: the watcher must halt.
    await rpc(first.rpcUrl, "evm_revert", [snapshot])
    const watcher = running.find((s) => s.name === `chain-watcher/${first.chainId}`)!
    const halted = await Promise.race([
      watcher.done.then(
        () => "stopped",
        () => "halted",
      ),
      sleep(90_000).then(() => "still running"),
    ])
    expect(halted).toBe("halted")
    // The auditor polls; give it a round to read what the halt added.
    const auditor = uses.get("auditor")!
    await waitFor("the auditor read the halt", () => auditor.read.has(TOPICS.chainHalts.name), {
      timeoutMs: 30_000,
    })

    for (const definition of SERVICE_DEFINITIONS) {
      const use = uses.get(definition.name)!
      const instances = selectInstances(definition, devnet.config, undefined)
      const groups = new Set(instances.map((i) => groupOf(definition, i.groupFields)))
      const where = `${definition.name}`

      // Consumes: exactly the declared topics, in the declared order, under the declared groups.
      if (definition.group === null) {
        expect(use.subscriptions, `${where} joins no group`).toEqual([])
      } else {
        expect(use.subscriptions.length, `${where} subscribed`).toBeGreaterThan(0)
        for (const subscription of use.subscriptions) {
          expect(subscription.topics, `${where} consumes`).toEqual(definition.consumes)
          expect(groups.has(subscription.groupId), `${where} joined ${subscription.groupId}`).toBe(true)
        }
        expect(new Set(use.subscriptions.map((s) => s.groupId)), `${where} groups`).toEqual(groups)
      }
      for (const group of use.groupsQueried)
        expect(groups.has(group), `${where} asked for ${group}`).toBe(true)

      // Reads and writes: nothing undeclared, and every declared edge used.
      const rangeReadable = new Set<string>([...definition.consumes, ...definition.reads])
      expect(
        [...use.read].filter((t) => !rangeReadable.has(t)),
        `${where} read undeclared`,
      ).toEqual([])
      expect(
        [...use.written].filter((t) => !(definition.writes as string[]).includes(t)),
        `${where} wrote undeclared`,
      ).toEqual([])
      expect(
        definition.reads.filter((t) => !use.read.has(t)),
        `${where} declared reads never read`,
      ).toEqual([])
      expect(
        definition.writes.filter((t) => !use.written.has(t)),
        `${where} declared writes never written`,
      ).toEqual([])
      const touchable = new Set<string>(topicsOf(definition))
      expect(
        [...use.inspected].filter((t) => !touchable.has(t)),
        `${where} inspected undeclared`,
      ).toEqual([])
    }
  }, 420_000)
})
