import { SERVICE_DEFINITIONS } from "../../services/registry.ts"
import {
  type AclBinding,
  aclBindings,
  aclPrincipals,
  DEFAULT_PRINCIPAL_PREFIX,
  formatAcl,
} from "../../topology/acls.ts"
import { ALL_TOPICS, TOOLS } from "../../topology/index.ts"
import { type Command, flags, UsageError } from "../command.ts"
import { BUS_DETAILS, BUS_USAGE, busOptions, kafkaConnectionFromFlags, withBus } from "../open-bus.ts"

/** The topology's ACLs for a principal prefix: services, tools, the read-only tools and replay. */
export const topologyAcls = (principalPrefix = DEFAULT_PRINCIPAL_PREFIX): ReadonlyArray<AclBinding> =>
  aclBindings({ services: SERVICE_DEFINITIONS, tools: TOOLS, topics: ALL_TOPICS, principalPrefix })

/**
 * `chorus topics create`: creates every declared topic; with `--acls`, also
 * every principal's ACLs from the topology. A second run changes nothing and
 * says so.
 */
export const topicsCreate: Command = {
  path: ["topics", "create"],
  summary: "create every topic the topology declares, and with --acls each principal's ACLs (idempotent)",
  usage: `topics create ${BUS_USAGE} [--acls [--principal-prefix User:chorus-]]`,
  details: [
    BUS_DETAILS,
    "  --acls                   Kafka with an authorizer only: also create the ACLs the topology implies, each",
    "                           service's principal (User:chorus-<service>) writing only what it writes, reading",
    "                           only what it consumes or reads, in its own consumer group only; the same for",
    "                           each tool (User:chorus-retry), User:chorus-readonly (trace, messages, verify-log:",
    "                           read every topic) and User:chorus-replay (read every topic, write shadow.*).",
    "                           Prints each ACL; run it as an admin (a super user of the brokers)",
    `  --principal-prefix <p>   the principals' prefix (default ${DEFAULT_PRINCIPAL_PREFIX}: User:chorus-submitter, …)`,
  ].join("\n"),
  options: { ...busOptions, ...flags({ values: ["principal-prefix"], switches: ["acls"] }) },
  run: async (input) => {
    const { values, out } = input
    const acls = values.acls === true
    const prefix = values["principal-prefix"]
    if (typeof prefix === "string" && !acls) throw new UsageError("--principal-prefix goes with --acls")
    if (acls && typeof values.brokers !== "string") {
      throw new UsageError("--acls needs Kafka (--brokers): the embedded log has no principals")
    }
    let bindings: ReadonlyArray<AclBinding> = []
    if (acls) {
      try {
        bindings = topologyAcls(typeof prefix === "string" ? prefix : undefined)
      } catch (error) {
        throw new UsageError(`--principal-prefix: ${(error as Error).message}`)
      }
    }
    const code = await withBus(values, async (bus) => {
      const result = await bus.ensureTopics(ALL_TOPICS)
      for (const name of result.created) out(`created  ${name}`)
      for (const name of result.existing) out(`exists   ${name}`)
      const unseen = ALL_TOPICS.length - result.created.length - result.existing.length
      if (unseen > 0) out(`${unseen} topic(s) are not visible to this principal and it may not create them.`)
      out(
        result.created.length === 0
          ? `All ${result.existing.length} topics already exist; nothing changed.`
          : `Created ${result.created.length} topic(s); ${result.existing.length} already existed.`,
      )
      return unseen > 0 ? 1 : 0
    })
    if (!acls || code !== 0) return code
    const { ensureKafkaAcls } = await import("../../bus/kafka/index.ts")
    const ensured = await ensureKafkaAcls(await kafkaConnectionFromFlags(values), bindings)
    for (const binding of ensured.created) out(`acl created  ${formatAcl(binding)}`)
    for (const binding of ensured.existing) out(`acl exists   ${formatAcl(binding)}`)
    const principals = aclPrincipals({
      services: SERVICE_DEFINITIONS,
      tools: TOOLS,
      topics: ALL_TOPICS,
      ...(typeof prefix === "string" ? { principalPrefix: prefix } : {}),
    })
    out(
      ensured.created.length === 0
        ? `All ${ensured.existing.length} ACLs for ${principals.length} principals already exist; nothing changed.`
        : `Created ${ensured.created.length} ACL(s) for ${principals.length} principals (${principals
            .map((p) => p.principal)
            .join(", ")}); ${ensured.existing.length} already existed.`,
    )
    return 0
  },
}
