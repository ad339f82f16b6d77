/**
 * Replay: run a service's pure core over a window of its input log and
 * write what it decides to shadow topics, never to production.
 *
 * Pipeline, per instance (`ReplayTarget`):
 *   1. resolve the window, now, into offsets per input topic partition;
 *   2. load the chain reads the instance recorded on `chorus.lane.reads`
 *      (the log's copy of every RPC answer it used: no chain is called);
 *   3. per partition — the runtime's shard — fold every input from the
 *      partition's start up to the window's end, in the runtime's fold order
 *      (`foldLogInputs`): inputs before the window only rebuild the state,
 *      inputs in it have their outputs stamped with production's producer
 *      service and instance, so their ids are production's ids;
 *   4. publish the outputs on the shadows of their production topics;
 *   5. last, write the manifest (`shadow.<suffix>.manifest`), which marks
 *      the replay finished and tells `chorus diff` what was replayed.
 *
 * Invariants:
 * - Every write goes through `shadowWriter`, which refuses any topic whose
 *   name does not start with `shadow.`.
 * - A suffix is used once: a replay refuses a suffix that already has a
 *   manifest, or shadow topics holding records (an unfinished replay).
 * - With several input topics (the attestation-collector), an input is in
 *   the window by its own topic partition's bounds, and all inputs are
 *   folded in one order; time bounds cut every topic at the same instant,
 *   offset bounds cut each partition at the same offset.
 *
 * @module
 */
import { isShadowSuffix, type ReadError } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { ChorusError } from "../../errors/index.ts"
import type { Envelope } from "../../schemas/index.ts"
import { topicFor } from "../../topology/index.ts"
import {
  CHORUS_VERSION,
  foldLogInputs,
  type LogInputRange,
  producerOf,
  readLogInputs,
  readRecordedReads,
  stampOutputs,
} from "../runtime/index.ts"
import {
  encodeManifest,
  MANIFEST_FORMAT,
  type ManifestInstance,
  type ManifestRange,
  type ManifestShadow,
  manifestExists,
  type ReplayManifest,
} from "./manifest.ts"
import { manifestTopicName, manifestTopicSpec, shadowSpecOf, shadowWriter } from "./shadow-writer.ts"
import type { ReplayTarget } from "./targets.ts"
import { checkWindow, formatBound, type PartitionWindow, type ReplayBound, resolveWindow } from "./window.ts"

export interface ReplayOptions {
  readonly bus: BusPort
  /** The instances to replay, all of one service (`replayTargets`). */
  readonly targets: ReadonlyArray<ReplayTarget>
  readonly from: ReplayBound
  /** Exclusive; default latest (as of the start of the replay). */
  readonly to?: ReplayBound
  /** Shadow topics are `shadow.<suffix>.<production topic>`. */
  readonly suffix: string
  /** The replay's time for the manifest (default now). */
  readonly now?: Date
}

/** A replay that cannot start: bad suffix, suffix already used, no instance, mixed services. */
export class ReplayRefusedError extends ChorusError {
  override readonly name = "ReplayRefusedError"
}

/** Undecodable input records kept in the manifest (all are counted). */
const UNDECODABLE_KEPT = 20
/** Records per shadow publish. */
const BATCH = 500

/**
 * Replays the targets' cores over the window into shadow topics and writes the manifest.
 *
 * @example
 * ```ts
 * const manifest = await replay({
 *   bus, targets: replayTargets("proof-builder", config),
 *   from: parseReplayBound("0", "--from"), suffix: "fix-1",
 * })
 * manifest.shadows // [{ productionTopic: "chorus.checkpoints.proposed", shadowTopic: "shadow.fix-1.chorus.checkpoints.proposed", events: 6 }, …]
 * ```
 */
export const replay = async (options: ReplayOptions): Promise<ReplayManifest> => {
  const { bus, targets, suffix } = options
  const to = options.to ?? { kind: "latest" }
  const first = targets[0]
  if (first === undefined) {
    throw new ReplayRefusedError("nothing to replay: no instance was given", {
      hint: "Pass the targets replayTargets returns for the service.",
    })
  }
  const service = first.service
  const services = [...new Set(targets.map((t) => t.service))]
  if (services.length > 1) {
    throw new ReplayRefusedError(`one replay runs one service, got ${services.join(", ")}`, {
      details: { services },
      hint: "Replay each service on its own, each into its own suffix.",
    })
  }
  if (!isShadowSuffix(suffix)) {
    throw new ReplayRefusedError(
      `shadow suffix ${JSON.stringify(suffix)} must be letters, digits and dashes (at most 100)`,
      {
        details: { suffix },
        hint: "Choose another with --into (e.g. fix-chunking-1), or leave it out to get one.",
      },
    )
  }
  checkWindow(options.from, to)
  const writer = shadowWriter(bus)
  const productionTopics = [...new Set(targets.flatMap((t) => t.outputs))]
  await refuseUsedSuffix(bus, suffix, productionTopics)
  await writer.ensureTopics(productionTopics.map((topic) => shadowSpecOf(suffix, topic)))

  const written = new Map<string, number>(productionTopics.map((topic) => [topic, 0]))
  const undecodable: Array<{ topic: string; partition: number; offset: number; error: string }> = []
  let undecodableCount = 0
  const undecodableByTopic: Record<string, number> = {}
  const onUndecodable = (record: { topic: string; partition: number; offset: number }, error: ReadError) => {
    undecodableCount++
    undecodableByTopic[record.topic] = (undecodableByTopic[record.topic] ?? 0) + 1
    if (undecodable.length < UNDECODABLE_KEPT) {
      undecodable.push({
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        error: error.message,
      })
    }
  }

  const publish = async (outputs: ReadonlyArray<Envelope>) => {
    const fresh = [...new Set(outputs.map((e) => topicFor(e.type)))].filter((t) => !written.has(t))
    if (fresh.length > 0) {
      await writer.ensureTopics(fresh.map((topic) => shadowSpecOf(suffix, topic)))
      for (const topic of fresh) written.set(topic, 0)
    }
    for (let i = 0; i < outputs.length; i += BATCH) {
      await writer.publishEvents(suffix, outputs.slice(i, i + BATCH))
    }
    for (const output of outputs) {
      const topic = topicFor(output.type)
      written.set(topic, (written.get(topic) ?? 0) + 1)
    }
  }

  const instances: ManifestInstance[] = []
  for (const target of targets) {
    const result = await replayInstance(bus, target, options.from, to, onUndecodable)
    await publish(result.outputs)
    instances.push(result.manifest)
  }

  const shadows: ManifestShadow[] = [...written].map(([productionTopic, events]) => ({
    productionTopic,
    shadowTopic: shadowSpecOf(suffix, productionTopic).name,
    events,
  }))
  const sum = (pick: (i: ManifestInstance) => number) => instances.reduce((n, i) => n + pick(i), 0)
  const manifest: ReplayManifest = {
    format: MANIFEST_FORMAT,
    suffix,
    service,
    chorusVersion: CHORUS_VERSION,
    createdAt: (options.now ?? new Date()).toISOString(),
    window: { from: formatBound(options.from), to: formatBound(to) },
    instances,
    shadows,
    counts: {
      before: sum((i) => i.counts.before),
      replayed: sum((i) => i.counts.replayed),
      duplicates: sum((i) => i.counts.duplicates),
      undecodable: undecodableCount,
      outputs: sum((i) => i.counts.outputs),
    },
    undecodable,
    undecodableByTopic,
    resigned: first.resigned,
  }
  await writer.ensureTopics([manifestTopicSpec(suffix)])
  await writer.publish([{ topic: manifestTopicName(suffix), key: suffix, value: encodeManifest(manifest) }])
  return manifest
}

const refuseUsedSuffix = async (bus: BusPort, suffix: string, productionTopics: ReadonlyArray<string>) => {
  if (await manifestExists(bus, suffix)) {
    const topic = manifestTopicName(suffix)
    throw new ReplayRefusedError(
      `the shadow suffix ${JSON.stringify(suffix)} was used by an earlier replay (${topic} exists)`,
      { details: { suffix, topic }, hint: "Choose another with --into, or leave it out to get a new one." },
    )
  }
  for (const topic of productionTopics) {
    const name = shadowSpecOf(suffix, topic).name
    const marks = await bus.watermarks(name).catch(() => undefined)
    const records = marks?.reduce((n, m) => n + (m.high - m.low), 0) ?? 0
    if (records > 0) {
      throw new ReplayRefusedError(
        `${name} already holds ${records} record(s) from a replay that did not finish`,
        {
          details: { suffix, topic: name, records },
          hint: "Choose another suffix with --into.",
        },
      )
    }
  }
}

/** One instance: its windows, its fold per partition, its stamped outputs. */
const replayInstance = async (
  bus: BusPort,
  target: ReplayTarget,
  from: ReplayBound,
  to: ReplayBound,
  onUndecodable: (record: { topic: string; partition: number; offset: number }, error: ReadError) => void,
): Promise<{ readonly manifest: ManifestInstance; readonly outputs: ReadonlyArray<Envelope> }> => {
  const counts = await Promise.all(target.inputs.map((topic) => bus.partitions(topic)))
  if (new Set(counts).size > 1) {
    const inputs = target.inputs.map((topic, i) => ({ topic, partitions: counts[i]! }))
    throw new ReplayRefusedError(
      `${target.service}: input topics must be co-partitioned, but their partition counts differ (${inputs
        .map((i) => `${i.topic}=${i.partitions}`)
        .join(", ")})`,
      {
        details: { service: target.service, inputs },
        hint: "Production cannot run on such a log either: `chorus topics describe` shows the partition counts.",
      },
    )
  }
  const partitions = target.partitions(counts[0]!)
  const windows: PartitionWindow[] = []
  for (const topic of target.inputs) windows.push(...(await resolveWindow(bus, topic, partitions, from, to)))
  const windowOf = (topic: string, partition: number) =>
    windows.find((w) => w.topic === topic && w.partition === partition)!

  let undecodable = 0
  const note = (record: { topic: string; partition: number; offset: number }, error: ReadError) => {
    undecodable++
    onUndecodable(record, error)
  }
  const producer = producerOf(target.service, target.instance)
  const reads = target.readsRecorded
    ? await readRecordedReads(bus, {
        service: target.service,
        instance: target.instance,
        onUndecodable: note,
      })
    : new Map<string, Envelope[]>()
  const outputs: Envelope[] = []
  let before = 0
  let replayed = 0
  let duplicates = 0
  const foldedBeforeWindow = new Set<string>()
  for (const partition of partitions) {
    const ranges: LogInputRange[] = target.inputs.map((topic, order) => {
      const window = windowOf(topic, partition)
      return { topic, partition, from: window.low, to: window.to, order }
    })
    const inputs = await readLogInputs(bus, ranges, note)
    const inWindow = (record: { topic: string; offset: number }) =>
      record.offset >= windowOf(record.topic, partition).from
    const foldedInWindow = new Set<string>()
    const fold = foldLogInputs(target.core, inputs, reads, {
      onDecision: (input, decision) => {
        if (!inWindow(input.record)) {
          before++
          return
        }
        replayed++
        foldedInWindow.add(input.envelope.id)
        outputs.push(...stampOutputs(producer, input.envelope, decision.outputs))
      },
    })
    duplicates += fold.duplicates
    for (const input of inputs) {
      const id = input.envelope.id
      if (inWindow(input.record) && !foldedInWindow.has(id)) foldedBeforeWindow.add(id)
    }
  }
  const ranges: ManifestRange[] = windows.map(({ topic, partition, low, from: start, to: end }) => ({
    topic,
    partition,
    low,
    from: start,
    to: end,
  }))
  return {
    outputs,
    manifest: {
      instance: target.instance,
      ranges,
      counts: { before, replayed, duplicates, undecodable, outputs: outputs.length },
      foldedBeforeWindow: [...foldedBeforeWindow],
    },
  }
}
