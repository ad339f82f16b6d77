/**
 * `chorus diff` on a bus: a shadow topic against its production topic,
 * restricted to what the replay replayed.
 *
 * Pipeline:
 *   1. the shadow's name gives the replay's suffix and its production topic;
 *      the manifest (`shadow.<suffix>.manifest`) gives the service, its
 *      instances and the input ranges it replayed;
 *   2. the input ranges are read again: their ids are the causes in scope
 *      (less the inputs the replay did not fold because the same input had
 *      been folded before the window);
 *   3. production's events in scope are those caused by one of those inputs
 *      and written by the replayed service and instances — except a step's
 *      records (the submitter's, stamped beside their `DestinationRead`),
 *      which are in scope when their read is in the window, whatever their
 *      cause; the rest of the topic is counted as out of scope;
 *   4. `diffEvents`, then every difference's messages are resolved
 *      (`makeMessageResolver`). On a compacted topic (the watcher cursors),
 *      a shadow event whose key production holds at a later time is counted
 *      as compacted away, not as extra: compaction keeps only the latest
 *      event per key, so its absence says nothing.
 *
 * Records that do not decode, on either side, are reported with their
 * position, never skipped silently.
 *
 * @module
 */
import { parseShadowTopic, readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { ChorusError } from "../../errors/index.ts"
import type { Envelope } from "../../schemas/index.ts"
import { TOPICS, topicByName } from "../../topology/index.ts"
import { makeMessageResolver } from "./affected-messages.ts"
import { diffEvents, type EventDiff, type EventDifference } from "./diff.ts"
import { type ReplayManifest, readManifest } from "./manifest.ts"

/**
 * A step's records share its read's producer instance, cause and time. Two steps of one cause in one
 * millisecond share a key: a window cut by time takes both or neither; one cut by offsets between them
 * counts both as replayed.
 */
const stepKey = (instance: string, cause: string, time: string) =>
  `${instance}\u0000${cause}@${Date.parse(time)}`

/**
 * The steps the replayed instances recorded (`DestinationRead`, stamped beside the records they made), by
 * instance, cause and time: those the replay folded in its window, and the others — whose records the replay
 * did not make, even when their cause is in the window. Each partition of the reads topic is read once, and
 * each read is judged by the window and the skipped inputs of the instance that wrote it.
 */
const stepsOf = async (bus: BusPort, manifest: ReplayManifest) => {
  const topic = TOPICS.laneReads.name
  const byInstance = new Map(
    manifest.instances.map((i) => [
      i.instance,
      {
        ranges: new Map(i.ranges.filter((r) => r.topic === topic).map((r) => [r.partition, r])),
        skipped: new Set(i.foldedBeforeWindow),
      },
    ]),
  )
  const lows = new Map<number, number>()
  for (const { ranges } of byInstance.values())
    for (const r of ranges.values()) lows.set(r.partition, Math.min(lows.get(r.partition) ?? r.low, r.low))
  const replayed = new Set<string>()
  const notReplayed = new Set<string>()
  for (const [partition, low] of lows) {
    for await (const read of readEvents(bus, { topic, partitions: [partition], from: { offset: low } })) {
      if (!read.ok) continue
      const { envelope, record } = read
      const writer = byInstance.get(envelope.producer.instance)
      const range = writer?.ranges.get(partition)
      if (
        envelope.type !== "DestinationRead" ||
        envelope.causationId === null ||
        envelope.producer.service !== manifest.service ||
        writer === undefined ||
        range === undefined ||
        record.offset < range.low
      )
        continue
      // A copy of a read folded before the window made nothing in it.
      const inWindow =
        record.offset >= range.from && record.offset < range.to && !writer.skipped.has(envelope.id)
      ;(inWindow ? replayed : notReplayed).add(
        stepKey(envelope.producer.instance, envelope.causationId, envelope.time),
      )
    }
  }
  return { replayed, notReplayed }
}

/** The two topics cannot be compared: not a shadow, not each other's pair, or missing. */
export class DiffRefusedError extends ChorusError {
  override readonly name = "DiffRefusedError"
}

/** A record that did not decode, and where. */
export interface UndecodableAt {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly error: string
}

export interface ShadowDiffReport {
  readonly productionTopic: string
  readonly shadowTopic: string
  readonly manifest: ReplayManifest
  readonly scope: {
    /** Distinct replayed inputs whose outputs are compared. */
    readonly inputs: number
    /** Production events on the topic caused by other inputs or written by other producers. */
    readonly productionOutOfScope: number
    /** Production events in scope of types the replay does not make again (`unreplayed`), and why. */
    readonly productionNotReplayed: { readonly count: number; readonly reason: string | null }
    /**
     * On a compacted topic (the watcher cursors): shadow events production
     * no longer holds because a later event with the same key superseded
     * them. Compaction removed them, so they are not counted as extra.
     */
    readonly compactedAway: number
  }
  /** Records that do not decode: in production (not comparable), in the shadow, in the input ranges. */
  readonly undecodable: ReadonlyArray<UndecodableAt>
  readonly diff: EventDiff
}

/**
 * Whether a report found no difference.
 *
 * @example
 * ```ts
 * process.exitCode = isEmptyDiff(report) ? 0 : 1
 * ```
 */
export const isEmptyDiff = (report: ShadowDiffReport): boolean => report.diff.differences.length === 0

const topicExists = (bus: BusPort, topic: string) =>
  bus.partitions(topic).then(
    () => true,
    () => false,
  )

/**
 * Compares a shadow topic with its production topic over the replayed inputs.
 *
 * @example
 * ```ts
 * const report = await diffShadowTopic(bus, {
 *   productionTopic: "chorus.messages.proven",
 *   shadowTopic: "shadow.fix-1.chorus.messages.proven",
 * })
 * report.diff.counts // { identical: 36, changed: 0, missing: 0, extra: 0, … }
 * ```
 */
export const diffShadowTopic = async (
  bus: BusPort,
  options: { readonly productionTopic: string; readonly shadowTopic: string },
): Promise<ShadowDiffReport> => {
  const { productionTopic, shadowTopic } = options
  if (topicByName(productionTopic) === undefined) {
    throw parseShadowTopic(productionTopic) === undefined
      ? new DiffRefusedError(`${JSON.stringify(productionTopic)} is not a declared production topic`, {
          details: { productionTopic },
          hint: "`chorus topology` lists them.",
        })
      : new DiffRefusedError(`${productionTopic} is a shadow topic`, {
          details: { productionTopic },
          hint: "Give the production topic first, then the shadow.",
        })
  }
  const shadow = parseShadowTopic(shadowTopic)
  if (shadow === undefined) {
    throw new DiffRefusedError(
      `${JSON.stringify(shadowTopic)} is not a shadow topic (shadow.<suffix>.<topic>)`,
      {
        details: { shadowTopic },
        hint: "`chorus replay` prints the shadow topics it wrote.",
      },
    )
  }
  if (shadow.topic !== productionTopic) {
    throw new DiffRefusedError(`${shadowTopic} is the shadow of ${shadow.topic}, not of ${productionTopic}`, {
      details: { productionTopic, shadowTopic },
      hint: `Compare it with ${shadow.topic}.`,
    })
  }
  const manifest = await readManifest(bus, shadow.suffix)
  const written = manifest.shadows.map((s) => s.shadowTopic)
  if (!written.includes(shadowTopic)) {
    throw new DiffRefusedError(`the ${manifest.service} replay ${shadow.suffix} wrote no ${shadowTopic}`, {
      details: { suffix: shadow.suffix, shadowTopic, written },
      hint: `It wrote ${written.join(", ")}; compare one of those.`,
    })
  }
  for (const topic of [productionTopic, shadowTopic]) {
    if (!(await topicExists(bus, topic))) {
      throw new DiffRefusedError(`${topic} does not exist on this bus`, {
        details: { topic },
        hint: "The replay's manifest is on this bus, so the topic was deleted since; `chorus topics describe` lists what it holds.",
      })
    }
  }

  const undecodable: UndecodableAt[] = []
  const note = (record: { topic: string; partition: number; offset: number }, error: { message: string }) =>
    undecodable.push({
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      error: error.message,
    })

  const causes = new Map<string, Envelope>()
  for (const instance of manifest.instances) {
    const skipped = new Set(instance.foldedBeforeWindow)
    for (const range of instance.ranges) {
      if (range.from >= range.to) continue
      for await (const read of readEvents(bus, {
        topic: range.topic,
        partitions: [range.partition],
        from: { offset: range.from },
        to: { offset: range.to },
      })) {
        if (!read.ok) note(read.record, read.error)
        else if (!skipped.has(read.envelope.id)) causes.set(read.envelope.id, read.envelope)
      }
    }
  }

  const instances = new Set(manifest.instances.map((i) => i.instance))
  const steps = await stepsOf(bus, manifest)
  const production: Envelope[] = []
  let outOfScope = 0
  const unreplayed = new Set(manifest.unreplayed?.types ?? [])
  let notReplayed = 0
  /** The latest event time per key in production, for a compacted topic. */
  const latestByKey = new Map<string, number>()
  for await (const read of readEvents(bus, { topic: productionTopic, from: "earliest" })) {
    if (!read.ok) {
      note(read.record, read.error)
      continue
    }
    const { envelope } = read
    const time = Date.parse(envelope.time)
    if ((latestByKey.get(envelope.key) ?? Number.NEGATIVE_INFINITY) < time)
      latestByKey.set(envelope.key, time)
    const cause = envelope.causationId
    const step = cause === null ? "" : stepKey(envelope.producer.instance, cause, envelope.time)
    const inScope =
      cause !== null &&
      (steps.replayed.has(step) || (causes.has(cause) && !steps.notReplayed.has(step))) &&
      envelope.producer.service === manifest.service &&
      instances.has(envelope.producer.instance)
    if (inScope && unreplayed.has(envelope.type)) notReplayed++
    else if (inScope) production.push(envelope)
    else outOfScope++
  }
  const shadowEvents: Envelope[] = []
  for await (const read of readEvents(bus, { topic: shadowTopic, from: "earliest" })) {
    if (read.ok) shadowEvents.push(read.envelope)
    else note(read.record, read.error)
  }

  const diff = diffEvents(production, shadowEvents, { resigned: manifest.resigned ?? {} })
  const compacted = topicByName(productionTopic)!.cleanupPolicy === "compact"
  const supersededInProduction = (difference: EventDifference) =>
    compacted &&
    difference.kind === "extra" &&
    (latestByKey.get(difference.shadow.key) ?? Number.NEGATIVE_INFINITY) >= Date.parse(difference.shadow.time)
  const compactedAway = diff.differences.filter(supersededInProduction).length
  const resolve = makeMessageResolver(bus, causes)
  const differences: EventDifference[] = []
  for (const difference of diff.differences) {
    if (supersededInProduction(difference)) continue
    if (difference.messages.length > 0) {
      differences.push(difference)
      continue
    }
    const sides = difference.kind === "extra" ? [difference.shadow] : [difference.production]
    if (difference.kind === "changed") sides.push(difference.shadow)
    const messages = new Set<string>()
    for (const side of sides) for (const id of await resolve(side)) messages.add(id)
    differences.push({ ...difference, messages: [...messages] })
  }
  return {
    productionTopic,
    shadowTopic,
    manifest,
    scope: {
      inputs: causes.size,
      productionOutOfScope: outOfScope,
      productionNotReplayed: { count: notReplayed, reason: manifest.unreplayed?.reason ?? null },
      compactedAway,
    },
    undecodable,
    diff: { counts: { ...diff.counts, extra: diff.counts.extra - compactedAway }, differences },
  }
}
