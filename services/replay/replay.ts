/**
 * Replay: run a service's pure core over a window of its input log and
 * write what it decides to shadow topics, never to production.
 *
 * Pipeline:
 *   1. per instance (`ReplayTarget`), resolve the window, now, into offsets
 *      per input topic partition;
 *   2. load the chain reads the instances recorded on `chorus.lane.reads`
 *      (the log's copy of every RPC answer they used: no chain is called),
 *      in one pass over the topic for all of them;
 *   3. per instance and partition — the runtime's shard, a unit
 *      (`fold-unit.ts`) — fold every input from the partition's start up to
 *      the window's end, in the runtime's fold order (`foldLogInputs`):
 *      inputs before the window only rebuild the state, inputs in it have
 *      their outputs stamped with production's producer service and
 *      instance, so their ids are production's ids (`stamp.ts`);
 *   4. publish the outputs on the shadows of their production topics,
 *      instance by instance, partition by partition;
 *   5. last, write the manifest (`shadow.<suffix>.manifest`), which marks
 *      the replay finished and tells `chorus diff` what was replayed.
 *
 * Step 3 runs here, one unit after the other, or on `ReplayWorkers`, many at
 * once (several replays may share them); step 4 is the same either way, so
 * the shadows are too, record for record.
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
 * - An instance's partitions share one map of reads, in partition order: a
 *   fold takes out the reads of what it folds (`replayInWorkers` says how
 *   the threads keep to it).
 *
 * @module
 */
import { decodeAuthenticated } from "../../bus/events/decode-authenticated.ts"
import { assertDeclared, isShadowSuffix, readEvents, shadowTopicName } from "../../bus/events/index.ts"
import type { BusPort, BusRecord } from "../../bus/port.ts"
import { ChorusError } from "../../errors/index.ts"
import { type Envelope, HEADERS, isEventType } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { CHORUS_VERSION, producerOf } from "../runtime/index.ts"
import {
  type CheckedInput,
  type EncodedOutput,
  foldUnit,
  readsByCause,
  type UndecodableAt,
  type UnitRange,
  type UnitResult,
  undecodableAt,
  unitInputs,
} from "./fold-unit.ts"
import {
  encodeManifest,
  MANIFEST_FORMAT,
  type ManifestInstance,
  type ManifestShadow,
  manifestExists,
  type ReplayManifest,
} from "./manifest.ts"
import { manifestTopicName, manifestTopicSpec, shadowSpecOf, shadowWriter } from "./shadow-writer.ts"
import { builtFromConfig, type InputFilter, type ReplayTarget } from "./targets.ts"
import { checkWindow, formatBound, type PartitionWindow, type ReplayBound, resolveWindow } from "./window.ts"
import { type ReplayWorkers, type UnitTask, unitCost } from "./workers.ts"

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
  /**
   * Threads to check, decode and fold in (`ReplayWorkers`), several partitions and replays at once; the
   * shadows and the manifest are the same as without. The targets must be `replayTargets`' for the
   * workers' config, and the bus must authenticate as they do. Default: all in this thread.
   */
  readonly workers?: ReplayWorkers
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
  if (options.workers !== undefined) refuseForeignWorkers(options.workers, bus, targets)
  const writer = shadowWriter(bus)
  const productionTopics = [...new Set(targets.flatMap((t) => t.outputs))]
  await refuseUsedSuffix(bus, suffix, productionTopics)
  await writer.ensureTopics(productionTopics.map((topic) => shadowSpecOf(suffix, topic)))

  const written = new Map<string, number>(productionTopics.map((topic) => [topic, 0]))
  const undecodable: Array<{ topic: string; partition: number; offset: number; error: string }> = []
  let undecodableCount = 0
  const undecodableByTopic: Record<string, number> = {}
  const onUndecodable = (record: UndecodableAt) => {
    undecodableCount++
    undecodableByTopic[record.topic] = (undecodableByTopic[record.topic] ?? 0) + 1
    if (undecodable.length < UNDECODABLE_KEPT) {
      const { topic, partition, offset, error } = record
      undecodable.push({ topic, partition, offset, error })
    }
  }

  const publish = async (outputs: ReadonlyArray<EncodedOutput>) => {
    const fresh = [...new Set(outputs.map((o) => o.topic))].filter((t) => !written.has(t))
    if (fresh.length > 0) {
      await writer.ensureTopics(fresh.map((topic) => shadowSpecOf(suffix, topic)))
      for (const topic of fresh) written.set(topic, 0)
    }
    for (let i = 0; i < outputs.length; i += BATCH) {
      await writer.publish(
        outputs.slice(i, i + BATCH).map((o) => ({
          topic: shadowTopicName(suffix, o.topic),
          key: o.key,
          value: o.value,
          headers: o.headers,
        })),
      )
    }
    for (const output of outputs) written.set(output.topic, (written.get(output.topic) ?? 0) + 1)
  }

  const plans: InstancePlan[] = []
  for (const target of targets) plans.push(await planInstance(bus, target, options.from, to))
  const reads = await recordedReads(bus, targets, options.workers)
  const results =
    options.workers === undefined
      ? await replayHere(bus, plans, reads, publish)
      : await replayInWorkers(bus, options.workers, plans, reads, publish)

  const instances: ManifestInstance[] = []
  for (const [i, plan] of plans.entries()) {
    const { target } = plan
    const units = results[i]!
    // Each instance met the undecodable reads, then its inputs' (as a replay reading them itself meets them).
    const met = [...(target.readsRecorded ? reads.undecodable : []), ...units.flatMap((u) => u.undecodable)]
    for (const u of met) onUndecodable(u)
    const foldedBeforeWindow = new Set(units.flatMap((u) => u.foldedBeforeWindow))
    const sum = (pick: (u: UnitOutcome) => number) => units.reduce((n, u) => n + pick(u), 0)
    instances.push({
      instance: target.instance,
      ranges: plan.windows.map(({ topic, partition, low, from: start, to: end }) => ({
        topic,
        partition,
        low,
        from: start,
        to: end,
      })),
      counts: {
        before: sum((u) => u.before),
        replayed: sum((u) => u.replayed),
        duplicates: sum((u) => u.duplicates),
        undecodable: met.length,
        outputs: sum((u) => u.outputs),
      },
      foldedBeforeWindow: [...foldedBeforeWindow],
    })
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
    ...(first.unreplayed === null ? {} : { unreplayed: first.unreplayed }),
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

/** Workers fold with the cores and the policy of their config: refuses targets or a bus that differ. */
const refuseForeignWorkers = (workers: ReplayWorkers, bus: BusPort, targets: ReadonlyArray<ReplayTarget>) => {
  if (workers.authenticates !== (bus.authenticate !== undefined)) {
    throw new ReplayRefusedError(
      workers.authenticates
        ? "the replay threads hold records to the config's producers, but the bus takes every record"
        : "the bus holds records to a producer policy, but the replay threads take every record",
      {
        hint: "Start the workers with authenticate set as the bus was opened (trustedBus over the same config).",
      },
    )
  }
  const foreign = targets.filter((t) => !builtFromConfig(t.core, workers.config))
  if (foreign.length > 0) {
    throw new ReplayRefusedError(
      `the replay threads build their cores from their config, but ${foreign
        .map((t) => `${t.service}/${t.instance}`)
        .join(", ")} has a core built otherwise`,
      { hint: "Replay a core of your own without workers, or start the workers with the targets' config." },
    )
  }
}

/** One instance's windows, resolved now. */
interface InstancePlan {
  readonly target: ReplayTarget
  readonly partitions: ReadonlyArray<number>
  readonly windows: ReadonlyArray<PartitionWindow>
}

const planInstance = async (
  bus: BusPort,
  target: ReplayTarget,
  from: ReplayBound,
  to: ReplayBound,
): Promise<InstancePlan> => {
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
  return { target, partitions, windows }
}

/** A unit's ranges: each input topic's window on one partition, in input order. */
const unitRanges = (plan: InstancePlan, partition: number): UnitRange[] =>
  plan.target.inputs.map((topic, order) => {
    const window = plan.windows.find((w) => w.topic === topic && w.partition === partition)!
    return { topic, partition, low: window.low, from: window.from, to: window.to, order }
  })

/**
 * Reads a unit's records, range by range (a range with nothing before its end is not read). A well-formed
 * record whose headers and key say the target does not fold it (`passedOver`) is passed over unchecked: it is
 * no input of it.
 */
const readUnit = async (
  bus: BusPort,
  ranges: ReadonlyArray<UnitRange>,
  folds: InputFilter | undefined,
  onRecord: (range: number, record: BusRecord) => void,
): Promise<void> => {
  for (const [i, range] of ranges.entries()) {
    if (range.low >= range.to) continue
    assertDeclared(range.topic)
    for await (const record of bus.read({
      topic: range.topic,
      partitions: [range.partition],
      from: { offset: range.low },
      to: { offset: range.to },
    })) {
      if (folds === undefined || !passedOver(range.topic, record, folds)) onRecord(i, record)
    }
  }
}

/** A Chorus record key: a lane (`src-dst`) or a chain. */
const WELL_FORMED_KEY = /^[1-9][0-9]*(-[1-9][0-9]*)?$/

/**
 * Whether a record's own claims say it is surely no input of the target: a well-formed record (a known type,
 * a producer, a lane or chain key) that `folds` refuses. Any other record is checked and decoded, so one that
 * is malformed is reported undecodable, as production's consumer would dead-letter it, and never passed over.
 */
const passedOver = (topic: string, record: BusRecord, folds: InputFilter): boolean => {
  const type = record.headers[HEADERS.type]
  const producer = record.headers[HEADERS.producer]
  const { key } = record
  if (type === undefined || !isEventType(type) || producer === undefined) return false
  if (key === null || !WELL_FORMED_KEY.test(key)) return false
  return !folds(topic, { type, producer, key })
}

/** What a unit did, and how many outputs it published. */
type UnitOutcome = UnitResult & { readonly outputs: number }

/**
 * The reads every instance recorded on `chorus.lane.reads`, from one pass over the topic (as
 * `readRecordedReads` reads them, per instance): its records that decode, by the target instance that wrote
 * them, and the undecodable ones, which every instance that takes reads meets.
 */
interface RecordedReads {
  readonly undecodable: ReadonlyArray<UndecodableAt>
  /** Decoded here (a replay in this thread). */
  readonly envelopes: ReadonlyMap<string, ReadonlyArray<Envelope>>
  /** Checked by the threads, to decode there (a replay in threads), with their causes. */
  readonly records: ReadonlyMap<string, { readonly records: BusRecord[]; readonly causes: Set<string> }>
}

const instanceKey = (service: string, instance: string) => `${service}\u0000${instance}`

const recordedReads = async (
  bus: BusPort,
  targets: ReadonlyArray<ReplayTarget>,
  workers: ReplayWorkers | undefined,
): Promise<RecordedReads> => {
  const wanted = new Set(
    targets.filter((t) => t.readsRecorded).map((t) => instanceKey(t.service, t.instance)),
  )
  const undecodable: UndecodableAt[] = []
  const envelopes = new Map<string, Envelope[]>()
  const records = new Map<string, { records: BusRecord[]; causes: Set<string> }>()
  if (wanted.size === 0) return { undecodable, envelopes, records }
  if (workers === undefined) {
    for await (const read of readEvents(bus, { topic: TOPICS.laneReads.name, from: "earliest" })) {
      if (!read.ok) {
        undecodable.push(undecodableAt(read.record, read.error))
        continue
      }
      const { producer, causationId } = read.envelope
      const key = instanceKey(producer.service, producer.instance)
      if (!wanted.has(key) || causationId === null) continue
      const list = envelopes.get(key)
      if (list === undefined) envelopes.set(key, [read.envelope])
      else list.push(read.envelope)
    }
    return { undecodable, envelopes, records }
  }
  const checked = await workers.checkTopic(bus, TOPICS.laneReads.name)
  checked.answers.forEach((answer, i) => {
    const record = checked.records[i]!
    if (!answer.ok) {
      undecodable.push({
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        error: answer.error,
      })
      return
    }
    const key = instanceKey(answer.service, answer.instance)
    if (!wanted.has(key) || answer.causationId === null) return
    let mine = records.get(key)
    if (mine === undefined) {
      mine = { records: [], causes: new Set() }
      records.set(key, mine)
    }
    mine.records.push(record)
    mine.causes.add(answer.causationId)
  })
  return { undecodable, envelopes, records }
}

/** Every instance in this thread, partition by partition, each partition's outputs published once it is folded. */
const replayHere = async (
  bus: BusPort,
  plans: ReadonlyArray<InstancePlan>,
  recorded: RecordedReads,
  publish: (outputs: ReadonlyArray<EncodedOutput>) => Promise<void>,
): Promise<UnitOutcome[][]> => {
  const results: UnitOutcome[][] = []
  for (const plan of plans) {
    const { target } = plan
    const producer = producerOf(target.service, target.instance)
    // One map for all the instance's partitions: a fold takes out the reads of what it folded.
    const reads = readsByCause(recorded.envelopes.get(instanceKey(target.service, target.instance)) ?? [])
    const units: UnitOutcome[] = []
    for (const partition of plan.partitions) {
      const ranges = unitRanges(plan, partition)
      const checked: CheckedInput[][] = ranges.map(() => [])
      await readUnit(bus, ranges, target.folds, (i, record) => {
        checked[i]!.push({ record, checked: decodeAuthenticated(bus, record) })
      })
      const { inputs, undecodable } = unitInputs(ranges, checked, target.folds)
      const outputs: EncodedOutput[] = []
      const result = foldUnit({
        core: target.core,
        producer,
        ranges,
        inputs,
        reads,
        causes: NO_CAUSES,
        undecodable,
        emit: (output) => outputs.push(output),
      })
      await publish(outputs)
      units.push({ ...result, outputs: outputs.length })
    }
    results.push(units)
  }
  return results
}

const NO_CAUSES: ReadonlySet<string> = new Set()

/**
 * Every instance's partitions on the threads at once; the outputs are published in the order `replayHere`
 * publishes them, each unit once it and every unit before it are done.
 *
 * A fold takes out the reads of what it folded, and a replay in this thread folds an instance's partitions
 * one after the other with one map: an id folded on an earlier partition leaves none for a later one. A
 * unit on a thread starts from every read, so before a unit is published, its folded causes are held to
 * those of the instance's earlier units; if they share one (the same input on two partitions: only a
 * record copied onto another partition does that), the unit is folded again without those reads.
 */
const replayInWorkers = async (
  bus: BusPort,
  workers: ReplayWorkers,
  plans: ReadonlyArray<InstancePlan>,
  recorded: RecordedReads,
  publish: (outputs: ReadonlyArray<EncodedOutput>) => Promise<void>,
): Promise<UnitOutcome[][]> => {
  const replayId = `replay-${++replays}`
  interface Slot {
    readonly plan: InstancePlan
    readonly ranges: ReadonlyArray<UnitRange>
    readonly reads: UnitTask["reads"]
    outputs: EncodedOutput[][]
    done: Promise<UnitResult>
  }
  const run = (
    slot: Omit<Slot, "done" | "outputs">,
    exclude: ReadonlyArray<string>,
    outputs: EncodedOutput[][],
  ) =>
    workers.runUnit({
      service: slot.plan.target.service,
      instance: slot.plan.target.instance,
      reads: slot.reads,
      exclude,
      ranges: slot.ranges,
      size: unitCost(slot.ranges),
      feed: (post) => readUnit(bus, slot.ranges, slot.plan.target.folds, (i, record) => post(i, [record])),
      onOutputs: (chunk) => {
        outputs.push(chunk as EncodedOutput[])
      },
    })
  const slots: Slot[][] = plans.map((plan) => {
    const key = instanceKey(plan.target.service, plan.target.instance)
    const mine = plan.target.readsRecorded ? recorded.records.get(key) : undefined
    const reads = plan.target.readsRecorded
      ? { key: `${replayId}\u0000${key}`, records: mine?.records ?? [] }
      : null
    return plan.partitions.map((partition) => {
      const slot = { plan, ranges: unitRanges(plan, partition), reads }
      const outputs: EncodedOutput[][] = []
      return { ...slot, outputs, done: run(slot, [], outputs) }
    })
  })
  try {
    const results: UnitOutcome[][] = []
    for (const units of slots) {
      const taken = new Set<string>()
      const outcomes: UnitOutcome[] = []
      for (const slot of units) {
        let result = await slot.done
        const shared = result.foldedCauses.filter((id) => taken.has(id))
        if (shared.length > 0) {
          slot.outputs = []
          result = await run(slot, [...taken], slot.outputs)
        }
        for (const id of result.foldedCauses) taken.add(id)
        let count = 0
        for (const chunk of slot.outputs) {
          await publish(chunk)
          count += chunk.length
        }
        slot.outputs = []
        outcomes.push({ ...result, outputs: count })
      }
      results.push(outcomes)
    }
    return results
  } finally {
    for (const units of slots) if (units[0]?.reads) workers.forget(units[0].reads.key)
    // A unit still running when one failed: its failure is this replay's, already thrown.
    for (const units of slots) for (const slot of units) slot.done.catch(() => {})
  }
}

let replays = 0
