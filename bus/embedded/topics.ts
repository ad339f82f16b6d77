/**
 * Topic metadata on disk: `<dataDir>/topics/<name>/topic.json` beside the
 * partitions' segment files `<dataDir>/topics/<name>/<partition>.log`.
 *
 * Invariants:
 * - A topic exists exactly when its `topic.json` exists. Segment files are
 *   created first and the metadata is renamed into place last, so a crash in
 *   the middle of `ensureTopics` leaves no half-made topic behind.
 * - Metadata is never rewritten: an existing topic keeps its partition count
 *   and policies. `cleanupPolicy` and `retentionMs` are recorded but not
 *   enforced (the embedded log keeps every record).
 * - Names follow Kafka's rules (`[a-zA-Z0-9._-]{1,249}`, not `.` or `..`), so
 *   a topic name is always a safe directory name.
 *
 * @module
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type { TopicSpec } from "../port.ts"
import { fsyncDirectory, writeFileAtomic } from "./atomic-file.ts"
import { InvalidTopicError } from "./errors.ts"

const TOPIC_FILE = "topic.json"
const LEGAL_NAME = /^[a-zA-Z0-9._-]{1,249}$/

/**
 * Where a topic's files live.
 *
 * @example
 * ```ts
 * topicDir("/data", "chorus.x") // => "/data/topics/chorus.x"
 * ```
 */
export function topicDir(dataDir: string, topic: string): string {
  return join(dataDir, "topics", topic)
}

/**
 * A partition's segment file.
 *
 * @example
 * ```ts
 * segmentFile("/data", "chorus.x", 2) // => "/data/topics/chorus.x/2.log"
 * ```
 */
export function segmentFile(dataDir: string, topic: string, partition: number): string {
  return join(topicDir(dataDir, topic), `${partition}.log`)
}

/**
 * Throws {@link InvalidTopicError} unless the spec could be a Kafka topic.
 *
 * @example
 * ```ts
 * validateTopicSpec({ name: "chorus.x", partitions: 3, cleanupPolicy: "delete", retentionMs: -1 })
 * ```
 */
export function validateTopicSpec(spec: TopicSpec): void {
  validateTopicName(spec.name)
  if (!Number.isInteger(spec.partitions) || spec.partitions < 1 || spec.partitions > 10_000) {
    throw new InvalidTopicError(
      spec.name,
      `partitions must be an integer in 1..10000, got ${spec.partitions}`,
    )
  }
  if (spec.cleanupPolicy !== "delete" && spec.cleanupPolicy !== "compact") {
    throw new InvalidTopicError(spec.name, `unknown cleanup policy ${JSON.stringify(spec.cleanupPolicy)}`)
  }
  if (!Number.isInteger(spec.retentionMs) || spec.retentionMs < -1) {
    throw new InvalidTopicError(spec.name, `retentionMs must be -1 or a non-negative integer`)
  }
}

/**
 * Throws {@link InvalidTopicError} unless the name follows Kafka's topic naming rules.
 *
 * @example
 * ```ts
 * validateTopicName("chorus.messages.observed") // fine
 * validateTopicName("../etc") // throws InvalidTopicError
 * ```
 */
export function validateTopicName(name: string): void {
  if (!LEGAL_NAME.test(name) || name === "." || name === "..") {
    throw new InvalidTopicError(name, "use 1 to 249 of [a-zA-Z0-9._-], not . or ..")
  }
}

/**
 * Reads every topic's metadata from the data directory.
 *
 * @example
 * ```ts
 * loadTopics("/data").map((t) => t.name) // => ["chorus.messages.observed", …]
 * ```
 */
export function loadTopics(dataDir: string): ReadonlyArray<TopicSpec> {
  const root = join(dataDir, "topics")
  if (!existsSync(root)) return []
  const topics: TopicSpec[] = []
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const file = join(root, entry.name, TOPIC_FILE)
    if (!existsSync(file)) continue
    const parsed = JSON.parse(readFileSync(file, "utf8")) as TopicSpec
    const spec: TopicSpec = {
      name: parsed.name,
      partitions: parsed.partitions,
      cleanupPolicy: parsed.cleanupPolicy,
      retentionMs: parsed.retentionMs,
    }
    validateTopicSpec(spec)
    if (spec.name !== entry.name) {
      throw new InvalidTopicError(spec.name, `its metadata lives in ${file}, which belongs to another topic`)
    }
    topics.push(spec)
  }
  return topics
}

/**
 * Creates a topic's directory, empty segment files and (last) its metadata.
 *
 * @example
 * ```ts
 * createTopic("/data", spec, false)
 * ```
 */
export function createTopic(dataDir: string, spec: TopicSpec, durable: boolean): void {
  validateTopicSpec(spec)
  const dir = topicDir(dataDir, spec.name)
  mkdirSync(dir, { recursive: true })
  for (let partition = 0; partition < spec.partitions; partition++) {
    closeSync(openSync(segmentFile(dataDir, spec.name, partition), "a"))
  }
  const metadata = { ...spec, createdAt: new Date().toISOString() }
  writeFileAtomic(join(dir, TOPIC_FILE), `${JSON.stringify(metadata, null, 2)}\n`, durable)
  if (durable) fsyncDirectory(join(dataDir, "topics"))
}
