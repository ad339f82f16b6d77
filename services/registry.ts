/**
 * Every service's definition, in pipeline order, and starting them by name:
 * what `chorus run`, the devnet, `chorus replay` and `chorus topology`
 * share. A service runs alone in its own process (`chorus run submitter
 * --instance 902`), or all of them in one (`all`).
 *
 * @module
 */
import { authenticatedBus, type ProducerPolicy, withPlacement } from "../bus/authentication/index.ts"
import type { BusPort } from "../bus/port.ts"
import type { Envelope } from "../schemas/index.ts"
import { ALL_TOPICS, type ServiceDeclaration, type ServiceName, TOOLS } from "../topology/index.ts"
import { attestationCollector } from "./attestation-collector/definition.ts"
import { auditor } from "./auditor/definition.ts"
import { type BusIdentities, busIdentities } from "./bus-identities.ts"
import { chainWatcher } from "./chain-watcher/definition.ts"
import { type ChorusConfig, ConfigError } from "./config/index.ts"
import { operator } from "./operator/definition.ts"
import { proofBuilder } from "./proof-builder/definition.ts"
import type { ServiceLogger } from "./runtime/logger.ts"
import type { RunningService } from "./runtime/running-service.ts"
import { groupOf, laneGroup, type ServiceDefinition, selectInstances } from "./runtime/service-definition.ts"
import { setWatcher } from "./set-watcher/definition.ts"
import { submitter } from "./submitter/definition.ts"

/** Every service, in the order a message meets them. */
export const SERVICE_DEFINITIONS: ReadonlyArray<ServiceDefinition> = [
  chainWatcher,
  proofBuilder,
  operator,
  attestationCollector,
  submitter,
  setWatcher,
  auditor,
]

/** What each service declares about its place on the bus (what `chorus topology` draws). */
export const SERVICES: ReadonlyArray<ServiceDeclaration> = SERVICE_DEFINITIONS

export const SERVICE_NAMES: ReadonlyArray<ServiceName> = SERVICE_DEFINITIONS.map((d) => d.name)

export type ServiceSelection = ServiceName | "all"

/** One process of a cluster: a service's instance, as `chorus run <service> [--instance <id>]` starts it. */
export interface ClusterUnit {
  /** Unique in the plan: `submitter-902`, `proof-builder`, `proof-builder-2` (a second member of its group). */
  readonly name: string
  readonly service: ServiceName
  /** The `--instance` to give; undefined for a service with a single instance. */
  readonly instance: string | undefined
  /** The consumer group it joins (null for a service that joins none). */
  readonly group: string | null
}

/**
 * Every process of a cluster for `config`: one per instance of every service that writes to the bus (the
 * auditor only reads, and runs where the audit tools run), and `members` processes of a service whose
 * instances share a group to spread its partitions (extra members of the proof-builder by default). What
 * `chorus cluster up`, `chorus devnet` and `docker-compose.yml` run.
 *
 * @example
 * ```ts
 * clusterPlan(config).map((u) => u.name) // ["chain-watcher-901", …, "proof-builder", "proof-builder-2", "operator-0", …]
 * ```
 */
export const clusterPlan = (
  config: ChorusConfig,
  options: { readonly members?: Partial<Record<ServiceName, number>>; readonly auditor?: boolean } = {},
): ReadonlyArray<ClusterUnit> =>
  SERVICE_DEFINITIONS.filter(
    (d) => d.writes.length > 0 || (options.auditor === true && d.name === "auditor"),
  ).flatMap((definition) =>
    definition.instances(config).flatMap((instance) => {
      // An operator is named by its index (`operator-0`), which `--instance` takes as well as its address.
      const label = instance.aliases[0] ?? instance.id
      const base = definition.single ? definition.name : `${definition.name}-${label}`
      const members = Math.max(1, options.members?.[definition.name] ?? 1)
      return Array.from({ length: members }, (_, m) => ({
        name: m === 0 ? base : `${base}-${m + 1}`,
        service: definition.name,
        instance: definition.single ? undefined : label,
        group: groupOf(definition, instance.groupFields),
      }))
    }),
  )

/**
 * The config's bus identities over every writer the topology declares: the services and the tools.
 *
 * @example
 * ```ts
 * const { policy } = busIdentitiesOf(config)
 * ```
 */
export const busIdentitiesOf = (config: ChorusConfig): BusIdentities => {
  let identities = identitiesByConfig.get(config)
  if (identities === undefined) {
    identities = busIdentities(config, [...SERVICE_DEFINITIONS, ...TOOLS])
    identitiesByConfig.set(config, identities)
  }
  return identities
}

/**
 * The policy the services hold what they consume to, with every topic's placement (a signed record copied to
 * another partition is refused): the counts the bus has; a topic not created yet is not checked. Undefined when
 * authentication is off. One object for as long as the counts stay, so whoever else reads the same records in
 * the process (the devnet's tracker) shares the services' answers.
 *
 * @example
 * ```ts
 * const policy = await consumerPolicy(config, bus)
 * const tail = tailTopics(policy === undefined ? bus : authenticatedBus(bus, { policy }), topics)
 * ```
 */
export const consumerPolicy = async (
  config: ChorusConfig,
  bus: BusPort,
): Promise<ProducerPolicy | undefined> => {
  const { policy } = busIdentitiesOf(config)
  if (policy === undefined) return undefined
  const counts = new Map<string, number>()
  for (const topic of ALL_TOPICS) {
    const count = await bus.partitions(topic.name).catch(() => undefined)
    if (count !== undefined) counts.set(topic.name, count)
  }
  return placedPolicy(policy, counts)
}

/**
 * One answer per config object: the services a process starts one by one then hold one policy, and a record is
 * authenticated and decoded once for all of them (see `bus/record-memo.ts`).
 */
const identitiesByConfig = new WeakMap<ChorusConfig, BusIdentities>()
const placedPolicies = new WeakMap<
  ProducerPolicy,
  { readonly counts: string; readonly policy: ProducerPolicy }
>()
const placedPolicy = (policy: ProducerPolicy, counts: ReadonlyMap<string, number>): ProducerPolicy => {
  const key = JSON.stringify([...counts])
  const known = placedPolicies.get(policy)
  if (known?.counts === key) return known.policy
  const placed = withPlacement(policy, counts)
  placedPolicies.set(policy, { counts: key, policy: placed })
  return placed
}

/**
 * A service's definition by name.
 *
 * @example
 * ```ts
 * serviceDefinition("submitter").consumes // ["chorus.checkpoints.attested", …]
 * ```
 */
export const serviceDefinition = (name: string): ServiceDefinition => {
  const definition = SERVICE_DEFINITIONS.find((d) => d.name === name)
  if (definition === undefined) {
    throw new ConfigError("<command line>", [
      {
        path: "service",
        message: `unknown service ${JSON.stringify(name)}; known: ${SERVICE_NAMES.join(", ")}`,
      },
    ])
  }
  return definition
}

/**
 * The consumer group of one instance of a service that joins one.
 *
 * @example
 * ```ts
 * groupFor("submitter", { chainId: 902 }) // "chorus.submitter.902"
 * ```
 */
export const groupFor = (name: ServiceName, fields: { chainId?: number; operator?: string } = {}): string =>
  laneGroup(serviceDefinition(name), fields)

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
  /** Wraps the bus a service gets (a test records each service's traffic this way). */
  readonly busFor?: (service: ServiceName) => BusPort
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
  const { config, logger, instance } = options
  if (options.service === "all" && instance !== undefined) {
    throw new ConfigError("<command line>", [
      { path: "--instance", message: "all has a single instance per cluster; drop --instance" },
    ])
  }
  const definitions = options.service === "all" ? SERVICE_DEFINITIONS : [serviceDefinition(options.service)]
  const identities = busIdentitiesOf(config)
  if (!identities.enabled) {
    logger.warn(
      "bus authentication is off (no bus.authentication in the config): records are neither signed nor checked, so anyone who can write to a topic can steer these services; see docs/security.md",
    )
  } else if (!identities.enforced) {
    logger.warn(
      "bus authentication is not enforced (bus.authentication.enforce is false): unsigned records are taken, so anyone who can write to a topic can steer these services; `chorus verify-log` lists them",
    )
  }
  const policy = await consumerPolicy(config, options.bus)
  const started: RunningService[] = []
  try {
    for (const definition of definitions) {
      const shared = options.busFor?.(definition.name) ?? options.bus
      for (const chosen of selectInstances(definition, config, instance)) {
        const signer = identities.signerFor(definition.name, chosen.id)
        started.push(
          await definition.start({
            bus: authenticatedBus(shared, {
              ...(signer === undefined ? {} : { signer }),
              ...(policy === undefined ? {} : { policy }),
            }),
            config,
            instance: chosen,
            group: groupOf(definition, chosen.groupFields),
            logger: logger.child({ service: definition.name, instance: chosen.id }),
            ...(options.onOutput === undefined ? {} : { onOutput: options.onOutput }),
            ...(options.auditIndex === undefined ? {} : { auditIndex: options.auditIndex }),
          }),
        )
      }
    }
    return started
  } catch (error) {
    await Promise.allSettled(started.map((s) => s.stop()))
    throw error
  }
}
