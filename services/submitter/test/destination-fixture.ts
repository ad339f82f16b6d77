/**
 * One anvil acting as destination chain 902: an operator registry and an
 * Inbox mirroring its set, fake source lanes registered on the Inbox, a
 * PingRecipient and a RevertingRecipient — plus a fresh embedded bus per
 * test and the config a submitter needs.
 *
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  keccak256,
  type LocalAccount,
  type PublicClient,
  stringToHex,
  type Transport,
  type WalletClient,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { expect } from "vitest"
import { type EmbeddedBus, openEmbeddedBus } from "../../../bus/embedded/index.ts"
import { publishEvents, readEvents } from "../../../bus/events/index.ts"
import { ANVIL_DEFAULT_KEYS } from "../../../contracts/anvil/index.ts"
import {
  configureInbox,
  deployContract,
  deployInbox,
  deployOperatorRegistry,
  deployPingRecipient,
  gasBurnerRecipientAbi,
  gasBurnerRecipientBytecode,
  getCheckpointDomain,
  pingRecipientAbi,
  readOperatorSet,
  revertingRecipientAbi,
  revertingRecipientBytecode,
  signCheckpoint,
  sortSignatures,
  startAnvil,
} from "../../../contracts/index.ts"
import {
  Address as AddressSchema,
  type Envelope,
  Hex as HexSchema,
  Signature,
} from "../../../schemas/index.ts"
import { ALL_TOPICS, TOPICS } from "../../../topology/index.ts"
import { type ChorusConfig, decodeConfig } from "../../config/index.ts"
import { diffShadowTopic, replay, replayTargets } from "../../replay/index.ts"
import type { TickResult } from "../service/index.ts"
import type { LaneFixture } from "./lane-fixture.ts"

export const DST_CHAIN_ID = 902

/** anvil's default funded keys: 0 deploys, 1 plays "another relayer", 2 is the submitter. */
export const ANVIL_KEYS = [ANVIL_DEFAULT_KEYS[0], ANVIL_DEFAULT_KEYS[1], ANVIL_DEFAULT_KEYS[2]] as const

/** Fake source lanes, one per test: source chain id → its (fake) outbox. */
export const SOURCES = {
  happy: { srcChainId: 777, outbox: "0x00000000000000000000000000000000000a11ce" },
  refused: { srcChainId: 778, outbox: "0x00000000000000000000000000000000000b0b00" },
  restart: { srcChainId: 779, outbox: "0x00000000000000000000000000000000000ca201" },
  stuck: { srcChainId: 780, outbox: "0x00000000000000000000000000000000000d0d00" },
  paused: { srcChainId: 781, outbox: "0x00000000000000000000000000000000000e0e00" },
  retry: { srcChainId: 782, outbox: "0x00000000000000000000000000000000000f0f00" },
  forged: { srcChainId: 783, outbox: "0x0000000000000000000000000000000000f0f6ed" },
  heavy: { srcChainId: 784, outbox: "0x0000000000000000000000000000000000ea7ea7" },
  budget: { srcChainId: 785, outbox: "0x0000000000000000000000000000000000b0d9e7" },
  lostAnswer: { srcChainId: 786, outbox: "0x00000000000000000000000000000000001a5700" },
  stopping: { srcChainId: 787, outbox: "0x0000000000000000000000000000000000057095" },
  halted: { srcChainId: 788, outbox: "0x00000000000000000000000000000000000a1700" },
  besideHalted: { srcChainId: 789, outbox: "0x0000000000000000000000000000000000b35d00" },
  resumed: { srcChainId: 790, outbox: "0x000000000000000000000000000000000005e5ed" },
  unrecorded: { srcChainId: 791, outbox: "0x0000000000000000000000000000000000c0ffee" },
  standby: { srcChainId: 792, outbox: "0x00000000000000000000000000000000005a4d6b" },
  pipelined: { srcChainId: 793, outbox: "0x0000000000000000000000000000000000919e1d" },
  pipelinedRestart: { srcChainId: 794, outbox: "0x0000000000000000000000000000000000919e2d" },
  droppedAhead: { srcChainId: 795, outbox: "0x0000000000000000000000000000000000d409ed" },
  droppedBehind: { srcChainId: 796, outbox: "0x0000000000000000000000000000000000d409be" },
} as const satisfies Record<string, { srcChainId: number; outbox: Address }>

export type Destination = Awaited<ReturnType<typeof startDestination>>

/**
 * Starts anvil (chain 902) and deploys the destination side.
 *
 * @example
 * ```ts
 * const dst = await startDestination()
 * afterAll(() => dst.stop())
 * ```
 */
export const startDestination = async () => {
  const anvil = await startAnvil({ chainId: DST_CHAIN_ID })
  try {
    const chain: Chain = defineChain({
      id: DST_CHAIN_ID,
      name: "destination",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    })
    const transport = http(anvil.rpcUrl)
    const publicClient = createPublicClient({ chain, transport }) as PublicClient
    const wallet = (key: Hex) =>
      createWalletClient({ chain, transport, account: privateKeyToAccount(key) }) as WalletClient<
        Transport,
        Chain | undefined,
        Account
      >
    const clients = { walletClient: wallet(ANVIL_KEYS[0]), publicClient }
    const testClient = createTestClient({ chain, transport, mode: "anvil" })
    const operators: LocalAccount[] = Array.from({ length: 4 }, (_, i) =>
      privateKeyToAccount(keccak256(stringToHex(`operator-${i}`))),
    )
    const registry = await deployOperatorRegistry(clients, {
      operators: operators.map((o) => ({ address: o.address, weight: 1n })),
      thresholdBps: 6667,
    })
    const inbox = await deployInbox(clients, { registryChainId: DST_CHAIN_ID, registry })
    await configureInbox(clients, {
      inbox,
      operatorSet: await readOperatorSet({ publicClient, registry }),
      sources: Object.values(SOURCES).map((s) => ({ chainId: BigInt(s.srcChainId), outbox: s.outbox })),
    })
    const ping = await deployPingRecipient(clients, { inbox })
    const reverting = await deployContract(clients, {
      name: "RevertingRecipient",
      abi: revertingRecipientAbi,
      bytecode: revertingRecipientBytecode,
      args: [],
    })
    const burner = await deployContract(clients, {
      name: "GasBurnerRecipient",
      abi: gasBurnerRecipientAbi,
      bytecode: gasBurnerRecipientBytecode,
      args: [],
    })
    const domain = getCheckpointDomain({ registryChainId: DST_CHAIN_ID, registry })

    /** Quorum signatures over a fixture checkpoint, sorted by signer as the Inbox requires. */
    const sign = async (
      lane: LaneFixture,
      count: number,
      signers: ReadonlyArray<LocalAccount> = operators,
    ) => {
      const c = lane.checkpoint(count)
      const checkpoint = {
        srcChainId: BigInt(c.srcChainId),
        outbox: c.outbox as Address,
        dstChainId: BigInt(c.dstChainId),
        root: c.root as Hex,
        count: c.count,
        // The fixture's Inbox is at its first set's epoch, as the attestations the lane fixture makes say.
        epoch: 1n,
      }
      const signed = await Promise.all(
        signers.map(async (account) => ({
          signer: account.address,
          signature: await signCheckpoint({ account, domain, checkpoint }),
        })),
      )
      return sortSignatures(signed).map(
        (s) =>
          new Signature({
            signer: AddressSchema.make(s.signer.toLowerCase()),
            signature: HexSchema.make(s.signature.toLowerCase()),
          }),
      )
    }

    /** Every body PingRecipient (or its code at `address`) received from `srcChainId`, in order. */
    const pingedBodies = async (srcChainId: number, address: Address = ping): Promise<ReadonlyArray<Hex>> => {
      const logs = await publicClient.getContractEvents({
        address,
        abi: pingRecipientAbi,
        eventName: "Pinged",
        args: { srcChainId: BigInt(srcChainId) },
        fromBlock: 0n,
      })
      return logs.map((log) => log.args.body!)
    }

    /** The config of a submitter for chain 902 with key 2, settings overridable. */
    /** The config of a submitter with `submitter`'s settings, reaching the chain at `rpcUrl` (anvil's by default). */
    const configWith = (
      submitter: Record<string, unknown> = {},
      rpcUrl: string = anvil.rpcUrl,
    ): ChorusConfig =>
      decodeConfig({
        network: { registryChainId: DST_CHAIN_ID, registry: registry.toLowerCase() },
        chains: [
          {
            chainId: DST_CHAIN_ID,
            rpcUrls: [rpcUrl],
            outbox: "0x000000000000000000000000000000000000dead",
            inbox: inbox.toLowerCase(),
          },
        ],
        submitters: [
          { chainId: DST_CHAIN_ID, privateKey: ANVIL_KEYS[2], windowMs: 0, pollIntervalMs: 50, ...submitter },
        ],
      })

    return {
      anvil,
      publicClient,
      testClient,
      owner: clients.walletClient,
      otherRelayer: wallet(ANVIL_KEYS[1]),
      /** The submitter's own account, sending behind its back: a send whose record was lost. */
      submitterAccount: wallet(ANVIL_KEYS[2]),
      operators,
      registry,
      inbox,
      ping,
      reverting,
      burner,
      sign,
      pingedBodies,
      configWith,
      stop: () => anvil.stop(),
    }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}

/**
 * A fresh embedded bus in a temporary directory, every topic created.
 *
 * @example
 * ```ts
 * const bus = await openTestBus()
 * await bus.close()
 * ```
 */
export const openTestBus = async (): Promise<{ bus: EmbeddedBus; close(): Promise<void> }> => {
  const dataDir = await mkdtemp(join(tmpdir(), "chorus-submitter-"))
  const bus = await openEmbeddedBus({ dataDir })
  await bus.ensureTopics(ALL_TOPICS)
  return {
    bus,
    close: async () => {
      await bus.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * Publishes input envelopes, in order.
 *
 * @example
 * ```ts
 * await publish(bus, [attested, ...chunks])
 * ```
 */
export const publish = (bus: EmbeddedBus, envelopes: ReadonlyArray<Envelope>) => publishEvents(bus, envelopes)

/**
 * Waits until the submitter of chain 902 has folded everything on its upstream topics (its group committed
 * every record), so the next tick plans from all of it rather than from whatever was folded so far.
 *
 * @example
 * ```ts
 * await publish(bus, [attested, ...chunks])
 * await folded(bus)
 * ```
 */
export const folded = async (bus: EmbeddedBus, timeoutMs = 10_000) => {
  const group = `chorus.submitter.${DST_CHAIN_ID}`
  const topics = [TOPICS.checkpointsAttested.name, TOPICS.messagesProven.name]
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let behind = 0
    for (const topic of topics) {
      const committed = new Map(
        (await bus.committedOffsets(group, topic)).map((p) => [p.partition, p.offset]),
      )
      for (const { partition, high } of await bus.watermarks(topic)) {
        behind += Math.max(0, high - (committed.get(partition) ?? 0))
      }
    }
    if (behind === 0) return
    if (Date.now() > deadline) throw new Error(`the submitter has ${behind} upstream record(s) left to fold`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Everything on `chorus.deliveries` about source chain `srcChainId`.
 *
 * @example
 * ```ts
 * const types = (await deliveries(bus, 777)).map((e) => e.type)
 * ```
 */
export const deliveries = async (bus: EmbeddedBus, srcChainId: number): Promise<Envelope[]> => {
  const out: Envelope[] = []
  for await (const read of readEvents(bus, { topic: TOPICS.deliveries.name, from: "earliest" })) {
    if (!read.ok) throw read.error
    const event = read.envelope.event
    const src =
      "lane" in event ? event.lane.srcChainId : "checkpoint" in event ? event.checkpoint.srcChainId : null
    if (src === srcChainId) out.push(read.envelope)
  }
  return out.sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
}

/**
 * Calls `tick()` until `done` holds for a result, and returns every result seen.
 *
 * @example
 * ```ts
 * await tickUntil(submitter, (r) => r.kind === "idle", "the submitter to go idle")
 * ```
 */
export const tickUntil = async (
  submitter: { tick(): Promise<TickResult> },
  done: (result: TickResult) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<TickResult[]> => {
  const seen: TickResult[] = []
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const result = await submitter.tick()
    seen.push(result)
    if (done(result)) return seen
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last results: ${JSON.stringify(seen.slice(-5))}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

let replays = 0

/**
 * Replays the submitter over the whole log (`replay`, then `diffShadowTopic` of each shadow, as `chorus
 * replay submitter` and `chorus diff` do) and checks the replay made, from the answers the submitter
 * recorded, every record it wrote on `chorus.deliveries` — the same ids, nothing missing, nothing extra —
 * and that each of those records stands beside the read it was made from.
 *
 * @example
 * ```ts
 * await expectReplayReproduces(bus, config)
 * ```
 */
export const expectReplayReproduces = async (bus: EmbeddedBus, config: ChorusConfig): Promise<void> => {
  // A read on this topic is not the submitter's: it writes its reads on the reads topic alone.
  const mine = (e: Envelope) => e.producer.service === "submitter" && e.type !== "DestinationRead"
  const written: Envelope[] = []
  for await (const read of readEvents(bus, { topic: TOPICS.deliveries.name, from: "earliest" })) {
    if (read.ok && mine(read.envelope)) written.push(read.envelope)
  }
  const steps: Envelope[] = []
  for await (const read of readEvents(bus, { topic: TOPICS.laneReads.name, from: "earliest" })) {
    if (read.ok && read.envelope.type === "DestinationRead") steps.push(read.envelope)
  }
  const stepKeys = new Set(steps.map((s) => `${s.causationId}@${s.time}`))
  // Every record but a core's own refusal of a proof chunk was made by a step, beside its read.
  const unread = written.filter(
    (e) => e.type !== "ProofRefused" && !stepKeys.has(`${e.causationId}@${e.time}`),
  )
  expect(unread.map((e) => `${e.type} ${e.id}`)).toEqual([])

  const manifest = await replay({
    bus,
    targets: await replayTargets("submitter", config),
    from: { kind: "offset", offset: 0 },
    suffix: `reproduce-${++replays}`,
  })
  expect(manifest.counts.undecodable).toBe(0)
  const shadow = manifest.shadows.find((s) => s.productionTopic === TOPICS.deliveries.name)!
  const report = await diffShadowTopic(bus, {
    productionTopic: shadow.productionTopic,
    shadowTopic: shadow.shadowTopic,
  })
  expect(report.diff.differences).toEqual([])
  expect(report.diff.counts.production).toBe(new Set(written.map((e) => e.id)).size)
  expect(report.diff.counts.identical).toBe(report.diff.counts.production)
}
