/**
 * Creating Kafka ACLs (ALLOW, any host) idempotently: what `chorus topics
 * create --acls` does with the bindings `topology/acls.ts` derives.
 *
 * Invariants:
 * - Only missing bindings are created; a second run creates nothing and
 *   says so. Nothing is ever deleted: ACLs an admin added by hand stay.
 * - The result is read back from the brokers, so "created" means the
 *   authorizer holds it, not that a request was sent.
 * - A broker without an authorizer, or a principal that may not alter ACLs,
 *   fails with one clear `KafkaBusError`.
 *
 * @module
 */
import kafkajs, { type AclEntry, type Admin, Kafka, logLevel } from "kafkajs"
import { type AclBinding, aclKey } from "../../topology/acls.ts"
import { KafkaOperationError, KafkaTlsError, KafkaUnreachableError, translateKafkaError } from "./errors.ts"
import { type KafkaSecurity, kafkaSecurityFromEnv, principalOf, toKafkaJS } from "./security.ts"
import { refusedCertificate, trackSockets } from "./sockets.ts"

/** Where and as whom to create them: an admin of the cluster. */
export interface KafkaAclConnection {
  readonly brokers: ReadonlyArray<string>
  /** Default: from the environment, as `openKafkaBus` does. */
  readonly security?: KafkaSecurity
  /** How long to wait for the ACLs to show up after creating them. Default 15000. */
  readonly timeoutMs?: number
}

export interface EnsuredAcls {
  readonly created: ReadonlyArray<AclBinding>
  readonly existing: ReadonlyArray<AclBinding>
}

// kafkajs is CommonJS, and Node sees only some of its exports as named ones: these enums come from the default.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs

const RESOURCE = { topic: AclResourceTypes.TOPIC, group: AclResourceTypes.GROUP } as const
const PATTERN = { literal: ResourcePatternTypes.LITERAL, prefixed: ResourcePatternTypes.PREFIXED } as const
const OPERATION = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  create: AclOperationTypes.CREATE,
  delete: AclOperationTypes.DELETE,
} as const

const toEntry = (binding: AclBinding): AclEntry => ({
  principal: binding.principal,
  host: "*",
  operation: OPERATION[binding.operation],
  permissionType: AclPermissionTypes.ALLOW,
  resourceType: RESOURCE[binding.resourceType],
  resourceName: binding.resourceName,
  resourcePatternType: PATTERN[binding.patternType],
})

const invert = <K extends string>(table: Readonly<Record<K, number>>): Map<number, K> =>
  new Map(Object.entries(table).map(([key, value]) => [value as number, key as K]))
const RESOURCE_OF = invert(RESOURCE)
const PATTERN_OF = invert(PATTERN)
const OPERATION_OF = invert(OPERATION)

/** The ALLOW-for-any-host bindings the brokers hold, as keys. */
const describeAllowed = async (admin: Admin): Promise<Set<string>> => {
  const { resources } = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  })
  const keys = new Set<string>()
  for (const resource of resources) {
    const resourceType = RESOURCE_OF.get(resource.resourceType)
    const patternType = PATTERN_OF.get(resource.resourcePatternType)
    if (resourceType === undefined || patternType === undefined) continue
    for (const acl of resource.acls) {
      const operation = OPERATION_OF.get(acl.operation)
      if (operation === undefined || acl.permissionType !== AclPermissionTypes.ALLOW || acl.host !== "*")
        continue
      keys.add(
        aclKey({
          principal: acl.principal,
          resourceType,
          resourceName: resource.resourceName,
          patternType,
          operation,
        }),
      )
    }
  }
  return keys
}

/**
 * Creates the bindings the brokers do not hold yet.
 *
 * @example
 * ```ts
 * const { created } = await ensureKafkaAcls({ brokers: ["127.0.0.1:9093"] }, aclBindings({ services: SERVICE_DEFINITIONS, tools: TOOLS, topics: ALL_TOPICS }))
 * ```
 */
export const ensureKafkaAcls = async (
  connection: KafkaAclConnection,
  bindings: ReadonlyArray<AclBinding>,
): Promise<EnsuredAcls> => {
  const brokers = [...connection.brokers]
  const security = connection.security ?? kafkaSecurityFromEnv()
  const principal = principalOf(security)
  const context = { operation: "ensureAcls", brokers, ...(principal === undefined ? {} : { principal }) }
  const sockets = trackSockets()
  const admin = new Kafka({
    clientId: "chorus-acls",
    brokers,
    socketFactory: sockets.socketFactory,
    ...toKafkaJS(security),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 3 },
  }).admin()
  try {
    await Promise.race([
      admin.connect(),
      // A refused certificate stays refused: no point retrying.
      refusedCertificate(sockets),
    ])
    const before = await describeAllowed(admin)
    const missing = bindings.filter((binding) => !before.has(aclKey(binding)))
    if (missing.length > 0) await admin.createAcls({ acl: missing.map(toEntry) })
    const timeoutMs = connection.timeoutMs ?? 15_000
    const deadlineAt = Date.now() + timeoutMs
    for (;;) {
      const held = await describeAllowed(admin)
      const absent = missing.filter((binding) => !held.has(aclKey(binding)))
      if (absent.length === 0) break
      if (Date.now() > deadlineAt) {
        throw new KafkaOperationError(
          "ensureAcls",
          `${absent.length} ACL(s) were created but the brokers do not show them within ${timeoutMs} ms`,
          { brokers, absent: absent.length },
          "run `chorus topics create --acls` again: it creates only what is missing",
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return { created: missing, existing: bindings.filter((binding) => before.has(aclKey(binding))) }
  } catch (error) {
    const translated = translateKafkaError(error, context)
    const tls = sockets.lastTlsFailure
    if (translated instanceof KafkaUnreachableError && tls !== undefined) {
      throw new KafkaTlsError(tls.broker, "ensureAcls", tls.error.code, tls.error.message, tls.error)
    }
    throw translated
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}
