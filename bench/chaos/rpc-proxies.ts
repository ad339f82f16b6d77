/**
 * The RPC every service instance of a chaos run reaches its chains
 * through: one faulty proxy (`test/fixtures/faulty-rpc.ts`) per instance and
 * chain, each seeded from the run's seed, with the faults the plan gives
 * that instance.
 *
 * On Kafka every service instance is its own process with its own config,
 * so each gets its own proxies. On the embedded bus one process runs every
 * service, and the config separates only what it can: the chains' URLs
 * (`shared`: the watchers, the submitters and the collector), the
 * proof-builder's (`proofBuilder.rpcUrls`) and each operator's
 * (`operators[].rpcUrls`).
 *
 * @module
 */
import {
  type FaultyRpc,
  type FaultyRpcStats,
  type RpcFaults,
  startFaultyRpc,
} from "../../test/fixtures/faulty-rpc.ts"
import { randomFor } from "./random.ts"
import { type ChaosPlan, instanceOfUnit } from "./schedule.ts"

/** Who owns a set of proxies: a unit's name on Kafka, or `shared`, `proof-builder`, `operator-<i>` embedded. */
export type ProxyOwner = string

/** Share of requests failed, and the latency every request gets, with `rpc-errors`. */
export const RPC_ERROR_RATE = 0.1
export const RPC_LATENCY_MS = [0, 400] as const
export const DROPPED_LOGS_RATE = 0.2
export const LOST_SEND_ANSWERS_RATE = 0.1
export const LIE_RATE = 0.5

/** The proxy owners of a run: on Kafka one per service instance, whose members share it. */
export const proxyOwnersOf = (plan: ChaosPlan): ProxyOwner[] =>
  plan.bus === "kafka"
    ? [...new Set(plan.units.map(instanceOfUnit))]
    : [
        "shared",
        "proof-builder",
        ...plan.weights.map((_, i) => `operator-${i}`).filter((o) => o !== `operator-${plan.roles.offline}`),
      ]

const watches = (owner: ProxyOwner, chainId: number) =>
  owner === "shared" || owner === `chain-watcher-${chainId}`
const submitsTo = (owner: ProxyOwner, chainId: number) =>
  owner === "shared" || owner === `submitter-${chainId}`

/**
 * The faults one owner's proxy for one chain injects.
 *
 * @example
 * ```ts
 * rpcFaultsOf(plan, "operator-2", 901, outbox) // { errorRate: 0.1, latencyMs: [0, 400], lieRate: 0.5 } when operator 2 lies
 * ```
 */
export const rpcFaultsOf = (
  plan: ChaosPlan,
  owner: ProxyOwner,
  chainId: number,
  outbox: string,
): RpcFaults => {
  const { faults, roles } = plan
  return {
    ...(faults.has("rpc-errors") ? { errorRate: RPC_ERROR_RATE, latencyMs: RPC_LATENCY_MS } : {}),
    ...(roles.lossyWatcher === chainId && watches(owner, chainId)
      ? { dropLogsRate: DROPPED_LOGS_RATE, dropLogsOf: [outbox] }
      : {}),
    ...(faults.has("lost-sends") && submitsTo(owner, chainId)
      ? { loseSendAnswerRate: LOST_SEND_ANSWERS_RATE }
      : {}),
    ...(roles.liar !== null && owner === `operator-${roles.liar}` ? { lieRate: LIE_RATE } : {}),
  }
}

export interface ProxyReport {
  readonly owner: ProxyOwner
  readonly chainId: number
  readonly faults: RpcFaults
  readonly stats: FaultyRpcStats
}

export interface RunProxies {
  /** The URL an owner's config names for a chain. */
  urlOf(owner: ProxyOwner, chainId: number): string
  reports(): ProxyReport[]
  close(): Promise<void>
}

/**
 * Starts every proxy of a run.
 *
 * @example
 * ```ts
 * const proxies = await startRunProxies(plan, chains)
 * proxies.urlOf("submitter-902", 902) // "http://127.0.0.1:…"
 * ```
 */
export const startRunProxies = async (
  plan: ChaosPlan,
  chains: ReadonlyArray<{ readonly chainId: number; readonly rpcUrl: string; readonly outbox: string }>,
): Promise<RunProxies> => {
  const proxies = new Map<string, { owner: ProxyOwner; chainId: number; faults: RpcFaults; rpc: FaultyRpc }>()
  const key = (owner: ProxyOwner, chainId: number) => `${owner}@${chainId}`
  try {
    for (const owner of proxyOwnersOf(plan)) {
      for (const chain of chains) {
        const faults = rpcFaultsOf(plan, owner, chain.chainId, chain.outbox)
        const rpc = await startFaultyRpc({
          upstream: chain.rpcUrl,
          seed: randomFor(plan.seed, `rpc:${owner}:${chain.chainId}`).seed(),
          faults,
        })
        proxies.set(key(owner, chain.chainId), { owner, chainId: chain.chainId, faults, rpc })
      }
    }
  } catch (error) {
    await Promise.allSettled([...proxies.values()].map((p) => p.rpc.close()))
    throw error
  }
  return {
    urlOf: (owner, chainId) => {
      const proxy = proxies.get(key(owner, chainId))
      if (proxy === undefined) throw new Error(`no RPC proxy for ${owner} on chain ${chainId}`)
      return proxy.rpc.url
    },
    reports: () =>
      [...proxies.values()].map((p) => ({
        owner: p.owner,
        chainId: p.chainId,
        faults: p.faults,
        stats: p.rpc.stats(),
      })),
    close: async () => {
      await Promise.allSettled([...proxies.values()].map((p) => p.rpc.close()))
    },
  }
}
