/**
 * A replay's manifest: what it replayed and what it wrote, as one raw JSON
 * record on `shadow.<suffix>.manifest` (not a Chorus event: it describes a
 * replay, it is not a fact of the relay).
 *
 * `chorus diff` finds it from a shadow topic's suffix and re-reads its
 * input ranges, so it compares a shadow only with what production wrote
 * for the same inputs.
 *
 * @module
 */
import { Exit, Schema } from "effect"
import type { BusPort } from "../../bus/port.ts"
import { ChorusError } from "../../errors/index.ts"
import { issuesOf, Uint } from "../../schemas/index.ts"
import { manifestTopicName } from "./shadow-writer.ts"

/** The manifest format this build writes and reads. */
export const MANIFEST_FORMAT = "chorus-replay-manifest/1"

/** One input topic partition: the state was rebuilt from `[low, from)`, `[from, to)` was replayed. */
export const ManifestRange = Schema.Struct({
  topic: Schema.String,
  partition: Uint,
  low: Uint,
  from: Uint,
  to: Uint,
})
export type ManifestRange = typeof ManifestRange.Type

/** How many inputs a replay met. */
export const ManifestCounts = Schema.Struct({
  /** Inputs before the window, folded to rebuild the state (outputs discarded). */
  before: Uint,
  /** Inputs in the window, folded with their outputs kept. */
  replayed: Uint,
  /** Inputs skipped because an input with the same id was folded before (as the runtime skips them). */
  duplicates: Uint,
  /** Records read that do not decode (inputs or recorded reads): not folded. */
  undecodable: Uint,
  /** Events written to shadow topics. */
  outputs: Uint,
})
export type ManifestCounts = typeof ManifestCounts.Type

/** One instance replayed. */
export const ManifestInstance = Schema.Struct({
  instance: Schema.String,
  ranges: Schema.Array(ManifestRange),
  counts: ManifestCounts,
  /**
   * Ids of inputs in the window that were not folded because the same input
   * had been folded before the window: their outputs were made then, so a
   * diff leaves them out.
   */
  foldedBeforeWindow: Schema.Array(Schema.String),
})
export type ManifestInstance = typeof ManifestInstance.Type

/** A shadow topic and how many events the replay wrote to it. */
export const ManifestShadow = Schema.Struct({
  productionTopic: Schema.String,
  shadowTopic: Schema.String,
  events: Uint,
})
export type ManifestShadow = typeof ManifestShadow.Type

/** A record the replay could not decode, with where it is. */
export const ManifestUndecodable = Schema.Struct({
  topic: Schema.String,
  partition: Uint,
  offset: Uint,
  error: Schema.String,
})

export const ReplayManifest = Schema.Struct({
  format: Schema.Literal(MANIFEST_FORMAT),
  suffix: Schema.String,
  service: Schema.String,
  /** The build that replayed (`CHORUS_VERSION`), stamped on every shadow event's producer. */
  chorusVersion: Schema.String,
  /** When the replay ran (ISO-8601). */
  createdAt: Schema.String,
  /** The window as given (`--from`, `--to`). */
  window: Schema.Struct({ from: Schema.String, to: Schema.String }),
  instances: Schema.Array(ManifestInstance),
  shadows: Schema.Array(ManifestShadow),
  counts: ManifestCounts,
  /** The first undecodable input records (all are counted in `counts.undecodable`). */
  undecodable: Schema.Array(ManifestUndecodable),
  /**
   * Fields the replay's outputs carry differently by design, by event type (a shadow operator signs with a
   * throwaway key): `diff` does not count them as changes. Absent in manifests written before.
   */
  resigned: Schema.optionalKey(Schema.Record(Schema.String, Schema.Array(Schema.String))),
  /** Outputs the replay does not make again, and why: `diff` reports them as not compared. */
  unreplayed: Schema.optionalKey(
    Schema.Struct({ types: Schema.Array(Schema.String), reason: Schema.String }),
  ),
  /** Every undecodable record, counted by topic (manifests written before it was kept lack it). */
  undecodableByTopic: Schema.optionalKey(Schema.Record(Schema.String, Uint)),
})
export type ReplayManifest = typeof ReplayManifest.Type

/** No manifest under a suffix, or one that does not decode. */
export class ManifestNotFoundError extends ChorusError {
  override readonly name = "ManifestNotFoundError"
  readonly suffix: string
  constructor(suffix: string, detail: string) {
    super(`no replay manifest for ${JSON.stringify(suffix)}: ${detail}`, {
      details: { suffix, topic: manifestTopicName(suffix) },
      hint:
        "A shadow topic can only be diffed when the replay that wrote it finished; " +
        "run that replay again (`chorus replay … --into <a new suffix>`) and diff the shadow topics it prints.",
    })
    this.suffix = suffix
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: true })

/**
 * The manifest as record bytes.
 *
 * @example
 * ```ts
 * await writer.publish([{ topic: manifestTopicName(suffix), key: suffix, value: encodeManifest(manifest) }])
 * ```
 */
export const encodeManifest = (manifest: ReplayManifest): Uint8Array =>
  encoder.encode(JSON.stringify(Schema.encodeSync(ReplayManifest)(manifest)))

/**
 * Decodes a manifest record, naming every field that is wrong.
 *
 * @example
 * ```ts
 * const manifest = decodeManifest(record.value, "fix-1")
 * ```
 */
export const decodeManifest = (value: Uint8Array, suffix: string): ReplayManifest => {
  let json: unknown
  try {
    json = JSON.parse(decoder.decode(value))
  } catch (error) {
    throw new ManifestNotFoundError(suffix, `its record is not JSON (${(error as Error).message})`)
  }
  const exit = Schema.decodeUnknownExit(ReplayManifest)(json, { errors: "all" })
  if (Exit.isSuccess(exit)) return exit.value
  const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
  const issues =
    failure !== undefined && Schema.isSchemaError(failure.error)
      ? issuesOf(failure.error)
          .map((i) => `${i.path || "(top level)"}: ${i.message}`)
          .join("; ")
      : "it does not decode"
  throw new ManifestNotFoundError(suffix, `its record is not a ${MANIFEST_FORMAT} manifest (${issues})`)
}

/**
 * Whether a replay already wrote a manifest under `suffix` (its topic exists and holds a record).
 *
 * @example
 * ```ts
 * if (await manifestExists(bus, "fix-1")) throw new Error("suffix taken")
 * ```
 */
export const manifestExists = async (bus: BusPort, suffix: string): Promise<boolean> => {
  const marks = await bus.watermarks(manifestTopicName(suffix)).catch(() => undefined)
  return marks?.some((m) => m.high > m.low) === true
}

/**
 * Reads the manifest of the replay written under `suffix`.
 *
 * @example
 * ```ts
 * const manifest = await readManifest(bus, "proof-builder-20261121T160200")
 * manifest.instances[0]!.ranges // the input ranges it replayed
 * ```
 */
export const readManifest = async (bus: BusPort, suffix: string): Promise<ReplayManifest> => {
  const topic = manifestTopicName(suffix)
  const exists = await bus.partitions(topic).then(
    () => true,
    () => false,
  )
  if (!exists) throw new ManifestNotFoundError(suffix, `${topic} does not exist on this bus`)
  let last: Uint8Array | undefined
  for await (const record of bus.read({ topic, from: "earliest" })) last = record.value
  if (last === undefined) throw new ManifestNotFoundError(suffix, `${topic} is empty`)
  return decodeManifest(last, suffix)
}
