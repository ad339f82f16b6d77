/**
 * What a replay runs for each instance of a service, read from the
 * service's definition: the core production runs, the producer instance it
 * stamps, the input topics it folds, and the topics its core writes.
 *
 * A service whose definition says it is not replayable (the auditor) is
 * refused with the definition's reason (`NotReplayableError`).
 *
 * @module
 */

import { Schema } from "effect"
import { ChorusError } from "../../errors/index.ts"
import { type ServiceName, TOPICS, type TopicName } from "../../topology/index.ts"
import { ChorusConfig } from "../config/index.ts"
import { SERVICE_DEFINITIONS } from "../registry.ts"
import { type LaneCore, type ServiceDefinition, selectInstances } from "../runtime/index.ts"
import type { InputClaims } from "../runtime/service-definition.ts"

/** The services whose outputs a replay reproduces. */
export const REPLAYABLE_SERVICES: ReadonlyArray<string> = SERVICE_DEFINITIONS.filter(
  (d) => d.replay.kind === "replayable",
).map((d) => d.name)

/**
 * Why a service cannot be replayed, or `undefined` if it can.
 *
 * @example
 * ```ts
 * notReplayableReason("proof-builder") // undefined
 * notReplayableReason("auditor")       // "the auditor writes no event to the bus, …"
 * ```
 */
export const notReplayableReason = (service: string): string | undefined => {
  const definition = SERVICE_DEFINITIONS.find((d) => d.name === service)
  if (definition === undefined) {
    return `it is not a Chorus service; replayable: ${REPLAYABLE_SERVICES.join(", ")}`
  }
  return definition.replay.kind === "replayable" ? undefined : definition.replay.reason
}

/** A service a replay cannot run. */
export class NotReplayableError extends ChorusError {
  override readonly name = "NotReplayableError"
  readonly service: string
  constructor(service: string, reason: string) {
    super(`${service} cannot be replayed: ${reason}.`, {
      details: { service },
      hint: `Replayable: ${REPLAYABLE_SERVICES.join(", ")}.`,
    })
    this.service = service
  }
}

/** Whether a replay target folds an event with these claims (type, producer, key) met on input `topic`. */
export type InputFilter = (topic: string, record: InputClaims) => boolean

/** One instance of a service, as a replay runs it. */
export interface ReplayTarget {
  readonly service: ServiceName
  /** The producer instance production stamped (so the replay's ids and the reads it matches are production's). */
  readonly instance: string
  /** The input topics, in the order the runtime lists them (the tie-break of the fold order). */
  readonly inputs: ReadonlyArray<TopicName>
  /** Which partitions of the inputs hold this instance's inputs, given their partition count. */
  readonly partitions: (partitionCount: number) => ReadonlyArray<number>
  /** Whether the core takes chain reads recorded on `chorus.lane.reads`. */
  readonly readsRecorded: boolean
  /** Whether the core folds an event with these claims met on input `topic`; the others are not its inputs. Absent: all. */
  readonly folds?: InputFilter
  /** The production topics the core writes. */
  readonly outputs: ReadonlyArray<TopicName>
  /** Fields its outputs carry differently by design (a throwaway signing key), by event type. */
  readonly resigned: Readonly<Record<string, ReadonlyArray<string>>>
  /** Outputs a replay does not make again, and why (the definition's `unreplayed`), or null. */
  readonly unreplayed: { readonly types: ReadonlyArray<string>; readonly reason: string } | null
  /** The core, with its state type erased (a fold only hands it states it made). */
  readonly core: LaneCore<unknown>
}

/** What the core writes: the declared writes, less chain reads, dead letters and its own inputs. */
const outputsOf = (definition: ServiceDefinition, inputs: ReadonlyArray<TopicName>) =>
  definition.writes.filter(
    (topic) =>
      topic !== TOPICS.laneReads.name && topic !== TOPICS.deadLetters.name && !inputs.includes(topic),
  )

/**
 * The instances a replay of `service` runs, built from the config by the
 * service's definition, as its start builds them.
 *
 * `instance` picks one: a chain id for the chain-watcher, an operator's
 * index or address for the operator; the proof-builder and the
 * attestation-collector have one instance and refuse it.
 *
 * @example
 * ```ts
 * const targets = await replayTargets("operator", config)            // one per configured operator
 * const [watcher] = await replayTargets("chain-watcher", config, { instance: "901" })
 * await replayTargets("auditor", config)                             // rejects with NotReplayableError
 * ```
 */
export const replayTargets = async (
  service: string,
  config: ChorusConfig,
  options: { readonly instance?: string } = {},
): Promise<ReadonlyArray<ReplayTarget>> => {
  const definition = SERVICE_DEFINITIONS.find((d) => d.name === service)
  const spec = definition?.replay
  if (definition === undefined || spec === undefined || spec.kind !== "replayable") {
    throw new NotReplayableError(service, notReplayableReason(service) ?? "it has no replay target")
  }
  const inputs = spec.inputs ?? definition.consumes
  const folds = spec.folds
  return Promise.all(
    selectInstances(definition, config, options.instance).map(async (instance) => {
      const core = await spec.core(config, instance)
      coreConfigs.set(core, config)
      return {
        service: definition.name,
        instance: instance.id,
        inputs,
        partitions: (count: number) => spec.partitions(instance, count),
        readsRecorded: spec.readsRecorded,
        ...(folds === undefined
          ? {}
          : { folds: (topic: string, record: InputClaims) => folds(instance, topic as TopicName, record) }),
        outputs: spec.outputs ?? outputsOf(definition, inputs),
        resigned: spec.resigned ?? {},
        unreplayed: spec.unreplayed ?? null,
        core,
      }
    }),
  )
}

/** The config each core `replayTargets` built came from. */
const coreConfigs = new WeakMap<LaneCore<unknown>, ChorusConfig>()

/**
 * Whether `replayTargets` built this core from this config (the same object, or one that encodes the
 * same): what a replay thread, which builds its cores from the config, would build too.
 *
 * @example
 * ```ts
 * const [target] = await replayTargets("proof-builder", config)
 * builtFromConfig(target.core, config)                               // true
 * builtFromConfig(eraseCore(proofBuilderCoreFor(config, { chunkSize: 1 })), config) // false
 * ```
 */
export const builtFromConfig = (core: LaneCore<unknown>, config: ChorusConfig): boolean => {
  const from = coreConfigs.get(core)
  if (from === undefined) return false
  if (from === config) return true
  const encode = Schema.encodeSync(ChorusConfig)
  return JSON.stringify(encode(from)) === JSON.stringify(encode(config))
}
