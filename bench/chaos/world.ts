/**
 * The world of a chaos run: the devnet's chains, contracts and operators
 * (`cli/devnet/world.ts`), the hostile recipients on every chain, and the
 * config file of every service process, each naming that process's own RPC
 * proxies.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Address } from "viem"
import { type DevnetWorld, startDevnetWorld } from "../../cli/devnet/world.ts"
import { deployHostileRecipients, type HostileRecipients } from "./hostile-recipients.ts"
import type { RunProxies } from "./rpc-proxies.ts"
import { type ChaosPlan, instanceOfUnit, type MessageKind } from "./schedule.ts"

export type RunBus =
  | { readonly kind: "kafka"; readonly brokers: ReadonlyArray<string> }
  | { readonly kind: "embedded"; readonly dataDir: string }

export interface ChaosWorld {
  readonly devnet: DevnetWorld
  readonly hostile: ReadonlyMap<number, HostileRecipients>
  /** The recipient a message of this kind is sent to on its destination. */
  recipientOf(kind: MessageKind, dstChainId: number): Address
  stop(): Promise<void>
}

/**
 * Starts the chains and deploys everything, hostile recipients included.
 *
 * @example
 * ```ts
 * const world = await startChaosWorld(plan)
 * world.recipientOf("gas-burner", 902) // the GasBurnerRecipient on chain 902
 * ```
 */
export const startChaosWorld = async (plan: ChaosPlan): Promise<ChaosWorld> => {
  const devnet = await startDevnetWorld({
    chainIds: plan.chains,
    weights: plan.weights,
    thresholdBps: plan.thresholdBps,
  })
  try {
    const hostile = new Map(
      await Promise.all(
        devnet.chains.map(
          async (chain) => [chain.chainId, await deployHostileRecipients(chain, plan.seed)] as const,
        ),
      ),
    )
    const chainOf = (chainId: number) => devnet.chains.find((c) => c.chainId === chainId)!
    return {
      devnet,
      hostile,
      recipientOf: (kind, dstChainId) => {
        const recipients = hostile.get(dstChainId)!
        switch (kind) {
          case "ping":
          case "max-gas":
            return chainOf(dstChainId).recipient
          case "gas-burner":
            return recipients.gasBurner
          case "return-bomb":
            return recipients.returnBomb
          case "reentrant":
            return recipients.reentrant
          case "no-code":
            return recipients.noCode
        }
      },
      stop: () => devnet.stop(),
    }
  } catch (error) {
    await devnet.stop()
    throw error
  }
}

type ConfigJson = Record<string, unknown> & {
  chains: Array<Record<string, unknown> & { chainId: number; rpcUrls: string[] }>
  operators: Array<Record<string, unknown>>
}

/**
 * Writes the config of every service process (`<dir>/config/<unit>.json`) and the deployment's own
 * (`<dir>/config.json`, the chains' true URLs, for the incident tools), and returns the units' paths.
 *
 * @example
 * ```ts
 * const configs = writeConfigs(plan, world, proxies, runDir, { kind: "kafka", brokers: ["127.0.0.1:9092"] })
 * configs.get("submitter-902") // "<runDir>/config/submitter-902.json"
 * ```
 */
export const writeConfigs = (
  plan: ChaosPlan,
  world: ChaosWorld,
  proxies: RunProxies,
  dir: string,
  bus: RunBus,
): { readonly units: ReadonlyMap<string, string>; readonly tools: string } => {
  const busSection = bus.kind === "kafka" ? { brokers: [...bus.brokers] } : { dataDir: bus.dataDir }
  const base = () => world.devnet.configJson(busSection) as ConfigJson
  mkdirSync(join(dir, "config"), { recursive: true })
  const write = (path: string, json: unknown) => {
    writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`)
    return path
  }
  const tools = write(join(dir, "config.json"), base())
  const units = new Map<string, string>()
  for (const unit of plan.units) {
    const json = base()
    const owner = unit === "all" ? "shared" : instanceOfUnit(unit)
    for (const chain of json.chains) chain.rpcUrls = [proxies.urlOf(owner, chain.chainId)]
    if (unit === "all") {
      const byChain = (who: string) =>
        Object.fromEntries(json.chains.map((c) => [String(c.chainId), [proxies.urlOf(who, c.chainId)]]))
      json.proofBuilder = { ...(json.proofBuilder as object), rpcUrls: byChain("proof-builder") }
      // The one process runs every configured operator: the offline one is left out of its config.
      json.operators = json.operators
        .map((operator, i) => ({ operator, i }))
        .filter(({ i }) => i !== plan.roles.offline)
        .map(({ operator, i }) => ({ ...operator, rpcUrls: byChain(`operator-${i}`) }))
    }
    units.set(unit, write(join(dir, "config", `${unit}.json`), json))
  }
  return { units, tools }
}
