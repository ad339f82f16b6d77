/**
 * The one definition of a service: what it consumes, reads and writes on
 * the bus, its consumer group, what it reads from chains, the instances a
 * config runs, its pure core and how it starts. The runtime, `chorus run`,
 * `chorus replay`, `chorus topology`, the devnet and the tests all read the
 * definitions (`services/registry.ts`); nothing restates them.
 *
 * Invariants:
 * - A lane service subscribes to exactly `consumes`, in that order (the
 *   tie-break of every fold), under the group `groupOf` fills from the
 *   template; a service with no group (`group: null`) never joins one.
 * - `instances` is the one place a config turns into instances, and
 *   `selectInstances` the one place `--instance` picks among them, with the
 *   same errors for `run` and `replay`.
 * - A replayable service's core is built by `core`, the same function its
 *   start uses, so a replay runs what production ran.
 * - A definition loads its core and its start lazily, so reading the graph
 *   (`chorus topology`, `--help`) does not load every service.
 *
 * @module
 */
import type { BusPort } from "../../bus/port.ts"
import type { Envelope } from "../../schemas/index.ts"
import type { ServiceDeclaration, TopicName } from "../../topology/index.ts"
import { ConfigError } from "../config/config-error.ts"
import type { ChorusConfig } from "../config/index.ts"
import type { LaneCore } from "./lane-core.ts"
import type { ServiceLogger } from "./logger.ts"
import type { RunningService } from "./running-service.ts"

/** One instance of a service, as a config defines it. */
export interface ServiceInstance {
  /** The logical instance it stamps on what it produces: a chain id, an operator's checksummed address, or the service's name. */
  readonly id: string
  /** What `--instance` may call it, besides its id (compared case-insensitively). */
  readonly aliases: ReadonlyArray<string>
  /** How a message lists it, e.g. `1 (0xAbC…)`. */
  readonly label: string
  /** The fields of its consumer-group template. */
  readonly groupFields: { readonly chainId?: number; readonly operator?: string }
}

/** What a service's start gets. */
export interface StartContext<I extends ServiceInstance> {
  readonly bus: BusPort
  readonly config: ChorusConfig
  readonly instance: I
  /** The instance's consumer group, filled from the template (null when the service joins none). */
  readonly group: string | null
  readonly logger: ServiceLogger
  /** Called with every output after it was published. */
  readonly onOutput?: (envelope: Envelope) => void
  /** The auditor's index file, when not derived from the config. */
  readonly auditIndex?: string
}

/** What a record says of itself before it is decoded (headers and key), and what its decoded event says. */
export interface InputClaims {
  readonly type: string
  /** `service/instance`. */
  readonly producer: string
  /** The record key: the lane (`src-dst`) or chain its event is about. */
  readonly key: string | null
}

/** How a replay runs one instance, or why it cannot. */
export type ReplaySpec<I extends ServiceInstance> =
  | {
      readonly kind: "replayable"
      /** The topics the core folds, in fold order, when they are not the consumed topics (a recorded read topic). */
      readonly inputs?: ReadonlyArray<TopicName>
      /**
       * The production topics the core writes, when its inputs include them (a service that reads its own
       * records back). Absent: its declared writes, less chain reads, dead letters and its inputs.
       */
      readonly outputs?: ReadonlyArray<TopicName>
      /**
       * Whether the instance's core folds an event of `type` written by `producer` under `key`, met on input
       * `topic`, when its core folds only part of its inputs (a submitter: its own destination's lanes, and of
       * the reads topic its own steps alone). Asked of a record's headers and key before it is checked or
       * decoded (a record it refuses is no input, and costs nothing), and again of the decoded event (whose
       * key is checked against its content when it decodes). It must refuse only what the core would make
       * nothing of. Absent: every input is folded.
       */
      readonly folds?: (instance: I, topic: TopicName, record: InputClaims) => boolean
      /** Which partitions of the inputs hold this instance's inputs, given their partition count. */
      readonly partitions: (instance: I, partitionCount: number) => ReadonlyArray<number>
      /** Whether the core takes chain reads recorded on `chorus.lane.reads`. */
      readonly readsRecorded: boolean
      /** The core production runs, with its state type erased (a fold only hands it states it made). */
      readonly core: (config: ChorusConfig, instance: I) => Promise<LaneCore<unknown>>
      /**
       * Fields a replay's outputs carry differently by design, by event type: a shadow signs with a throwaway
       * key, so its signatures differ from production's and `diff` does not count them as changes.
       */
      readonly resigned?: Readonly<Record<string, ReadonlyArray<string>>>
      /**
       * Outputs a replay does not make again, and why: records whose chain answers are not recorded as reads, so
       * a replay cannot derive them. `diff` reports how many it did not compare, with the reason, rather than
       * calling them missing.
       */
      readonly unreplayed?: { readonly types: ReadonlyArray<string>; readonly reason: string }
    }
  | { readonly kind: "not-replayable"; readonly reason: string }

export interface ServiceDefinition<I extends ServiceInstance = ServiceInstance> extends ServiceDeclaration {
  /** Every instance the config runs; throws `ConfigError` naming the config path when there is none. */
  readonly instances: (config: ChorusConfig) => ReadonlyArray<I>
  /** True when a cluster runs one instance in all (`--instance` is refused). */
  readonly single: boolean
  readonly replay: ReplaySpec<I>
  readonly start: (context: StartContext<I>) => Promise<RunningService>
}

/**
 * Defines a service; the identity function, there for the types.
 *
 * @example
 * ```ts
 * export const proofBuilder = defineService({ name: "proof-builder", group: "chorus.proof-builder", … })
 * ```
 */
export const defineService = <I extends ServiceInstance>(definition: ServiceDefinition<I>) =>
  definition as ServiceDefinition<I> & ServiceDefinition

/**
 * The only instance of a service that runs once per cluster.
 *
 * @example
 * ```ts
 * singleInstance("proof-builder") // { id: "proof-builder", aliases: [], label: "proof-builder", groupFields: {} }
 * ```
 */
export const singleInstance = (name: string): ServiceInstance => ({
  id: name,
  aliases: [],
  label: name,
  groupFields: {},
})

/**
 * Every partition: where a lane service's instance finds its inputs (it is the only instance).
 *
 * @example
 * ```ts
 * allPartitions(instance, 3) // [0, 1, 2]
 * ```
 */
export const allPartitions = (_instance: ServiceInstance, count: number): ReadonlyArray<number> =>
  Array.from({ length: count }, (_, p) => p)

/**
 * Fills a consumer-group template for one instance.
 *
 * @example
 * ```ts
 * groupOf(submitter, { chainId: 902 }) // "chorus.submitter.902"
 * ```
 */
export const groupOf = (
  declaration: Pick<ServiceDeclaration, "name" | "group">,
  fields: ServiceInstance["groupFields"],
): string | null => {
  const { group } = declaration
  if (group === null) return null
  return group.replace(/\{(chainId|operator)\}/g, (_m, field: "chainId" | "operator") => {
    const value = fields[field]
    if (value === undefined) {
      throw new Error(`${declaration.name} needs a ${field} for its consumer group (${group})`)
    }
    return String(value)
  })
}

/**
 * The consumer group of one instance of a service that joins one (a lane service).
 *
 * @example
 * ```ts
 * laneGroup(proofBuilder, {}) // "chorus.proof-builder"
 * ```
 */
export const laneGroup = (
  declaration: Pick<ServiceDeclaration, "name" | "group">,
  fields: ServiceInstance["groupFields"],
): string => {
  const group = groupOf(declaration, fields)
  if (group === null) throw new Error(`${declaration.name} joins no consumer group`)
  return group
}

/**
 * The instances `--instance` selects: all of them when absent, else the one
 * whose id or alias it names; a single-instance service refuses it.
 *
 * @example
 * ```ts
 * selectInstances(operator, config, "1")      // [the second operator]
 * selectInstances(proofBuilder, config, "x")  // throws ConfigError: proof-builder has a single instance …
 * ```
 */
export const selectInstances = <I extends ServiceInstance>(
  definition: ServiceDefinition<I>,
  config: ChorusConfig,
  instance: string | undefined,
): ReadonlyArray<I> => {
  if (definition.single && instance !== undefined) {
    throw new ConfigError("<command line>", [
      {
        path: "--instance",
        message: `${definition.name} has a single instance per cluster; drop --instance`,
      },
    ])
  }
  const all = definition.instances(config)
  if (instance === undefined) return all
  const wanted = instance.toLowerCase()
  const chosen = all.filter(
    (i) => i.id.toLowerCase() === wanted || i.aliases.some((alias) => alias.toLowerCase() === wanted),
  )
  if (chosen.length === 0) {
    throw new ConfigError("<command line>", [
      {
        path: "--instance",
        message: `no ${definition.name} ${JSON.stringify(instance)} in the config (configured: ${all
          .map((i) => i.label)
          .join(", ")})`,
      },
    ])
  }
  return chosen
}

/**
 * Refuses a config that runs no instance of a service.
 *
 * @example
 * ```ts
 * instances: (config) => requireSome("submitter", "submitters", config.submitters.map(…))
 * ```
 */
export const requireSome = <T>(service: string, path: string, items: ReadonlyArray<T>): ReadonlyArray<T> => {
  if (items.length === 0) {
    throw new ConfigError("<config>", [{ path, message: `no ${service} is configured` }])
  }
  return items
}
