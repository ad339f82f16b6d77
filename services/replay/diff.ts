/**
 * Event-by-event comparison of what production wrote with what a replay
 * wrote, by deterministic event id.
 *
 * Pipeline:
 *   1. each side is deduplicated by id (at-least-once delivery republishes
 *      identical events; the copies are counted, not compared);
 *   2. an id on both sides is the same event: ids hash type, version, cause
 *      and payload, so equal ids mean equal content;
 *   3. the leftovers are paired by (causation id, type, key, ordinal among
 *      the leftovers of that cause, type and key): a pair is `changed`, with
 *      a field-level difference of its payloads (paths such as `proof[3]`
 *      or `checkpoint.root`);
 *   4. what stays unpaired is `missing` (production only) or `extra`
 *      (shadow only).
 *
 * Every difference names the messages it affects (`messagesOf`; by default
 * the message ids the event carries).
 *
 * @module
 */
import { Schema } from "effect"
import { type ChorusEvent, definitionOf, type Envelope, formatPath } from "../../schemas/index.ts"
import { messageIdsOf } from "./affected-messages.ts"

/** One field that differs: its path in the payload, and each side's value (`undefined`: absent). */
export interface FieldDifference {
  readonly path: string
  readonly production: unknown
  readonly shadow: unknown
}

/** A difference between the two sides: a closed set. */
export type EventDifference =
  | {
      readonly kind: "missing"
      /** Production wrote it; the replay did not. */
      readonly production: Envelope
      readonly messages: ReadonlyArray<string>
    }
  | {
      readonly kind: "extra"
      /** The replay wrote it; production did not. */
      readonly shadow: Envelope
      readonly messages: ReadonlyArray<string>
    }
  | {
      readonly kind: "changed"
      /** Same cause, type and key, different content. */
      readonly production: Envelope
      readonly shadow: Envelope
      readonly fields: ReadonlyArray<FieldDifference>
      readonly messages: ReadonlyArray<string>
    }

export interface EventDiffCounts {
  /** Distinct events on each side. */
  readonly production: number
  readonly shadow: number
  readonly identical: number
  readonly changed: number
  readonly missing: number
  readonly extra: number
  /** Copies of an event already counted (same id), on each side. */
  readonly productionDuplicates: number
  readonly shadowDuplicates: number
}

export interface EventDiff {
  readonly counts: EventDiffCounts
  /** In production's order, then the extras in the shadow's order. */
  readonly differences: ReadonlyArray<EventDifference>
}

/**
 * An event's payload as it travels (the wire form its id is hashed from).
 *
 * @example
 * ```ts
 * wirePayloadOf(envelope) // { checkpoint: { srcChainId: 901, … }, kind: "range", proof: ["0x…"], … }
 * ```
 */
export const wirePayloadOf = (envelope: Envelope): unknown =>
  Schema.encodeSync(definitionOf(envelope.event as ChorusEvent).schema)(envelope.event)

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * The fields where two JSON values differ, deepest first reached, in order.
 * Arrays are compared index by index; a side that is shorter shows `undefined`.
 *
 * @example
 * ```ts
 * diffFields({ proof: ["0xa", "0xb"] }, { proof: ["0xa", "0xc", "0xd"] })
 * // [{ path: "proof[1]", production: "0xb", shadow: "0xc" }, { path: "proof[2]", production: undefined, shadow: "0xd" }]
 * ```
 */
export const diffFields = (production: unknown, shadow: unknown): ReadonlyArray<FieldDifference> => {
  const out: FieldDifference[] = []
  const walk = (a: unknown, b: unknown, path: ReadonlyArray<PropertyKey>) => {
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        walk(i < a.length ? a[i] : undefined, i < b.length ? b[i] : undefined, [...path, i])
      }
      return
    }
    if (isRecord(a) && isRecord(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
      for (const key of keys) walk(a[key], b[key], [...path, key])
      return
    }
    if (!Object.is(a, b))
      out.push({ path: path.length === 0 ? "(payload)" : formatPath(path), production: a, shadow: b })
  }
  walk(production, shadow, [])
  return out
}

const dedupe = (envelopes: ReadonlyArray<Envelope>) => {
  const byId = new Map<string, Envelope>()
  for (const envelope of envelopes) if (!byId.has(envelope.id)) byId.set(envelope.id, envelope)
  return { byId, duplicates: envelopes.length - byId.size }
}

/**
 * The pairing key of a leftover: its producer instance, cause, type, key and ordinal among leftovers sharing
 * them (every operator answers the same proposal: their answers pair by instance, not by arrival).
 */
const pairingKeys = (leftovers: ReadonlyArray<Envelope>): Map<string, Envelope> => {
  const seen = new Map<string, number>()
  const keyed = new Map<string, Envelope>()
  for (const envelope of leftovers) {
    const group = JSON.stringify([
      envelope.producer.instance,
      envelope.causationId,
      envelope.type,
      envelope.key,
    ])
    const ordinal = seen.get(group) ?? 0
    seen.set(group, ordinal + 1)
    keyed.set(`${group}#${ordinal}`, envelope)
  }
  return keyed
}

/**
 * Compares production's events with a shadow's, by id.
 *
 * @example
 * ```ts
 * const { counts, differences } = diffEvents(productionEvents, shadowEvents)
 * counts.changed // events with the same cause, type and key but other content
 * ```
 */
export const diffEvents = (
  production: ReadonlyArray<Envelope>,
  shadow: ReadonlyArray<Envelope>,
  options: {
    readonly messagesOf?: (envelope: Envelope) => ReadonlyArray<string>
    /**
     * Top-level payload fields that differ by design, by event type (a shadow that signs with a throwaway
     * key): a pair that differs in nothing else is identical.
     */
    readonly resigned?: Readonly<Record<string, ReadonlyArray<string>>>
  } = {},
): EventDiff => {
  const messagesOf = options.messagesOf ?? ((envelope: Envelope) => messageIdsOf(envelope))
  const left = dedupe(production)
  const right = dedupe(shadow)
  const onlyLeft = [...left.byId.values()].filter((e) => !right.byId.has(e.id))
  const onlyRight = [...right.byId.values()].filter((e) => !left.byId.has(e.id))
  const rightKeys = pairingKeys(onlyRight)
  const paired = new Set<string>()
  const differences: EventDifference[] = []
  let changed = 0
  let missing = 0
  let resigned = 0
  for (const [key, envelope] of pairingKeys(onlyLeft)) {
    const match = rightKeys.get(key)
    if (match === undefined) {
      missing++
      differences.push({ kind: "missing", production: envelope, messages: messagesOf(envelope) })
      continue
    }
    paired.add(match.id)
    const byDesign = new Set(options.resigned?.[envelope.type] ?? [])
    const fields = [
      ...(envelope.version === match.version
        ? []
        : [{ path: "(schema version)", production: envelope.version, shadow: match.version }]),
      ...diffFields(wirePayloadOf(envelope), wirePayloadOf(match)),
    ].filter((field) => !byDesign.has(field.path))
    if (fields.length === 0) {
      resigned++
      continue
    }
    changed++
    const messages = [...new Set([...messagesOf(envelope), ...messagesOf(match)])]
    differences.push({ kind: "changed", production: envelope, shadow: match, fields, messages })
  }
  const extras = onlyRight.filter((e) => !paired.has(e.id))
  for (const envelope of extras)
    differences.push({ kind: "extra", shadow: envelope, messages: messagesOf(envelope) })
  return {
    counts: {
      production: left.byId.size,
      shadow: right.byId.size,
      identical: left.byId.size - onlyLeft.length + resigned,
      changed,
      missing,
      extra: extras.length,
      productionDuplicates: left.duplicates,
      shadowDuplicates: right.duplicates,
    },
    differences,
  }
}
