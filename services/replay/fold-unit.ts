/**
 * One unit of a replay: one instance's fold over one input partition (the
 * runtime's shard), from raw records to encoded shadow records. The same
 * code runs in the replaying thread and in a replay worker
 * (`replay-worker.ts`), so where it runs changes nothing it produces.
 *
 * Pipeline: each input record is checked and decoded by `check` (the
 * producer policy, then the codec: `decodeAuthenticated`'s answer), the
 * inputs are put in fold order (`compareLogInputs`), folded once per id
 * (`foldLogInputs`) with the instance's recorded reads, and each decision
 * in the window is stamped with production's producer and encoded as the
 * record the shadow gets (`encodeEnvelope(stampOutputs(…))`, byte for byte).
 *
 * Invariants:
 * - An input is in the window by its own topic partition's `from`; inputs
 *   before it only rebuild the state.
 * - Undecodable inputs are reported in read order (range by range, offset by
 *   offset), as `readLogInputs` met them.
 * - `reads` is the instance's map by cause; the fold takes out the reads of
 *   every input it folds, as the runtime's fold does.
 *
 * @module
 */

import {
  ownerMismatch,
  type ProducerPolicy,
  type SignatureMemory,
  UnauthenticatedRecordError,
} from "../../bus/authentication/index.ts"
import type { ReadError } from "../../bus/events/index.ts"
import type { BusRecord } from "../../bus/port.ts"
import { decodeRecord, type Envelope, type Producer, producerClaim } from "../../schemas/index.ts"
import {
  compareLogInputs,
  foldLogInputs,
  type LaneCore,
  type LogInput,
  stampSourceOf,
} from "../runtime/index.ts"
import { type EncodedOutput, stamper } from "./stamp.ts"
import type { InputFilter } from "./targets.ts"

/** A record's check: decoded and allowed, or why not (what `decodeAuthenticated` answers). */
export type CheckedRecord =
  | { readonly ok: true; readonly value: Envelope }
  | { readonly ok: false; readonly error: ReadError }

/** One input topic partition of a unit, with its window. */
export interface UnitRange {
  readonly topic: string
  readonly partition: number
  /** First offset read (the partition's low: the state is rebuilt from it). */
  readonly low: number
  /** First offset replayed. */
  readonly from: number
  /** Exclusive end. */
  readonly to: number
  /** The topic's index in the service's inputs (the fold order's tie-break). */
  readonly order: number
}

export type { EncodedOutput } from "./stamp.ts"

/** Where an undecodable record is, and why. */
export interface UndecodableAt {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly error: string
}

/** What one unit did. */
export interface UnitResult {
  readonly before: number
  readonly replayed: number
  readonly duplicates: number
  /** Undecodable inputs, in read order. */
  readonly undecodable: ReadonlyArray<UndecodableAt>
  /** Ids of inputs in the window that were not folded because the same input was folded before (in order met). */
  readonly foldedBeforeWindow: ReadonlyArray<string>
  /**
   * The inputs folded that have reads recorded for them (`causes`): a fold takes those reads out, so a
   * later partition of the same instance folding the same id must not see them (see `replay.ts`).
   */
  readonly foldedCauses: ReadonlyArray<string>
}

/**
 * A record's check by a producer policy (none: every record is taken), as `decodeAuthenticated` answers it
 * on a bus that holds records to that policy, without remembering answers: a replay thread meets each
 * record once. The signature first, then the codec, then the owner (part of the content).
 *
 * @example
 * ```ts
 * const check = checkBy(busIdentitiesOf(config).policy)
 * check(record) // { ok: true, value: envelope } or { ok: false, error }
 * ```
 */
export const checkBy =
  (policy: ProducerPolicy | undefined, signatures?: SignatureMemory) =>
  (record: BusRecord): CheckedRecord => {
    const authenticated = policy?.authenticate(record, signatures)
    if (authenticated !== undefined && !authenticated.ok) {
      return { ok: false, error: new UnauthenticatedRecordError(authenticated) }
    }
    const decoded = decodeRecord(record)
    if (!decoded.ok || authenticated === undefined) return decoded
    const mismatch = ownerMismatch(decoded.value, authenticated.grant)
    return mismatch === undefined ? decoded : { ok: false, error: new UnauthenticatedRecordError(mismatch) }
  }

/** An input record with its check, as read. */
export interface CheckedInput {
  readonly record: BusRecord
  readonly checked: CheckedRecord
}

/**
 * A unit's inputs in fold order, from its records checked range by range (in read order), and the
 * undecodable ones in that order: what `readLogInputs` gives. An event the target does not fold from its
 * topic (`folds`: another service's read on the reads topic) is no input of it.
 *
 * @example
 * ```ts
 * const { inputs, undecodable } = unitInputs(ranges, [records.map((record) => ({ record, checked: check(record) }))])
 * ```
 */
export const unitInputs = (
  ranges: ReadonlyArray<UnitRange>,
  checked: ReadonlyArray<ReadonlyArray<CheckedInput>>,
  folds: InputFilter | undefined = undefined,
): { readonly inputs: LogInput[]; readonly undecodable: UndecodableAt[] } => {
  const inputs: LogInput[] = []
  const undecodable: UndecodableAt[] = []
  ranges.forEach((range, i) => {
    for (const { record, checked: answer } of checked[i] ?? []) {
      if (!answer.ok) undecodable.push(undecodableAt(record, answer.error))
      else if (
        folds === undefined ||
        folds(range.topic, {
          type: answer.value.type,
          producer: producerClaim(answer.value.producer),
          key: answer.value.key,
        })
      )
        inputs.push({ envelope: answer.value, record, order: range.order })
    }
  })
  return { inputs: inputs.sort(compareLogInputs), undecodable }
}

/** The manifest's note of an undecodable record. */
export const undecodableAt = (record: BusRecord, error: ReadError): UndecodableAt => ({
  topic: record.topic,
  partition: record.partition,
  offset: record.offset,
  error: error.message,
})

/**
 * Folds a unit's inputs (in fold order) and encodes the outputs of those in the window.
 *
 * @example
 * ```ts
 * const result = foldUnit({ core, producer, ranges, inputs, reads, emit: (o) => outputs.push(o) })
 * ```
 */
export const foldUnit = (options: {
  readonly core: LaneCore<unknown>
  readonly producer: Producer
  readonly ranges: ReadonlyArray<UnitRange>
  readonly inputs: ReadonlyArray<LogInput>
  readonly reads: Map<string, Envelope[]>
  /** Every cause the instance recorded reads for (before any fold took some out). */
  readonly causes: ReadonlySet<string> | ReadonlyMap<string, unknown>
  readonly undecodable: ReadonlyArray<UndecodableAt>
  /** Called with each output, in order. */
  readonly emit: (output: EncodedOutput) => void
}): UnitResult => {
  const { core, producer, ranges, inputs, emit } = options
  const windowFrom = new Map<string, number>(ranges.map((r) => [r.topic, r.from]))
  const inWindow = (record: { topic: string; offset: number }) =>
    record.offset >= windowFrom.get(record.topic)!
  let before = 0
  let replayed = 0
  const foldedInWindow = new Set<string>()
  const stamp = stamper(producer)
  const foldedCauses = new Set<string>()
  const fold = foldLogInputs(core, inputs, options.reads, {
    onDecision: (input, decision) => {
      if (options.causes.has(input.envelope.id)) foldedCauses.add(input.envelope.id)
      if (!inWindow(input.record)) {
        before++
        return
      }
      replayed++
      foldedInWindow.add(input.envelope.id)
      const source = stampSourceOf(input.envelope, decision)
      for (const event of decision.outputs) emit(stamp(source, event))
    },
  })
  const foldedBeforeWindow = new Set<string>()
  for (const input of inputs) {
    const id = input.envelope.id
    if (inWindow(input.record) && !foldedInWindow.has(id)) foldedBeforeWindow.add(id)
  }
  return {
    before,
    replayed,
    duplicates: fold.duplicates,
    undecodable: options.undecodable,
    foldedBeforeWindow: [...foldedBeforeWindow],
    foldedCauses: [...foldedCauses],
  }
}

/**
 * The reads one instance recorded, by cause, from the records of the reads topic it wrote (in log order),
 * each counted once by id: what `readRecordedReads` returns for it.
 *
 * @example
 * ```ts
 * const reads = readsByCause(decodedReads)
 * ```
 */
export const readsByCause = (envelopes: Iterable<Envelope>): Map<string, Envelope[]> => {
  const byCause = new Map<string, Envelope[]>()
  for (const envelope of envelopes) {
    if (envelope.causationId === null) continue
    const list = byCause.get(envelope.causationId) ?? []
    if (!list.some((e) => e.id === envelope.id)) list.push(envelope)
    byCause.set(envelope.causationId, list)
  }
  return byCause
}
