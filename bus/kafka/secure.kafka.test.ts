/**
 * Kafka as its operators run it: TLS, SASL/SCRAM-SHA-512 and the ACLs
 * `chorus topics create --acls` derives from the topology, against the
 * secured broker `scripts/kafka-local start --secure` runs (see
 * `test/fixtures/kafka-secure.ts` for the environment; CI sets it). Skipped,
 * saying so in its name, when `KAFKA_SECURE_BROKERS` is not set.
 *
 * Every bus here names its security explicitly, as one principal:
 * - service principals publish and consume through the adapter over SASL_SSL;
 * - a wrong password is one `KafkaAuthenticationError`, an untrusted
 *   certificate one `KafkaTlsError`;
 * - after `topics create --acls`, a principal writing a topic its service
 *   does not write gets a `KafkaAuthorizationError` naming the topic and the
 *   principal, and one joining another service's consumer group is refused;
 * - the bus contract suite passes over SASL_SSL.
 */
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { topologyAcls } from "../../cli/commands/topics-create.ts"
import { SERVICE_DEFINITIONS } from "../../services/registry.ts"
import { SECURE_KAFKA_SKIP_REASON, secureKafka, withEnv } from "../../test/fixtures/kafka-secure.ts"
import { runCli } from "../../test/fixtures/run-cli.ts"
import { groupResource } from "../../topology/acls.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { busContractSuite } from "../contract/index.ts"
import type { BusPort, BusRecord } from "../port.ts"
import { ensureKafkaAcls } from "./acls.ts"
import { type KafkaBusOptions, openKafkaBus, simulateCrash } from "./bus.ts"
import {
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaTlsError,
  KafkaTopicNotFoundError,
  KafkaUnreachableError,
} from "./errors.ts"
import type { KafkaSecurity } from "./security.ts"

const secure = secureKafka()

const options = (security: KafkaSecurity, overrides: Partial<KafkaBusOptions> = {}): KafkaBusOptions => ({
  brokers: secure!.brokers,
  security,
  logLevel: "nothing",
  connectTimeoutMs: 15_000,
  consumer: {
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    maxWaitTimeMs: 200,
    retryInitialMs: 50,
    retryMaxMs: 1000,
    joinTimeoutMs: 30_000,
  },
  ...overrides,
})

const encode = (text: string) => new TextEncoder().encode(text)
const failureOf = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error("expected a failure")
    },
    (error: unknown) => error,
  )

/** Every bus a test opened, closed after it. */
const opened: BusPort[] = []
const open = async (security: KafkaSecurity, overrides?: Partial<KafkaBusOptions>) => {
  const bus = await openKafkaBus(options(security, overrides))
  opened.push(bus)
  return bus
}

const adminEnv = () => ({
  CHORUS_KAFKA_CA: secure!.caPath,
  CHORUS_KAFKA_SSL: undefined,
  CHORUS_KAFKA_SASL_USERNAME: secure!.adminUsername,
  CHORUS_KAFKA_SASL_PASSWORD: secure!.adminPassword,
})

describe.skipIf(secure === undefined)(
  `Kafka over SASL_SSL with the topology's ACLs${secure === undefined ? ` (${SECURE_KAFKA_SKIP_REASON})` : ""}`,
  () => {
    let firstRun: Awaited<ReturnType<typeof runCli>>
    beforeAll(async () => {
      firstRun = await withEnv(adminEnv(), () =>
        runCli(["topics", "create", "--acls", "--brokers", secure!.brokers.join(",")]),
      )
      expect(firstRun.code, firstRun.text).toBe(0)
    })
    afterAll(async () => {
      await Promise.allSettled(opened.map((bus) => bus.close()))
    })

    it("`chorus topics create --acls` prints every ACL of the topology, and a second run creates none", async () => {
      const expected = topologyAcls()
      const printed = firstRun.out.filter((line) => line.startsWith("acl "))
      expect(printed).toHaveLength(expected.length)
      const again = await withEnv(adminEnv(), () =>
        runCli(["topics", "create", "--acls", "--brokers", secure!.brokers.join(",")]),
      )
      expect(again.code, again.text).toBe(0)
      expect(again.out.filter((line) => line.startsWith("acl created"))).toEqual([])
      expect(again.out.filter((line) => line.startsWith("acl exists"))).toHaveLength(expected.length)
      expect(again.out.at(-1)).toMatch(/^All \d+ ACLs for \d+ principals already exist; nothing changed\.$/)
    })

    it("service principals publish and consume through the adapter over SASL_SSL, each within its ACLs", async () => {
      const key = `secure-${randomUUID()}`
      // The operator's group is chorus.operator.{operator}: any name under its prefix is its own.
      const operatorGroup = `${groupResource(SERVICE_DEFINITIONS.find((d) => d.name === "operator")!.group!).resourceName}test-${randomUUID()}`
      const operator = await open(secure!.as("chorus-operator"), { clientId: "secure-operator" })
      const received: BusRecord[] = []
      const subscription = await operator.subscribe({
        groupId: operatorGroup,
        topics: [TOPICS.checkpointsProposed.name],
        handler: async (record) => {
          if (record.key === key) received.push(record)
        },
      })
      const proofBuilder = await open(secure!.as("chorus-proof-builder"), {
        clientId: "secure-proof-builder",
      })
      const [position] = await proofBuilder.publish([
        { topic: TOPICS.checkpointsProposed.name, key, value: encode("over SASL_SSL") },
      ])
      const deadlineAt = Date.now() + 30_000
      while (received.length === 0 && Date.now() < deadlineAt) await new Promise((r) => setTimeout(r, 50))
      expect(received.map((r) => [r.partition, r.offset, new TextDecoder().decode(r.value)])).toEqual([
        [position!.partition, position!.offset, "over SASL_SSL"],
      ])
      await subscription.stop()

      // A range read (a throwaway chorus-read-* group) as the auditor, which reads every step's topic.
      const auditor = await open(secure!.as("chorus-auditor"), { clientId: "secure-auditor" })
      const read: BusRecord[] = []
      for await (const record of auditor.read({
        topic: TOPICS.checkpointsProposed.name,
        partitions: [position!.partition],
        from: { offset: position!.offset },
      })) {
        read.push(record)
      }
      expect(read.map((r) => r.key)).toContain(key)
    })

    it("a service principal's ensureTopics of every topic (what `chorus run` does) neither fails nor creates", async () => {
      const submitter = await open(secure!.as("chorus-submitter"))
      const result = await submitter.ensureTopics(ALL_TOPICS)
      expect(result.created).toEqual([])
      // It sees exactly the topics it consumes or writes.
      const definition = SERVICE_DEFINITIONS.find((d) => d.name === "submitter")!
      expect([...result.existing].sort()).toEqual(
        [...new Set([...definition.consumes, ...definition.reads, ...definition.writes])].sort(),
      )
    })

    it("a wrong password is one KafkaAuthenticationError naming the user, and no secret", async () => {
      const started = Date.now()
      const error = await failureOf(openKafkaBus(options(secure!.as("chorus-submitter", "not-the-password"))))
      expect(error).toBeInstanceOf(KafkaAuthenticationError)
      const refused = error as KafkaAuthenticationError
      expect(refused.code).toBe("KAFKA_AUTHENTICATION")
      expect(refused.shortMessage).toBe(
        `Kafka refused the SASL login of chorus-submitter (SCRAM-SHA-512) at ${secure!.brokers.join(", ")}`,
      )
      expect(refused.hint).toContain("CHORUS_KAFKA_SASL_PASSWORD")
      expect(JSON.stringify({ message: refused.message, details: refused.details })).not.toContain(
        "not-the-password",
      )
      expect(Date.now() - started).toBeLessThan(10_000)
    })

    it("an untrusted certificate is one KafkaTlsError saying which CA to give", async () => {
      const started = Date.now()
      // TLS with the system's CAs only: the local CA is not among them.
      const error = await failureOf(
        openKafkaBus(
          options({ ssl: {}, sasl: secure!.as("chorus-submitter").sasl! }, { connectTimeoutMs: 20_000 }),
        ),
      )
      expect(error).toBeInstanceOf(KafkaTlsError)
      const tls = error as KafkaTlsError
      expect(tls.shortMessage).toMatch(/certificate of the Kafka broker at .* is not trusted/)
      expect(tls.hint).toContain("CHORUS_KAFKA_CA")
      expect(Date.now() - started).toBeLessThan(10_000)
    })

    it("a principal writing a topic its service does not write gets a KafkaAuthorizationError naming both", async () => {
      const cases = [
        // Reads chorus.deliveries (so it can describe it), but writes only retry requests.
        { user: "chorus-retry", topic: TOPICS.deliveries.name },
        // Neither reads nor writes it: the topic's metadata is refused first.
        { user: "chorus-chain-watcher", topic: TOPICS.deliveries.name },
        // Writes nothing at all.
        { user: "chorus-readonly", topic: TOPICS.deliveries.name },
      ]
      for (const { user, topic } of cases) {
        const bus = await open(secure!.as(user))
        const error = await failureOf(bus.publish([{ topic, key: "forged", value: encode("forged") }]))
        expect(error, user).toBeInstanceOf(KafkaAuthorizationError)
        const denied = error as KafkaAuthorizationError
        expect(denied.code).toBe("KAFKA_NOT_AUTHORIZED")
        expect(denied.shortMessage, user).toMatch(
          new RegExp(`^User:${user} is not allowed to write topic ${topic}\\b`),
        )
        expect(denied.details).toMatchObject({ principal: `User:${user}`, topic, operation: "publish" })
        expect(denied.hint).toContain("chorus topics create --acls")
      }
      // Its own topic it may write.
      const retry = await open(secure!.as("chorus-retry"))
      await expect(
        retry.publish([{ topic: TOPICS.commandsRetry.name, key: "allowed", value: encode("ok") }]),
      ).resolves.toHaveLength(1)
    })

    it("a principal consuming with another service's consumer group is refused at once", async () => {
      const proofBuilder = await open(secure!.as("chorus-proof-builder"))
      const submitterGroup = `chorus.submitter.${randomUUID()}`
      const started = Date.now()
      const error = await failureOf(
        proofBuilder.subscribe({
          groupId: submitterGroup,
          topics: [TOPICS.messagesObserved.name],
          handler: async () => {},
        }),
      )
      expect(error).toBeInstanceOf(KafkaAuthorizationError)
      const denied = error as KafkaAuthorizationError
      expect(denied.shortMessage).toMatch(
        new RegExp(`^User:chorus-proof-builder is not allowed to use consumer group ${submitterGroup}\\b`),
      )
      expect(denied.details).toMatchObject({
        kafkaError: "GROUP_AUTHORIZATION_FAILED",
        groupId: submitterGroup,
      })
      expect(Date.now() - started).toBeLessThan(20_000)

      // Nor may it read a topic its service does not consume, even in its own group.
      const notItsTopic = await failureOf(
        proofBuilder.subscribe({
          groupId: "chorus.proof-builder",
          topics: [TOPICS.deliveries.name],
          handler: async () => {},
        }),
      )
      expect(notItsTopic).toBeInstanceOf(KafkaAuthorizationError)
      expect((notItsTopic as KafkaAuthorizationError).shortMessage).toMatch(
        /^User:chorus-proof-builder is not allowed to read topic chorus\.deliveries\b/,
      )
    })

    it("a client without TLS and a login is dropped, and names the variables that would secure it", async () => {
      const error = await failureOf(openKafkaBus(options({}, { connectTimeoutMs: 4_000 })))
      expect(error).toBeInstanceOf(KafkaUnreachableError)
      expect((error as KafkaUnreachableError).hint).toContain("CHORUS_KAFKA_CA")
    })

    it("no service principal may create topics or ACLs: only the admin", async () => {
      const submitter = await open(secure!.as("chorus-submitter"))
      const topic = `chorus.not-declared-${randomUUID()}`
      const result = await submitter.ensureTopics([
        { name: topic, partitions: 1, cleanupPolicy: "delete", retentionMs: -1 },
      ])
      expect(result).toEqual({ created: [], existing: [] })
      const admin = await open(secure!.admin)
      await expect(admin.partitions(topic)).rejects.toBeInstanceOf(KafkaTopicNotFoundError)

      const error = await failureOf(
        ensureKafkaAcls(
          { brokers: secure!.brokers, security: secure!.as("chorus-submitter") },
          topologyAcls(),
        ),
      )
      expect(error).toBeInstanceOf(KafkaAuthorizationError)
      expect((error as KafkaAuthorizationError).shortMessage).toBe(
        "User:chorus-submitter is not allowed to create ACLs (ALTER on the cluster)",
      )
    })

    busContractSuite("kafka over SASL_SSL (admin)", {
      open: (): Promise<BusPort> =>
        openKafkaBus(options(secure!.admin, { clientId: "chorus-contract-secure" })),
      reopen: (): Promise<BusPort> =>
        openKafkaBus(options(secure!.admin, { clientId: "chorus-contract-secure" })),
      crash: (bus) => simulateCrash(bus),
      timeouts: { waitMs: 30_000, testMs: 120_000 },
    })
  },
)
