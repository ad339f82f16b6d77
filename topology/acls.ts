/**
 * Kafka ACLs derived from the topology: what each principal may do on the
 * bus, from the same declarations `chorus topology` draws and the topology
 * test holds every service to. `chorus topics create --acls` creates them.
 *
 * Invariants (for every principal, nothing beyond):
 * - a service or tool may WRITE only the topics it `writes`;
 * - it may READ only the topics it `consumes` or `reads` (READ and WRITE
 *   each imply DESCRIBE in Kafka, so no DESCRIBE is granted on its own);
 * - a service that joins a consumer group may use only its own: the
 *   definition's group, PREFIXED on the part before the first `{` when the
 *   group has a placeholder (`chorus.submitter.{chainId}` →
 *   `chorus.submitter.`), LITERAL otherwise;
 * - a principal that reads anything may use the throwaway groups of the
 *   Kafka adapter's range reads (`chorus-read-<uuid>`, READ to join, DELETE
 *   to remove them afterwards), and no other group;
 * - no principal may create topics, alter ACLs or act on the cluster: an
 *   admin (a super user of the brokers) runs `chorus topics create`.
 *
 * Principals are `User:chorus-<name>` (the prefix is an option): one per
 * service (`chorus-chain-watcher`, …, `chorus-auditor`), one per tool that
 * writes to the bus (`chorus-retry`), `chorus-readonly` for the read-only
 * tools (`trace`, `messages`, `verify-log`, `topics describe`, dead
 * letters: READ on every declared topic), and `chorus-replay` for `chorus
 * replay` and `diff` (READ on every declared topic, and CREATE, WRITE and
 * READ on the `shadow.` topics they make). Every instance of a service
 * (every operator, every destination's submitter) shares its service's
 * principal.
 *
 * @module
 */
import type { ServiceDeclaration, ToolDeclaration } from "./services.ts"
import type { TopicDeclaration } from "./topics.ts"

/** The consumer groups the Kafka adapter's range reads use, one per read: `chorus-read-<uuid>`. */
export const KAFKA_READ_GROUP_PREFIX = "chorus-read-"

/** The topics `chorus replay` writes: `shadow.<suffix>.<production topic>` and `shadow.<suffix>.manifest`. */
export const SHADOW_TOPIC_PREFIX = "shadow."

/** The default principal prefix: `User:chorus-submitter`. */
export const DEFAULT_PRINCIPAL_PREFIX = "User:chorus-"

export type AclResourceType = "topic" | "group"
export type AclPatternType = "literal" | "prefixed"
export type AclOperation = "read" | "write" | "create" | "delete"

/** One ALLOW rule, for any host. */
export interface AclBinding {
  /** `User:chorus-submitter`. */
  readonly principal: string
  readonly resourceType: AclResourceType
  readonly resourceName: string
  readonly patternType: AclPatternType
  readonly operation: AclOperation
}

/** Who gets ACLs, and why. */
export interface AclPrincipal {
  /** `chorus-submitter`: the SASL user name. */
  readonly user: string
  /** `User:chorus-submitter`: what the authorizer matches. */
  readonly principal: string
  readonly kind: "service" | "tool" | "readonly" | "replay"
  readonly description: string
}

export interface AclInputs {
  /** The services' declarations: `SERVICE_DEFINITIONS` from `services/registry.ts`. */
  readonly services: ReadonlyArray<ServiceDeclaration>
  /** The tools that write to the bus: `TOOLS`. */
  readonly tools: ReadonlyArray<ToolDeclaration>
  /** Every declared topic: `ALL_TOPICS`. */
  readonly topics: ReadonlyArray<Pick<TopicDeclaration, "name">>
  /** Default {@link DEFAULT_PRINCIPAL_PREFIX}; must start with `User:`. */
  readonly principalPrefix?: string
}

/**
 * The group resource a declared group template grants: PREFIXED on the part
 * before the first `{`, LITERAL when there is no placeholder.
 *
 * @example
 * ```ts
 * groupResource("chorus.submitter.{chainId}") // { resourceName: "chorus.submitter.", patternType: "prefixed" }
 * groupResource("chorus.proof-builder") // { resourceName: "chorus.proof-builder", patternType: "literal" }
 * ```
 */
export const groupResource = (group: string): { resourceName: string; patternType: AclPatternType } => {
  const brace = group.indexOf("{")
  if (brace === -1) return { resourceName: group, patternType: "literal" }
  if (brace === 0) throw new RangeError(`group ${JSON.stringify(group)} starts with a placeholder`)
  return { resourceName: group.slice(0, brace), patternType: "prefixed" }
}

const principalPrefix = (inputs: Pick<AclInputs, "principalPrefix">): string => {
  const prefix = inputs.principalPrefix ?? DEFAULT_PRINCIPAL_PREFIX
  if (!/^User:[A-Za-z0-9._-]*$/.test(prefix)) {
    throw new RangeError(`principal prefix ${JSON.stringify(prefix)} must look like User:<name prefix>`)
  }
  return prefix
}

/**
 * Every principal that gets ACLs, services first (in pipeline order), then
 * the tools, then `readonly` and `replay`.
 *
 * @example
 * ```ts
 * aclPrincipals({ services: SERVICE_DEFINITIONS, tools: TOOLS, topics: ALL_TOPICS }).map((p) => p.user)
 * // ["chorus-chain-watcher", …, "chorus-retry", "chorus-readonly", "chorus-replay"]
 * ```
 */
export const aclPrincipals = (inputs: AclInputs): ReadonlyArray<AclPrincipal> => {
  const prefix = principalPrefix(inputs)
  const make = (name: string, kind: AclPrincipal["kind"], description: string): AclPrincipal => {
    const principal = `${prefix}${name}`
    return { user: principal.slice("User:".length), principal, kind, description }
  }
  return [
    ...inputs.services.map((service) => make(service.name, "service", `the ${service.name} service`)),
    ...inputs.tools.map((tool) => make(tool.name, "tool", `\`${tool.command}\``)),
    make(
      "readonly",
      "readonly",
      "the read-only tools: trace, messages, verify-log, topics describe, dead letters",
    ),
    make("replay", "replay", "`chorus replay` and `chorus diff`: reads every topic, writes shadow topics"),
  ]
}

/**
 * Every ACL binding the topology implies, in a stable order and without
 * duplicates. Pure: the same declarations always give the same list.
 *
 * @example
 * ```ts
 * const bindings = aclBindings({ services: SERVICE_DEFINITIONS, tools: TOOLS, topics: ALL_TOPICS })
 * bindings.filter((b) => b.principal === "User:chorus-retry").map(formatAcl)
 * // ["User:chorus-retry write topic chorus.commands.retry", "User:chorus-retry read topic chorus.deliveries", …]
 * ```
 */
export const aclBindings = (inputs: AclInputs): ReadonlyArray<AclBinding> => {
  const principals = aclPrincipals(inputs)
  const out: AclBinding[] = []
  const seen = new Set<string>()
  const add = (binding: AclBinding) => {
    const key = aclKey(binding)
    if (seen.has(key)) return
    seen.add(key)
    out.push(binding)
  }
  const topic = (
    principal: string,
    name: string,
    operation: AclOperation,
    patternType: AclPatternType = "literal",
  ) => add({ principal, resourceType: "topic", resourceName: name, patternType, operation })
  const readGroups = (principal: string) => {
    for (const operation of ["read", "delete"] as const) {
      add({
        principal,
        resourceType: "group",
        resourceName: KAFKA_READ_GROUP_PREFIX,
        patternType: "prefixed",
        operation,
      })
    }
  }
  const allTopics = inputs.topics.map((t) => t.name)

  for (const [index, service] of inputs.services.entries()) {
    const { principal } = principals[index]!
    for (const name of service.writes) topic(principal, name, "write")
    for (const name of [...service.consumes, ...service.reads]) topic(principal, name, "read")
    if (service.group !== null) {
      add({ principal, resourceType: "group", ...groupResource(service.group), operation: "read" })
    }
    if (service.consumes.length > 0 || service.reads.length > 0) readGroups(principal)
  }
  for (const [index, tool] of inputs.tools.entries()) {
    const { principal } = principals[inputs.services.length + index]!
    for (const name of tool.writes) topic(principal, name, "write")
    for (const name of tool.reads) topic(principal, name, "read")
    if (tool.reads.length > 0) readGroups(principal)
  }
  const readonly = principals.find((p) => p.kind === "readonly")!.principal
  for (const name of allTopics) topic(readonly, name, "read")
  readGroups(readonly)
  const replay = principals.find((p) => p.kind === "replay")!.principal
  for (const name of allTopics) topic(replay, name, "read")
  for (const operation of ["create", "write", "read"] as const) {
    topic(replay, SHADOW_TOPIC_PREFIX, operation, "prefixed")
  }
  readGroups(replay)
  return out
}

/** A binding's identity: two equal keys are the same ACL on the broker. */
export const aclKey = (binding: AclBinding): string =>
  [
    binding.principal,
    binding.resourceType,
    binding.patternType,
    binding.resourceName,
    binding.operation,
  ].join("\u0000")

/**
 * One line per binding, for `chorus topics create --acls` and the docs.
 *
 * @example
 * ```ts
 * formatAcl({ principal: "User:chorus-submitter", resourceType: "group", resourceName: "chorus.submitter.", patternType: "prefixed", operation: "read" })
 * // "User:chorus-submitter read group chorus.submitter.* (prefixed)"
 * ```
 */
export const formatAcl = (binding: AclBinding): string =>
  `${binding.principal} ${binding.operation} ${binding.resourceType} ${binding.resourceName}${
    binding.patternType === "prefixed" ? "* (prefixed)" : ""
  }`
