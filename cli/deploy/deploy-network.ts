/**
 * Puts Chorus on the chains a config names, or finds it there: the hub's
 * OperatorRegistry (with its CheckpointFraudProofs) holding the configured
 * operators, an Outbox and an Inbox on every chain, each Inbox trusting the
 * hub's operator set and taking every other chain's Outbox as a source.
 *
 * Idempotent: a contract whose configured address holds code is reused, an
 * Inbox already configured is left alone, and a second run sends no
 * transaction and says so. The order matches `chorus devnet`'s (the hub's
 * registry first, then each chain's Outbox and Inbox), so a fresh anvil gets
 * the addresses a devnet config names.
 *
 * @module
 */
import {
  type Address,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  zeroAddress,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { chainDefinition } from "../../chains/evm/index.ts"
import {
  configureInbox,
  deployInbox,
  deployOperatorRegistry,
  deployOutbox,
  inboxAbi,
  operatorRegistryAbi,
  outboxAbi,
  readOperatorSet,
} from "../../contracts/index.ts"
import { ChorusError } from "../../errors/index.ts"
import type { ChorusConfig } from "../../services/config/index.ts"

export interface DeployRequest {
  readonly config: ChorusConfig
  /**
   * Called at once with each contract deployed, before the next step: a run that fails halfway has written
   * what it deployed, and the next run reuses it instead of deploying it again.
   */
  readonly deployed?: (update: DeployedUpdate) => void
  /** Every operator of the network, with its stake weight. */
  readonly operators: ReadonlyArray<{ readonly address: Address; readonly weight: bigint }>
  readonly thresholdBps: number
  readonly deployerKey: Hex
}

export type DeployedUpdate =
  | { readonly kind: "registry"; readonly address: Address }
  | { readonly kind: "outbox" | "inbox"; readonly chainId: number; readonly address: Address }

/** A contract at a configured address that is not the Chorus contract the config says it is. */
export class NotAChorusContractError extends ChorusError {
  override readonly name = "NotAChorusContractError"
  constructor(what: string, chainId: number, address: string, why: string) {
    super(`the contract at ${address} on chain ${chainId} is not ${what}: ${why}`, {
      details: { chainId, address },
      hint: "fix the address in the config, or write 0x0000000000000000000000000000000000000000 to deploy a new one",
    })
  }
}

/** What a deployment found and did; `changed` is false when it sent nothing. */
export interface DeployResult {
  readonly registry: Address
  readonly chains: ReadonlyArray<{
    readonly chainId: number
    readonly outbox: Address
    readonly inbox: Address
  }>
  readonly steps: ReadonlyArray<string>
  readonly changed: boolean
}

const hasCode = async (client: PublicClient, address: string) =>
  address.toLowerCase() !== zeroAddress &&
  ((await client.getCode({ address: address as Address })) ?? "0x") !== "0x"

/**
 * Deploys what is missing and configures what is not, reporting each step.
 *
 * @example
 * ```ts
 * const result = await deployNetwork({ config, operators, thresholdBps: 6667, deployerKey })
 * result.steps // ["deployed the OperatorRegistry on 901 at 0x…", …] or ["nothing to do: …"]
 * ```
 */
export const deployNetwork = async (request: DeployRequest): Promise<DeployResult> => {
  const { config } = request
  const account = privateKeyToAccount(request.deployerKey)
  const clientsOf = (chainId: number) => {
    const chain = config.chains.find((c) => c.chainId === chainId)!
    const definition = chainDefinition(chainId, chain.rpcUrls)
    const transport = http(chain.rpcUrls[0])
    return {
      publicClient: createPublicClient({ chain: definition, transport }) as PublicClient,
      walletClient: createWalletClient({ chain: definition, account, transport }),
    }
  }
  const steps: string[] = []
  const hub = config.network.registryChainId
  const hubClients = clientsOf(hub)
  let registry = config.network.registry as Address
  if (await hasCode(hubClients.publicClient, registry)) {
    await hubClients.publicClient
      .readContract({ address: registry, abi: operatorRegistryAbi, functionName: "epoch" })
      .catch(() => {
        throw new NotAChorusContractError("an OperatorRegistry", hub, registry, "it does not answer epoch()")
      })
    steps.push(`reused the OperatorRegistry on ${hub} at ${registry}`)
  } else {
    const was = registry
    registry = await deployOperatorRegistry(hubClients, {
      operators: request.operators,
      thresholdBps: request.thresholdBps,
    })
    request.deployed?.({ kind: "registry", address: registry })
    steps.push(
      `deployed the OperatorRegistry (and its CheckpointFraudProofs) on ${hub} at ${registry}${
        was.toLowerCase() === zeroAddress ? "" : ` (nothing was at ${was})`
      }`,
    )
  }
  const operatorSet = await readOperatorSet({ publicClient: hubClients.publicClient, registry })
  const configured = new Set(request.operators.map((o) => o.address.toLowerCase()))
  const onHub = new Set(operatorSet.operators.map((o) => o.toLowerCase()))
  if (configured.size !== onHub.size || [...configured].some((a) => !onHub.has(a))) {
    steps.push(
      `note: the registry's set (epoch ${operatorSet.epoch}, ${onHub.size} operator(s)) is not the configured operators (${configured.size}); change it through the registry's owner (updateOperatorSet), not by redeploying`,
    )
  }

  const chains: Array<{
    chainId: number
    outbox: Address
    inbox: Address
    clients: ReturnType<typeof clientsOf>
  }> = []
  for (const chain of config.chains) {
    const clients = clientsOf(chain.chainId)
    let outbox = chain.outbox as Address
    if (await hasCode(clients.publicClient, outbox)) {
      await clients.publicClient
        .readContract({
          address: outbox,
          abi: outboxAbi,
          functionName: "count",
          args: [BigInt(chain.chainId)],
        })
        .catch(() => {
          throw new NotAChorusContractError(
            "an Outbox",
            chain.chainId,
            outbox,
            "it does not answer count(uint64)",
          )
        })
      steps.push(`reused the Outbox on ${chain.chainId} at ${outbox}`)
    } else {
      outbox = await deployOutbox(clients)
      request.deployed?.({ kind: "outbox", chainId: chain.chainId, address: outbox })
      steps.push(`deployed the Outbox on ${chain.chainId} at ${outbox}`)
    }
    let inbox = chain.inbox as Address
    if (await hasCode(clients.publicClient, inbox)) {
      // An Inbox is bound to one registry for good: one bound to another network's would never take this one's set.
      const [boundChain, boundRegistry] = await Promise.all([
        clients.publicClient.readContract({ address: inbox, abi: inboxAbi, functionName: "registryChainId" }),
        clients.publicClient.readContract({ address: inbox, abi: inboxAbi, functionName: "registry" }),
      ]).catch(() => {
        throw new NotAChorusContractError("an Inbox", chain.chainId, inbox, "it does not answer registry()")
      })
      if (Number(boundChain) !== hub || boundRegistry.toLowerCase() !== registry.toLowerCase()) {
        throw new NotAChorusContractError(
          "an Inbox of this network",
          chain.chainId,
          inbox,
          `it is bound to the registry ${boundRegistry} on chain ${boundChain}, not ${registry} on ${hub}`,
        )
      }
      steps.push(`reused the Inbox on ${chain.chainId} at ${inbox}`)
    } else {
      inbox = await deployInbox(clients, { registryChainId: hub, registry })
      request.deployed?.({ kind: "inbox", chainId: chain.chainId, address: inbox })
      steps.push(`deployed the Inbox on ${chain.chainId} at ${inbox}`)
    }
    chains.push({ chainId: chain.chainId, outbox, inbox, clients })
  }

  for (const { chainId, inbox, clients } of chains) {
    const epoch = await clients.publicClient.readContract({
      address: inbox,
      abi: inboxAbi,
      functionName: "epoch",
    })
    const sources: Array<{ chainId: bigint; outbox: Address }> = []
    for (const other of chains) {
      if (other.chainId === chainId) continue
      const [outbox] = await clients.publicClient.readContract({
        address: inbox,
        abi: inboxAbi,
        functionName: "source",
        args: [BigInt(other.chainId)],
      })
      if (outbox.toLowerCase() !== other.outbox.toLowerCase())
        sources.push({ chainId: BigInt(other.chainId), outbox: other.outbox })
    }
    const needsSet = operatorSet.epoch > epoch
    if (!needsSet && sources.length === 0) continue
    await configureInbox(clients, { inbox, ...(needsSet ? { operatorSet } : {}), sources })
    if (needsSet)
      steps.push(`set the Inbox on ${chainId} to the hub's operator set (epoch ${operatorSet.epoch})`)
    for (const s of sources)
      steps.push(`registered chain ${s.chainId}'s Outbox ${s.outbox} on the Inbox on ${chainId}`)
  }
  const changed = steps.some((s) => !s.startsWith("reused") && !s.startsWith("note:"))
  return {
    registry,
    chains: chains.map(({ chainId, outbox, inbox }) => ({ chainId, outbox, inbox })),
    steps,
    changed,
  }
}
