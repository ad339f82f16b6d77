/**
 * The devnet's chains: three anvils (901–903, 1 s blocks, `finalized` two
 * blocks behind `latest`), the contracts deployed on each, four operators
 * with unequal stake registered on the hub (901) at a 2/3 threshold and
 * mirrored into every Inbox, two recipients per chain (a PingRecipient, and a
 * GatedRecipient that starts closed so messages sent to it fail on purpose),
 * and the configuration file that describes it all for the services.
 *
 * Contracts are deployed with automine (instant), then each chain switches
 * to interval mining, so setup takes about a second per chain rather than a
 * block per transaction.
 *
 * @module
 */
import {
  type Address,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  stringToHex,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { chainDefinition } from "../../chains/evm/client.ts"
import { nodeFetch } from "../../chains/evm/node-fetch.ts"
import { ANVIL_DEFAULT_KEYS } from "../../contracts/anvil/index.ts"
import {
  type Anvil,
  configureInbox,
  deployGatedRecipient,
  deployInbox,
  deployOperatorRegistry,
  deployOutbox,
  deployPingRecipient,
  readOperatorSet,
  startAnvil,
} from "../../contracts/index.ts"

/**
 * anvil's default funded accounts (the well-known test mnemonic): deployer (account 0, which also owns every
 * GatedRecipient), three submitters (1–3), the traffic sender (4).
 */
export const ANVIL_KEYS = {
  deployer: ANVIL_DEFAULT_KEYS[0],
  submitters: [ANVIL_DEFAULT_KEYS[1], ANVIL_DEFAULT_KEYS[2], ANVIL_DEFAULT_KEYS[3]],
  sender: ANVIL_DEFAULT_KEYS[4],
} as const satisfies Record<string, Hex | ReadonlyArray<Hex>>

export interface DevnetWorldOptions {
  readonly chainIds?: ReadonlyArray<number>
  /** Seconds per block. Default 1. */
  readonly blockTime?: number
  /** Operator stake weights; unequal by default so stake, not head count, decides. */
  readonly weights?: ReadonlyArray<bigint>
  readonly thresholdBps?: number
  /**
   * Operators configured and running but not in the registry at start (after the weighted ones, weight 1500):
   * what a rotation adds (`chorus devnet --rotate`). Default 0.
   */
  readonly standby?: number
}

export interface DevnetChain {
  readonly chainId: number
  readonly anvil: Anvil
  readonly rpcUrl: string
  readonly outbox: Address
  readonly inbox: Address
  /** The PingRecipient: accepts every message its Inbox delivers. */
  readonly recipient: Address
  /** The GatedRecipient: fails every message (`Closed`) until its owner opens it. Deployed closed. */
  readonly gatedRecipient: Address
  readonly client: PublicClient
}

export interface DevnetOperator {
  readonly address: Address
  readonly privateKey: Hex
  readonly weight: bigint
  /** In the hub registry at start; a standby operator runs, and waits to be added. */
  readonly registered: boolean
}

export interface DevnetWorld {
  readonly chains: ReadonlyArray<DevnetChain>
  readonly registry: Address
  readonly operators: ReadonlyArray<DevnetOperator>
  readonly thresholdBps: number
  /** The account that deployed everything and owns every GatedRecipient (anvil account 0). */
  readonly owner: Address
  /** The configuration file's content (encoded JSON) for every service of this devnet. */
  configJson(bus: {
    readonly brokers?: ReadonlyArray<string>
    readonly dataDir?: string
  }): Record<string, unknown>
  /** Stops every anvil; safe to call more than once. */
  stop(): Promise<void>
}

/** The devnet's chain ids. */
export const DEVNET_CHAIN_IDS: ReadonlyArray<number> = [901, 902, 903]

const operatorKey = (index: number): Hex => keccak256(stringToHex(`chorus-devnet-operator-${index}`))

/**
 * The producers that sign bus records with a key of their own (operators and submitters derive theirs from
 * their chain keys); a devnet's are well-known seeds, like its anvil keys.
 */
const DEVNET_PRODUCERS = [
  "proof-builder",
  "attestation-collector",
  "set-watcher",
  "retry",
  "chain-resume",
] as const
export const devnetProducerKey = (service: string): Hex =>
  keccak256(stringToHex(`chorus-devnet-producer-${service}`))

/**
 * A raw JSON-RPC call, for the anvil methods viem's clients do not wrap
 * (`evm_setIntervalMining`, …); an RPC error throws, naming the method.
 *
 * @example
 * ```ts
 * await rpc(chain.rpcUrl, "evm_setIntervalMining", [0])
 * ```
 */
export const rpc = async (url: string, method: string, params: unknown[]): Promise<unknown> => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  })
  const json = (await response.json()) as { result?: unknown; error?: { message: string } }
  if (json.error !== undefined) throw new Error(`${method} failed on ${url}: ${json.error.message}`)
  return json.result
}

/**
 * Starts the devnet's chains and deploys everything. Every anvil is stopped
 * if any step fails, and on process exit or Ctrl-C (startAnvil reaps them).
 *
 * @example
 * ```ts
 * const world = await startDevnetWorld()
 * writeFileSync("config.json", JSON.stringify(world.configJson({ dataDir: ".data" })))
 * await world.stop()
 * ```
 */
export const startDevnetWorld = async (options: DevnetWorldOptions = {}): Promise<DevnetWorld> => {
  const chainIds = options.chainIds ?? DEVNET_CHAIN_IDS
  const weights = options.weights ?? [4000n, 3000n, 2000n, 1000n]
  const thresholdBps = options.thresholdBps ?? 6667
  const blockTime = options.blockTime ?? 1
  const anvils: Anvil[] = []
  const stop = async () => {
    await Promise.allSettled(anvils.map((a) => a.stop()))
  }
  try {
    for (const chainId of chainIds) anvils.push(await startAnvil({ chainId, slotsInAnEpoch: 1 }))
    const operators = [...weights, ...Array<bigint>(options.standby ?? 0).fill(1500n)].map(
      (weight, index) => {
        const privateKey = operatorKey(index)
        return {
          address: privateKeyToAccount(privateKey).address,
          privateKey,
          weight,
          registered: index < weights.length,
        }
      },
    )
    const deployer = privateKeyToAccount(ANVIL_KEYS.deployer)
    const clientsOf = (anvil: Anvil) => {
      const chain = chainDefinition(anvil.chainId, [anvil.rpcUrl])
      // The traffic's sends go through the public client: the same cheaper fetch as the services' reads.
      const transport = http(anvil.rpcUrl, { fetchFn: nodeFetch })
      const publicClient = createPublicClient({ chain, transport }) as PublicClient
      const walletClient = createWalletClient({ chain, account: deployer, transport })
      return { publicClient, walletClient }
    }
    const hub = anvils[0]!
    const registry = await deployOperatorRegistry(clientsOf(hub), {
      operators: operators.filter((o) => o.registered).map((o) => ({ address: o.address, weight: o.weight })),
      thresholdBps,
    })
    const operatorSet = await readOperatorSet({ publicClient: clientsOf(hub).publicClient, registry })
    const deployed = await Promise.all(
      anvils.map(async (anvil) => {
        const clients = clientsOf(anvil)
        const outbox = await deployOutbox(clients)
        const inbox = await deployInbox(clients, { registryChainId: hub.chainId, registry })
        const recipient = await deployPingRecipient(clients, { inbox })
        const gatedRecipient = await deployGatedRecipient(clients, { inbox })
        return { anvil, clients, outbox, inbox, recipient, gatedRecipient }
      }),
    )
    await Promise.all(
      deployed.map(({ anvil, clients, inbox }) =>
        configureInbox(clients, {
          inbox,
          operatorSet,
          sources: deployed
            .filter((d) => d.anvil !== anvil)
            .map((d) => ({ chainId: BigInt(d.anvil.chainId), outbox: d.outbox })),
        }),
      ),
    )
    // From here on blocks come every `blockTime` seconds, as on a rollup.
    await Promise.all(anvils.map((a) => rpc(a.rpcUrl, "evm_setIntervalMining", [blockTime])))
    const chains: DevnetChain[] = deployed.map(
      ({ anvil, clients, outbox, inbox, recipient, gatedRecipient }) => ({
        chainId: anvil.chainId,
        anvil,
        rpcUrl: anvil.rpcUrl,
        outbox,
        inbox,
        recipient,
        gatedRecipient,
        client: clients.publicClient,
      }),
    )
    return {
      chains,
      registry,
      operators,
      thresholdBps,
      owner: deployer.address,
      stop,
      configJson: (bus) => ({
        network: { registryChainId: hub.chainId, registry },
        chains: chains.map((c) => ({
          chainId: c.chainId,
          name: `devnet-${c.chainId}`,
          rpcUrls: [c.rpcUrl],
          outbox: c.outbox,
          inbox: c.inbox,
          finality: { tag: "finalized" },
        })),
        bus: {
          ...bus,
          authentication: {
            enforce: true,
            producers: [
              // One watcher key per chain: a watcher may state facts of its own chain only.
              ...chains.map((c) => ({
                service: "chain-watcher",
                instance: String(c.chainId),
                privateKey: devnetProducerKey(`chain-watcher-${c.chainId}`),
              })),
              ...DEVNET_PRODUCERS.map((service) => ({ service, privateKey: devnetProducerKey(service) })),
            ],
          },
        },
        chainWatcher: { pollIntervalMs: 500 },
        // A hub change is observed within a block or so: rotations are measured in destination blocks.
        setWatcher: { pollIntervalMs: 250, reannounceAfterMs: 5_000 },
        proofBuilder: { chunkSize: 16 },
        operators: operators.map((o) => ({ privateKey: o.privateKey, finalityWaitMs: 60_000 })),
        attestationCollector: { proposalTtlMs: 300_000 },
        submitters: chains.map((c, index) => ({
          chainId: c.chainId,
          privateKey: ANVIL_KEYS.submitters[index % ANVIL_KEYS.submitters.length],
          batchSize: 64,
          windowMs: 500,
          confirmations: 1,
          pollIntervalMs: 250,
        })),
      }),
    }
  } catch (error) {
    await stop()
    throw error
  }
}
