/**
 * Starts services by name against one bus: what `chorus run` and the devnet
 * share. Each service can run alone in its own process (`chorus run
 * submitter --instance 902`), or every one of them in one process (`all`).
 *
 * @module
 */

import { privateKeyToAccount } from "viem/accounts"
import type { BusPort } from "../bus/port.ts"
import type { Envelope } from "../schemas/index.ts"
import type { ServiceName } from "../topology/index.ts"
import { startAttestationCollector } from "./attestation-collector/index.ts"
import { auditIndexPath, startAuditor } from "./auditor/index.ts"
import { startChainWatcher } from "./chain-watcher/index.ts"
import { type ChorusConfig, ConfigError, type OperatorConfig, resolvePrivateKey } from "./config/index.ts"
import { startOperator } from "./operator/index.ts"
import { startProofBuilder } from "./proof-builder/index.ts"
import type { RunningService, ServiceLogger } from "./runtime/index.ts"
import { startSubmitter } from "./submitter/index.ts"

export type ServiceSelection = ServiceName | "all"

export const SERVICE_NAMES: ReadonlyArray<ServiceName> = [
  "chain-watcher",
  "proof-builder",
  "operator",
  "attestation-collector",
  "submitter",
  "auditor",
]

export interface StartServicesOptions {
  readonly bus: BusPort
  readonly config: ChorusConfig
  readonly logger: ServiceLogger
  readonly service: ServiceSelection
  /**
   * Which instance of a per-chain or per-operator service: a chain id for
   * chain-watcher and submitter, an operator address or index for operator.
   * Every configured instance when absent.
   */
  readonly instance?: string
  readonly onOutput?: (envelope: Envelope) => void
  /** The auditor's index file; by default derived from the config's `bus` section (see `auditIndexPath`). */
  readonly auditIndex?: string
}

const operatorAddress = (operator: OperatorConfig, index: number): string =>
  privateKeyToAccount(
    resolvePrivateKey(operator.privateKey, `operators[${index}].privateKey`),
  ).address.toLowerCase()

const noInstance = (service: string, instance: string | undefined) => {
  if (instance !== undefined) {
    throw new ConfigError("<command line>", [
      { path: "--instance", message: `${service} has a single instance per cluster; drop --instance` },
    ])
  }
}

const pick = <T>(
  service: string,
  items: ReadonlyArray<T>,
  instance: string | undefined,
  matches: (item: T, index: number) => boolean,
  known: (item: T, index: number) => string,
  path: string,
): ReadonlyArray<T> => {
  if (items.length === 0) {
    throw new ConfigError("<config>", [{ path, message: `no ${service} is configured` }])
  }
  if (instance === undefined) return items
  const chosen = items.filter(matches)
  if (chosen.length === 0) {
    throw new ConfigError("<command line>", [
      {
        path: "--instance",
        message: `no ${service} ${JSON.stringify(instance)} in the config (configured: ${items.map(known).join(", ")})`,
      },
    ])
  }
  return chosen
}

/**
 * Starts the selected services; if one fails to start, the ones already
 * started are stopped before the error is thrown.
 *
 * @example
 * ```ts
 * const running = await startServices({ bus, config, logger, service: "all" })
 * await Promise.all(running.map((s) => s.stop()))
 * ```
 */
export const startServices = async (
  options: StartServicesOptions,
): Promise<ReadonlyArray<RunningService>> => {
  const { bus, config, logger, instance } = options
  const names = options.service === "all" ? SERVICE_NAMES : [options.service]
  if (options.service === "all" && instance !== undefined) noInstance("all", instance)
  const started: RunningService[] = []
  const hooks = options.onOutput === undefined ? {} : { onOutput: options.onOutput }
  try {
    for (const name of names) {
      const log = logger.child({ service: name })
      switch (name) {
        case "chain-watcher": {
          const ids = config.chainWatcher.chains ?? config.chains.map((c) => c.chainId)
          for (const chainId of pick(
            name,
            ids,
            instance,
            (id) => String(id) === instance,
            String,
            "chainWatcher.chains",
          )) {
            started.push(await startChainWatcher({ bus, config, chainId, logger: log.child({ chainId }) }))
          }
          break
        }
        case "proof-builder":
          noInstance(name, instance)
          started.push(await startProofBuilder({ bus, config, logger: log, ...hooks }))
          break
        case "operator": {
          const chosen = pick(
            name,
            config.operators,
            instance,
            (op, index) =>
              String(index) === instance || operatorAddress(op, index) === instance?.toLowerCase(),
            (op, index) => `${index} (${operatorAddress(op, index)})`,
            "operators",
          )
          for (const operator of chosen)
            started.push(await startOperator({ bus, config, operator, logger: log, ...hooks }))
          break
        }
        case "attestation-collector":
          noInstance(name, instance)
          started.push(await startAttestationCollector({ bus, config, logger: log, ...hooks }))
          break
        case "auditor": {
          noInstance(name, instance)
          const indexPath =
            options.auditIndex ??
            auditIndexPath({
              ...(config.bus?.dataDir !== undefined ? { dataDir: config.bus.dataDir } : {}),
              ...(config.bus?.brokers !== undefined ? { brokers: config.bus.brokers } : {}),
            })
          started.push(await startAuditor({ bus, indexPath, logger: log }))
          break
        }
        case "submitter": {
          const chosen = pick(
            name,
            config.submitters,
            instance,
            (s) => String(s.chainId) === instance,
            (s) => String(s.chainId),
            "submitters",
          )
          for (const submitter of chosen) {
            started.push(
              await startSubmitter({
                bus,
                config,
                submitter,
                logger: log.child({ chainId: submitter.chainId }),
                ...hooks,
              }),
            )
          }
          break
        }
      }
    }
    return started
  } catch (error) {
    await Promise.allSettled(started.map((s) => s.stop()))
    throw error
  }
}
