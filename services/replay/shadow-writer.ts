/**
 * The only way a replay writes: a guard over the bus that creates and
 * publishes to shadow topics (`shadow.<suffix>.<topic>`) and refuses any
 * other name, so a replay cannot touch a production topic whatever its code
 * does.
 *
 * Invariants:
 * - Every record of a publish is checked before any is written: a batch
 *   holding one production topic writes nothing.
 * - A shadow topic is created with its production topic's partitions and
 *   cleanup policy and retention, and its events keep their production keys,
 *   so each event lands on the partition it has in production.
 * - As with `publishEvents`, a record's timestamp is left to the bus (when
 *   the replay wrote it); the envelope keeps the event's own time.
 *
 * @module
 */
import { parseShadowTopic, SHADOW_PREFIX, shadowTopicName } from "../../bus/events/index.ts"
import type { BusPort, OutgoingRecord, RecordPosition, TopicSpec } from "../../bus/port.ts"
import { ChorusError } from "../../errors/index.ts"
import { type Envelope, encodeEnvelope } from "../../schemas/index.ts"
import { topicByName, topicFor } from "../../topology/index.ts"

/** Something tried to write a topic that is not a shadow topic. */
export class ProductionWriteRefusedError extends ChorusError {
  override readonly name = "ProductionWriteRefusedError"
  readonly topics: ReadonlyArray<string>
  constructor(topics: ReadonlyArray<string>) {
    super(
      `refused to write ${topics.map((t) => JSON.stringify(t)).join(", ")}: a replay writes only shadow topics ` +
        `(names starting with ${JSON.stringify(SHADOW_PREFIX)}), never production ones`,
      {
        details: { topics },
        metaMessages: ["Nothing of this batch was written."],
        hint: "This is a bug in the replay: report it.",
      },
    )
    this.topics = topics
  }
}

/**
 * The suffix a replay writes under when `--into` is not given: `<service>-<UTC yyyymmddThhmmss>`.
 *
 * @example
 * ```ts
 * defaultShadowSuffix("proof-builder", new Date("2026-11-21T16:02:00Z")) // "proof-builder-20261121T160200"
 * ```
 */
export const defaultShadowSuffix = (service: string, now: Date): string =>
  `${service}-${now
    .toISOString()
    .replace(/\.\d{3}Z$/, "")
    .replace(/[-:]/g, "")}`

/** The topic after the suffix that holds a replay's manifest. */
export const MANIFEST_TOPIC = "manifest"

/**
 * The manifest topic of a replay.
 *
 * @example
 * ```ts
 * manifestTopicName("fix-1") // "shadow.fix-1.manifest"
 * ```
 */
export const manifestTopicName = (suffix: string): string => shadowTopicName(suffix, MANIFEST_TOPIC)

/**
 * The manifest's topic: one partition, kept forever (it is the replay's record).
 *
 * @example
 * ```ts
 * await shadowWriter(bus).ensureTopics([manifestTopicSpec("fix-1")])
 * ```
 */
export const manifestTopicSpec = (suffix: string): TopicSpec => ({
  name: manifestTopicName(suffix),
  partitions: 1,
  cleanupPolicy: "delete",
  retentionMs: -1,
})

/**
 * The spec of a production topic's shadow: same partitions, cleanup policy and retention.
 *
 * @example
 * ```ts
 * shadowSpecOf("fix-1", "chorus.messages.proven") // { name: "shadow.fix-1.chorus.messages.proven", partitions: 6, … }
 * ```
 */
export const shadowSpecOf = (suffix: string, productionTopic: string): TopicSpec => {
  const declared = topicByName(productionTopic)
  if (declared === undefined) throw new RangeError(`${productionTopic} is not a declared topic`)
  return {
    name: shadowTopicName(suffix, productionTopic),
    partitions: declared.partitions,
    cleanupPolicy: declared.cleanupPolicy,
    retentionMs: declared.retentionMs,
  }
}

/** A bus that can only create and write shadow topics. */
export interface ShadowWriter {
  ensureTopics(specs: ReadonlyArray<TopicSpec>): Promise<void>
  publish(records: ReadonlyArray<OutgoingRecord>): Promise<ReadonlyArray<RecordPosition>>
  /** Publishes envelopes on the shadows (under `suffix`) of the topics their types travel on. */
  publishEvents(suffix: string, envelopes: ReadonlyArray<Envelope>): Promise<ReadonlyArray<RecordPosition>>
}

const refuseProduction = (names: ReadonlyArray<string>) => {
  const production = names.filter((name) => parseShadowTopic(name) === undefined)
  if (production.length > 0) throw new ProductionWriteRefusedError([...new Set(production)])
}

/**
 * Wraps a bus so that only shadow topics can be created or written.
 *
 * @example
 * ```ts
 * const writer = shadowWriter(bus)
 * await writer.publishEvents("fix-1", outputs) // to shadow.fix-1.<topic>
 * await writer.publish([{ topic: "chorus.messages.proven", key: null, value }]) // rejects: ProductionWriteRefusedError
 * ```
 */
export const shadowWriter = (bus: BusPort): ShadowWriter => {
  const publish = async (records: ReadonlyArray<OutgoingRecord>) => {
    refuseProduction(records.map((r) => r.topic))
    return records.length === 0 ? [] : bus.publish(records)
  }
  return {
    ensureTopics: async (specs) => {
      refuseProduction(specs.map((s) => s.name))
      await bus.ensureTopics(specs)
    },
    publish,
    publishEvents: (suffix, envelopes) =>
      publish(
        envelopes.map((envelope) => {
          const record = encodeEnvelope(envelope)
          return {
            topic: shadowTopicName(suffix, topicFor(envelope.type)),
            key: record.key,
            value: record.value,
            headers: record.headers,
          }
        }),
      ),
  }
}
