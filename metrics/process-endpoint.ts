/**
 * A process's metrics and health, wired: the metrics installed as the
 * process's, the bus wrapped to follow its subscriptions, and the HTTP
 * endpoint serving `/metrics`, `/healthz` and `/readyz`. What only a service
 * can read (a submitter's balance and pending queue) the service registers
 * itself, on `processMetrics()`. `chorus run` and `chorus devnet` both open
 * it the same way, before any service starts, so a service's first record
 * is counted and `/readyz` says "not ready" until it is caught up.
 *
 * @module
 */
import type { BusPort } from "../bus/port.ts"
import { makeChainAccess } from "../chains/index.ts"
import type { ChorusConfig } from "../services/config/index.ts"
import { ChorusMetrics } from "./chorus-metrics.ts"
import { freshOnce } from "./fresh-once.ts"
import { type MeteredBus, meteredBus } from "./metered-bus.ts"
import { installProcessMetrics } from "./process-metrics.ts"
import { busAnswers, caughtUp, type ReadinessCheck, readiness, rpcAnswers } from "./readiness.ts"
import { type ListenAddress, serveMetrics } from "./server.ts"

export interface ProcessEndpoint {
  /** The bus to give the services: the one opened, followed. */
  readonly bus: MeteredBus
  readonly metrics: ChorusMetrics
  /** `host:port` served. */
  readonly address: string
  /** Adds the RPC of each of the config's chains to `/readyz` (for a process that opened before it had a config). */
  watchChains(config: ChorusConfig): void
  /** Says the services started: until then `/readyz` answers 503 (`started`), whatever else holds. */
  markStarted(): void
  /** Stops serving and uninstalls the metrics (the bus is the caller's to close). */
  close(): Promise<void>
}

/**
 * Serves a process's metrics and health on `listen`.
 *
 * @example
 * ```ts
 * const endpoint = await openProcessEndpoint({ listen: parseListen("127.0.0.1:9464"), bus, config })
 * await startServices({ bus: endpoint.bus, … })
 * ```
 */
/** Probes fresh for this long are served again: a fast poller costs the RPCs and the bus no more. */
const READY_FRESH_MS = 1_000

export const openProcessEndpoint = async (options: {
  readonly listen: ListenAddress
  readonly bus: BusPort
  /** The chains whose RPCs `/readyz` checks (later, with `watchChains`, when there is none yet). */
  readonly config?: ChorusConfig
}): Promise<ProcessEndpoint> => {
  const metrics = new ChorusMetrics()
  const uninstall = installProcessMetrics(metrics)
  const bus = meteredBus(options.bus, metrics)
  let started = false
  const checks: ReadinessCheck[] = [
    { name: "started", probe: async () => (started ? null : "the services are starting") },
    busAnswers(bus),
    caughtUp(bus),
  ]
  const watchChains = (config: ChorusConfig) => {
    checks.push(
      ...rpcAnswers(
        makeChainAccess(config),
        config.chains.map((c) => c.chainId),
      ),
    )
  }
  if (options.config !== undefined) watchChains(options.config)
  let server: Awaited<ReturnType<typeof serveMetrics>>
  try {
    server = await serveMetrics({
      listen: options.listen,
      metrics,
      ready: freshOnce(READY_FRESH_MS, () => readiness(checks)),
    })
  } catch (error) {
    uninstall()
    throw error
  }
  return {
    bus,
    metrics,
    address: server.address,
    watchChains,
    markStarted: () => {
      started = true
    },
    close: async () => {
      await server.close()
      uninstall()
    },
  }
}
