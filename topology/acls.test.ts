import { describe, expect, it } from "vitest"
import { SERVICE_DEFINITIONS } from "../services/registry.ts"
import { manifestTopicName, shadowSpecOf } from "../services/replay/shadow-writer.ts"
import { groupOf } from "../services/runtime/service-definition.ts"
import {
  type AclBinding,
  aclBindings,
  aclKey,
  aclPrincipals,
  formatAcl,
  groupResource,
  KAFKA_READ_GROUP_PREFIX,
  SHADOW_TOPIC_PREFIX,
} from "./acls.ts"
import { ALL_TOPICS, TOOLS, TOPICS } from "./index.ts"

// The real declarations, never a copy: a service that declares a new edge changes its ACLs here.
const inputs = { services: SERVICE_DEFINITIONS, tools: TOOLS, topics: ALL_TOPICS }
const bindings = aclBindings(inputs)
const of = (principal: string) => bindings.filter((b) => b.principal === principal)
const topicsWith = (list: ReadonlyArray<AclBinding>, operation: AclBinding["operation"]) =>
  list
    .filter((b) => b.resourceType === "topic" && b.operation === operation)
    .map((b) => b.resourceName)
    .sort()
const sorted = (names: Iterable<string>) => [...new Set(names)].sort()
const groups = (list: ReadonlyArray<AclBinding>) =>
  list
    .filter((b) => b.resourceType === "group")
    .map((b) => `${b.operation} ${b.patternType} ${b.resourceName}`)

/** Does a group ACL let its principal use this concrete group? */
const allows = (binding: AclBinding, group: string) =>
  binding.resourceType === "group" &&
  (binding.patternType === "literal"
    ? group === binding.resourceName
    : group.startsWith(binding.resourceName))

/** One concrete group per service that joins one, as its instances name them. */
const sampleGroup = (group: string) =>
  groupOf({ name: "operator", group }, { chainId: 902, operator: "0xabc" })!

describe("ACLs from the topology", () => {
  it("names one principal per service, per tool, and for the read-only tools and replay", () => {
    expect(aclPrincipals(inputs).map((p) => p.principal)).toEqual([
      ...SERVICE_DEFINITIONS.map((d) => `User:chorus-${d.name}`),
      ...TOOLS.map((t) => `User:chorus-${t.name}`),
      "User:chorus-readonly",
      "User:chorus-replay",
    ])
    expect(aclPrincipals({ ...inputs, principalPrefix: "User:prod-" })[0]!.user).toBe(
      `prod-${SERVICE_DEFINITIONS[0]!.name}`,
    )
    expect(() => aclBindings({ ...inputs, principalPrefix: "chorus-" })).toThrow(/User:/)
  })

  it.each(SERVICE_DEFINITIONS.map((d) => [d.name, d] as const))(
    "lets %s write exactly what it writes and read exactly what it consumes or reads",
    (_name, definition) => {
      const mine = of(`User:chorus-${definition.name}`)
      expect(topicsWith(mine, "write")).toEqual(sorted(definition.writes))
      expect(topicsWith(mine, "read")).toEqual(sorted([...definition.consumes, ...definition.reads]))
      expect(mine.filter((b) => b.operation === "create")).toEqual([])
      expect(mine.every((b) => b.resourceType !== "topic" || b.patternType === "literal")).toBe(true)
    },
  )

  it.each(SERVICE_DEFINITIONS.map((d) => [d.name, d] as const))(
    "gives %s only its own consumer group, and the adapter's throwaway read groups when it reads",
    (_name, definition) => {
      const mine = of(`User:chorus-${definition.name}`)
      const expected = [
        ...(definition.group === null
          ? []
          : [
              `read ${groupResource(definition.group).patternType} ${groupResource(definition.group).resourceName}`,
            ]),
        ...(definition.consumes.length + definition.reads.length > 0
          ? [`read prefixed ${KAFKA_READ_GROUP_PREFIX}`, `delete prefixed ${KAFKA_READ_GROUP_PREFIX}`]
          : []),
      ]
      expect(groups(mine).sort()).toEqual(expected.sort())
      if (definition.group !== null) {
        expect(mine.some((b) => allows(b, sampleGroup(definition.group!)))).toBe(true)
      }
    },
  )

  it("grants a group with a placeholder by its prefix, and one without literally", () => {
    expect(groupResource("chorus.submitter.{chainId}")).toEqual({
      resourceName: "chorus.submitter.",
      patternType: "prefixed",
    })
    expect(groupResource("chorus.operator.{operator}")).toEqual({
      resourceName: "chorus.operator.",
      patternType: "prefixed",
    })
    expect(groupResource("chorus.proof-builder")).toEqual({
      resourceName: "chorus.proof-builder",
      patternType: "literal",
    })
    expect(() => groupResource("{chainId}.x")).toThrow(/placeholder/)
  })

  it("lets no principal use another service's consumer group, nor a service's group through the read groups", () => {
    const joining = SERVICE_DEFINITIONS.filter((d) => d.group !== null)
    expect(joining.length).toBeGreaterThan(1)
    for (const principal of aclPrincipals(inputs)) {
      for (const other of joining) {
        if (principal.principal === `User:chorus-${other.name}`) continue
        const group = sampleGroup(other.group!)
        expect(
          of(principal.principal).filter((b) => allows(b, group)),
          `${principal.principal} on ${group}`,
        ).toEqual([])
      }
    }
  })

  it("lets the retry tool write only retry requests and read only the deliveries", () => {
    const retry = of("User:chorus-retry")
    expect(topicsWith(retry, "write")).toEqual([TOPICS.commandsRetry.name])
    expect(topicsWith(retry, "read")).toEqual([TOPICS.deliveries.name])
  })

  it("lets the chain-resume tool write and read only the chain halts", () => {
    const resume = of("User:chorus-chain-resume")
    expect(topicsWith(resume, "write")).toEqual([TOPICS.chainHalts.name])
    expect(topicsWith(resume, "read")).toEqual([TOPICS.chainHalts.name])
  })

  it("lets the read-only tools read every declared topic and write none", () => {
    const readonly = of("User:chorus-readonly")
    expect(topicsWith(readonly, "read")).toEqual(sorted(ALL_TOPICS.map((t) => t.name)))
    expect(readonly.filter((b) => b.operation !== "read" && b.resourceType === "topic")).toEqual([])
  })

  it("lets replay read every declared topic and create and write only shadow topics", () => {
    const replay = of("User:chorus-replay")
    expect(topicsWith(replay, "read")).toEqual(
      sorted([...ALL_TOPICS.map((t) => t.name), SHADOW_TOPIC_PREFIX]),
    )
    for (const operation of ["write", "create"] as const) {
      expect(replay.filter((b) => b.operation === operation)).toEqual([
        {
          principal: "User:chorus-replay",
          resourceType: "topic",
          resourceName: SHADOW_TOPIC_PREFIX,
          patternType: "prefixed",
          operation,
        },
      ])
    }
    // The prefix is where replay really writes, and no production topic is under it.
    expect(shadowSpecOf("fix-1", TOPICS.messagesProven.name).name.startsWith(SHADOW_TOPIC_PREFIX)).toBe(true)
    expect(manifestTopicName("fix-1").startsWith(SHADOW_TOPIC_PREFIX)).toBe(true)
    expect(ALL_TOPICS.filter((t) => t.name.startsWith(SHADOW_TOPIC_PREFIX))).toEqual([])
  })

  it("names only declared topics (or the shadow prefix), and no binding twice, in a stable order", () => {
    const declared = new Set<string>(ALL_TOPICS.map((t) => t.name))
    for (const binding of bindings.filter((b) => b.resourceType === "topic")) {
      expect(declared.has(binding.resourceName) || binding.resourceName === SHADOW_TOPIC_PREFIX).toBe(true)
    }
    expect(new Set(bindings.map(aclKey)).size).toBe(bindings.length)
    expect(aclBindings(inputs)).toEqual(bindings)
  })

  it("prints one line per binding", () => {
    expect(
      formatAcl({
        principal: "User:chorus-submitter",
        resourceType: "group",
        resourceName: "chorus.submitter.",
        patternType: "prefixed",
        operation: "read",
      }),
    ).toBe("User:chorus-submitter read group chorus.submitter.* (prefixed)")
  })
})
