/**
 * A replay's window, `[from, to)`: each bound an offset (the same on every
 * input partition) or a time (per partition, the first record at or after
 * it), resolved once against the log into offsets per topic partition.
 *
 * @module
 */
import type { BusPort } from "../../bus/port.ts"
import { ChorusError } from "../../errors/index.ts"

/** One end of a window. */
export type ReplayBound =
  | { readonly kind: "offset"; readonly offset: number }
  | { readonly kind: "time"; readonly time: number; readonly text: string }
  | { readonly kind: "latest" }

/** A bound that is neither an offset nor an ISO-8601 time, or a window that ends before it starts. */
export class InvalidReplayWindowError extends ChorusError {
  override readonly name = "InvalidReplayWindowError"
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}))?$/

/**
 * Parses `--from`/`--to`: a non-negative integer offset, or an ISO-8601
 * date (UTC midnight) or date-time with a zone (`Z` or `±hh:mm`).
 *
 * @example
 * ```ts
 * parseReplayBound("120", "--from")                    // { kind: "offset", offset: 120 }
 * parseReplayBound("2026-11-21T16:02:00Z", "--to")     // { kind: "time", time: 1795276920000, … }
 * parseReplayBound("yesterday", "--from")               // throws InvalidReplayWindowError
 * ```
 */
export const parseReplayBound = (raw: string, flag: string): ReplayBound => {
  const text = raw.trim()
  if (/^\d+$/.test(text)) {
    const offset = Number(text)
    if (!Number.isSafeInteger(offset)) {
      throw new InvalidReplayWindowError(`${flag} ${text} is too large`, {
        details: { flag, value: text },
        hint: `Give an offset no larger than ${Number.MAX_SAFE_INTEGER}, or a time.`,
      })
    }
    return { kind: "offset", offset }
  }
  const match = ISO.exec(text)
  const time = match === null ? Number.NaN : Date.parse(text.replace(" ", "T"))
  if (match === null || Number.isNaN(time)) {
    throw new InvalidReplayWindowError(
      `${flag} ${JSON.stringify(raw)} is neither an offset (a non-negative integer) nor an ISO-8601 time with a zone`,
      {
        details: { flag, value: raw },
        hint: `Write ${flag} as an offset (e.g. 120) or a time with its zone (e.g. 2026-11-21T16:02:00Z or 2026-11-21T17:02:00+01:00).`,
      },
    )
  }
  return { kind: "time", time, text }
}

/**
 * How a bound is written back (the manifest, the report).
 *
 * @example
 * ```ts
 * formatBound({ kind: "latest" }) // "latest"
 * ```
 */
export const formatBound = (bound: ReplayBound): string =>
  bound.kind === "offset" ? String(bound.offset) : bound.kind === "time" ? bound.text : "latest"

/**
 * Refuses a window that is empty by construction: both ends offsets, or both times, with `from >= to`.
 *
 * @example
 * ```ts
 * checkWindow({ kind: "offset", offset: 9 }, { kind: "offset", offset: 3 }) // throws
 * ```
 */
export const checkWindow = (from: ReplayBound, to: ReplayBound): void => {
  if (from.kind === "latest") {
    throw new InvalidReplayWindowError("--from cannot be latest: nothing would be replayed", {
      details: { from: "latest" },
      hint: "Give --from an offset or a time.",
    })
  }
  const empty =
    (from.kind === "offset" && to.kind === "offset" && from.offset >= to.offset) ||
    (from.kind === "time" && to.kind === "time" && from.time >= to.time)
  if (empty) {
    const [start, end] = [formatBound(from), formatBound(to)]
    throw new InvalidReplayWindowError(`--from ${start} is not before --to ${end}`, {
      details: { from: start, to: end },
      hint: "--to is exclusive: give one after --from, or leave it out to replay up to the latest record.",
    })
  }
}

/** A window on one topic partition: the state before `from` is rebuilt from `[low, from)`. */
export interface PartitionWindow {
  readonly topic: string
  readonly partition: number
  /** The partition's first offset when the replay ran. */
  readonly low: number
  /** First offset replayed. */
  readonly from: number
  /** Exclusive. */
  readonly to: number
}

/**
 * Resolves a window on some partitions of a topic, now: offsets are clamped
 * to the partition, times looked up with `offsetsForTimestamp`, `latest` is
 * the high watermark. A partition whose `from` lands past its `to` gets an
 * empty window.
 *
 * @example
 * ```ts
 * await resolveWindow(bus, "chorus.messages.observed", [0, 1], { kind: "offset", offset: 10 }, { kind: "latest" })
 * // [{ topic, partition: 0, low: 0, from: 10, to: 42 }, { topic, partition: 1, low: 0, from: 10, to: 17 }]
 * ```
 */
export const resolveWindow = async (
  bus: BusPort,
  topic: string,
  partitions: ReadonlyArray<number>,
  from: ReplayBound,
  to: ReplayBound,
): Promise<ReadonlyArray<PartitionWindow>> => {
  const marks = await bus.watermarks(topic)
  const byTime = new Map<number, Map<number, number>>()
  const offsetsAt = async (time: number) => {
    let offsets = byTime.get(time)
    if (offsets === undefined) {
      offsets = new Map((await bus.offsetsForTimestamp(topic, time)).map((o) => [o.partition, o.offset]))
      byTime.set(time, offsets)
    }
    return offsets
  }
  const resolve = async (bound: ReplayBound, partition: number, low: number, high: number) => {
    const clamp = (offset: number) => Math.min(Math.max(offset, low), high)
    switch (bound.kind) {
      case "offset":
        return clamp(bound.offset)
      case "time":
        return clamp((await offsetsAt(bound.time)).get(partition) ?? high)
      case "latest":
        return high
    }
  }
  const windows: PartitionWindow[] = []
  for (const partition of partitions) {
    const mark = marks.find((m) => m.partition === partition)
    if (mark === undefined) throw new RangeError(`${topic} has no partition ${partition}`)
    const end = await resolve(to, partition, mark.low, mark.high)
    const start = Math.min(await resolve(from, partition, mark.low, mark.high), end)
    windows.push({ topic, partition, low: mark.low, from: start, to: end })
  }
  return windows
}
