/**
 * What a replay runs for each service: its pure core built from the config
 * exactly as the service's start function builds it, the producer instance
 * it stamps, the input topics it folds, and the topics its core writes.
 *
 * Replayable: chain-watcher (one instance per watched chain, over its reads
 * on `chorus.watcher.reads`), proof-builder, operator (one instance per
 * configured operator, stamped with its checksummed address as
 * `startOperator` does) and attestation-collector. Not replayable: the
 * submitter, whose core only folds state and emits nothing; every event it
 * writes is made by its ticker from the clock and the destination chain's
 * answers (`NotReplayableError` says so).
 *
 * @module
 */
import { privateKeyToAccount } from "viem/accounts"
import { partitionForKey } from "../../bus/partitioner/index.ts"
import { getCheckpointDomain } from "../../contracts/index.ts"
import { SERVICES, TOPICS, type TopicName } from "../../topology/index.ts"
import { makeCollectorCore } from "../attestation-collector/index.ts"
import { makeWatcherCore } from "../chain-watcher/index.ts"
import { type ChorusConfig, ConfigError, resolvePrivateKey } from "../config/index.ts"
import { makeOperatorCore } from "../operator/index.ts"
import { proofBuilderCoreFor } from "../proof-builder/index.ts"
import type { LaneCore } from "../runtime/index.ts"

/** The services whose outputs a replay reproduces. */
export const REPLAYABLE_SERVICES = [
  "chain-watcher",
  "proof-builder",
  "operator",
  "attestation-collector",
] as const
export type ReplayableService = (typeof REPLAYABLE_SERVICES)[number]

/** Why the submitter cannot be replayed (shown by `chorus replay --help` and its refusal). */
export const SUBMITTER_NOT_REPLAYABLE =
  "the submitter's core only folds its inputs into state and emits nothing: every event it writes (roots committed, " +
  "deliveries submitted, confirmed, failed or skipped, answers to retry requests) is made by its ticker from the clock " +
  "and the destination chain's answers (nonces, fees, receipts, the Inbox's state), which the log does not hold as " +
  "inputs. Replay the services upstream of it (proof-builder, attestation-collector) to check what it was given"

/**
 * Why a service cannot be replayed, or `undefined` if it can.
 *
 * @example
 * ```ts
 * notReplayableReason("proof-builder") // undefined
 * notReplayableReason("submitter")     // "the submitter's core only folds its inputs …"
 * ```
 */
export const notReplayableReason = (service: string): string | undefined => {
  if ((REPLAYABLE_SERVICES as ReadonlyArray<string>).includes(service)) return undefined
  switch (service) {
    case "submitter":
      return SUBMITTER_NOT_REPLAYABLE
    case "auditor":
      return "the auditor writes no event to the bus, only its local index, which it rebuilds from the log itself"
    default:
      return `it is not a Chorus service; replayable: ${REPLAYABLE_SERVICES.join(", ")}`
  }
}

/** A service a replay cannot run. */
export class NotReplayableError extends Error {
  override readonly name = "NotReplayableError"
  readonly service: string
  constructor(service: string, reason: string) {
    super(`${service} cannot be replayed: ${reason}.`)
    this.service = service
  }
}

/** One instance of a service, as a replay runs it. */
export interface ReplayTarget {
  readonly service: ReplayableService
  /** The producer instance production stamped (so the replay's ids and the reads it matches are production's). */
  readonly instance: string
  /** The input topics, in the order the runtime lists them (the tie-break of the fold order). */
  readonly inputs: ReadonlyArray<TopicName>
  /** Which partitions of the inputs hold this instance's inputs, given their partition count. */
  readonly partitions: (partitionCount: number) => ReadonlyArray<number>
  /** Whether the core takes chain reads recorded on `chorus.lane.reads`. */
  readonly readsRecorded: boolean
  /** The production topics the core writes. */
  readonly outputs: ReadonlyArray<TopicName>
  /** The core, with its state type erased (a fold only hands it states it made). */
  readonly core: LaneCore<unknown>
}

/**
 * Erases a core's state type; safe because a fold only passes the core states the core returned.
 *
 * @example
 * ```ts
 * const shadow = { ...target, core: eraseCore(proofBuilderCoreFor(config, { chunkSize: 8 })) }
 * ```
 */
export const eraseCore = <S>(core: LaneCore<S>): LaneCore<unknown> => core as unknown as LaneCore<unknown>

const every = (count: number) => Array.from({ length: count }, (_, p) => p)

/** What the service's core writes: its declared writes, less chain reads, dead letters and its own inputs. */
const outputsOf = (
  service: ReplayableService,
  inputs: ReadonlyArray<TopicName>,
): ReadonlyArray<TopicName> => {
  const declared = SERVICES.find((s) => s.name === service)!
  return declared.writes.filter(
    (topic) =>
      topic !== TOPICS.laneReads.name && topic !== TOPICS.deadLetters.name && !inputs.includes(topic),
  )
}

const badInstance = (service: string, instance: string, known: ReadonlyArray<string>) =>
  new ConfigError("<command line>", [
    {
      path: "--instance",
      message: `no ${service} ${JSON.stringify(instance)} in the config (configured: ${known.join(", ")})`,
    },
  ])

const singleInstance = (service: string, instance: string | undefined) => {
  if (instance !== undefined) {
    throw new ConfigError("<command line>", [
      { path: "--instance", message: `${service} has a single instance per cluster; drop --instance` },
    ])
  }
}

const domainOf = (config: ChorusConfig) =>
  getCheckpointDomain({
    registryChainId: config.network.registryChainId,
    registry: config.network.registry as `0x${string}`,
  })

/**
 * The instances a replay of `service` runs, built from the config as the
 * service's start function builds them.
 *
 * `instance` picks one: a chain id for the chain-watcher, an operator's
 * index or address for the operator; the proof-builder and the
 * attestation-collector have one instance and refuse it.
 *
 * @example
 * ```ts
 * const targets = replayTargets("operator", config)            // one per configured operator
 * const [watcher] = replayTargets("chain-watcher", config, { instance: "901" })
 * replayTargets("submitter", config)                           // throws NotReplayableError
 * ```
 */
export const replayTargets = (
  service: string,
  config: ChorusConfig,
  options: { readonly instance?: string } = {},
): ReadonlyArray<ReplayTarget> => {
  const { instance } = options
  switch (service) {
    case "chain-watcher": {
      const inputs = [TOPICS.watcherReads.name]
      const chains = (config.chainWatcher.chains ?? config.chains.map((c) => c.chainId)).map(String)
      if (instance !== undefined && !chains.includes(instance)) throw badInstance(service, instance, chains)
      return chains
        .filter((chainId) => instance === undefined || chainId === instance)
        .map((chainId) => ({
          service,
          instance: chainId,
          inputs,
          // A chain's reads are keyed by its id, so they all sit on one partition.
          partitions: (count: number) => [partitionForKey(chainId, count)],
          readsRecorded: false,
          outputs: outputsOf(service, inputs),
          core: eraseCore(makeWatcherCore(Number(chainId))),
        }))
    }
    case "proof-builder": {
      singleInstance(service, instance)
      const inputs = [TOPICS.messagesObserved.name]
      return [
        {
          service,
          instance: "proof-builder",
          inputs,
          partitions: every,
          readsRecorded: true,
          outputs: outputsOf(service, inputs),
          core: eraseCore(proofBuilderCoreFor(config)),
        },
      ]
    }
    case "operator": {
      const inputs = [TOPICS.checkpointsProposed.name]
      const operators = config.operators.map((operator, index) => {
        const privateKey = resolvePrivateKey(operator.privateKey, `operators[${index}].privateKey`)
        return { index, privateKey, address: privateKeyToAccount(privateKey).address }
      })
      if (operators.length === 0) {
        throw new ConfigError("<config>", [{ path: "operators", message: "no operator is configured" }])
      }
      const chosen = operators.filter(
        (op) =>
          instance === undefined ||
          String(op.index) === instance ||
          op.address.toLowerCase() === instance.toLowerCase(),
      )
      if (chosen.length === 0) {
        throw badInstance(
          service,
          instance!,
          operators.map((op) => `${op.index} (${op.address})`),
        )
      }
      const domain = domainOf(config)
      return chosen.map((op) => ({
        service,
        instance: op.address,
        inputs,
        partitions: every,
        readsRecorded: true,
        outputs: outputsOf(service, inputs),
        core: eraseCore(makeOperatorCore({ privateKey: op.privateKey, domain, chains: config.chains })),
      }))
    }
    case "attestation-collector": {
      singleInstance(service, instance)
      const inputs = [TOPICS.checkpointsProposed.name, TOPICS.attestationsSigned.name]
      return [
        {
          service,
          instance: "attestation-collector",
          inputs,
          partitions: every,
          readsRecorded: true,
          outputs: outputsOf(service, inputs),
          core: eraseCore(
            makeCollectorCore({
              domain: domainOf(config),
              proposalTtlMs: config.attestationCollector.proposalTtlMs,
            }),
          ),
        },
      ]
    }
    default:
      throw new NotReplayableError(service, notReplayableReason(service) ?? "it has no replay target")
  }
}
