import { Kafka, logLevel } from "kafkajs"
import { type KafkaSecurity, kafkaSecurityFromEnv, toKafkaJS } from "./security.ts"

export interface DeletedLog {
  readonly topics: ReadonlyArray<string>
  readonly groups: ReadonlyArray<string>
}

const CHORUS_PREFIX = "chorus."

/**
 * Deletes every Chorus topic and consumer group from a Kafka cluster, and
 * waits until the topics are gone. Destructive by design: the devnet uses it
 * to start over on a development broker whose log came from an earlier
 * devnet, and tests use it for isolation. Groups with live members cannot be
 * deleted; stop the services first. TLS and SASL come from `security`, or
 * from the environment as for `openKafkaBus`; the principal must be allowed
 * to delete the topics and groups (an admin).
 *
 * @example
 * ```ts
 * const { topics } = await deleteChorusLog(["127.0.0.1:9092"])
 * ```
 */
export const deleteChorusLog = async (
  brokers: ReadonlyArray<string>,
  options: { readonly timeoutMs?: number; readonly security?: KafkaSecurity } = {},
): Promise<DeletedLog> => {
  const timeoutMs = options.timeoutMs ?? 60_000
  const kafka = new Kafka({
    clientId: "chorus-reset",
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    ...toKafkaJS(options.security ?? kafkaSecurityFromEnv()),
  })
  const admin = kafka.admin()
  await admin.connect()
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(CHORUS_PREFIX))
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(CHORUS_PREFIX))
    if (groups.length > 0) await admin.deleteGroups(groups)
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: timeoutMs })
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const left = (await admin.listTopics()).filter((t) => topics.includes(t))
      if (left.length === 0) break
      if (Date.now() > deadline) {
        throw new Error(`Kafka did not finish deleting ${left.join(", ")} within ${timeoutMs} ms; try again`)
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    return { topics, groups }
  } finally {
    await admin.disconnect()
  }
}
