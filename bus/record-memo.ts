/**
 * Answers about records, remembered for the records read last, so that the
 * consumers of one process (a devnet, `chorus run all`, a replay) check a
 * record's signature, parse it and derive its event id once, not once each.
 * Those were a third of the relay's CPU (issue 13).
 *
 * Invariants:
 * - A remembered answer is reused only for the same record: same topic,
 *   partition and offset, and byte for byte the same value, key and headers
 *   (a topic deleted and created again restarts its offsets with other
 *   bytes; those are answered afresh).
 * - One memo per question: its owner decides who may share it (one producer
 *   policy, say), and two questions never share answers.
 * - Bounded: past `MAX_REMEMBERED` answers, the oldest is forgotten first.
 *
 * @module
 */
import type { BusRecord, Headers } from "./port.ts"

/** Enough for every consumer of a busy process to read a record before it is forgotten. */
export const MAX_REMEMBERED = 8192

interface Remembered<A> {
  readonly key: string | null
  /**
   * The record's own bytes, or a copy of a value that is a view into a larger buffer: a Kafka record's value
   * is a view into its whole fetch response, which must not be kept alive.
   */
  readonly value: Uint8Array
  readonly headers: Headers
  readonly answer: A
  /** When it was remembered: the forgetting order's slot for it names it by this. */
  readonly serial: number
}

/** The value's bytes, kept without pinning more than them. */
const keptBytes = (value: Uint8Array): Uint8Array =>
  value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : value.slice()

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a === b || (a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b))

const sameHeaders = (a: Headers, b: Headers): boolean => {
  if (a === b) return true
  let count = 0
  for (const name in a) {
    if (a[name] !== b[name]) return false
    count++
  }
  return count === Object.keys(b).length
}

/**
 * One question's answers, by record.
 *
 * @example
 * ```ts
 * const decoded = new RecordMemo<Decoded>()
 * decoded.answer(record, decodeRecord) // decodes
 * decoded.answer(sameRecordReadAgain, decodeRecord) // remembered
 * ```
 */
export class RecordMemo<A> {
  readonly #answers = new Map<string, Remembered<A>>()
  /**
   * Which answer to forget next: the last `MAX_REMEMBERED` remembered, by position, in a ring. (Taking the
   * Map's first key instead walks over every deleted entry the engine still holds: a quarter of the memo's
   * cost in a replay.) A slot whose answer was remembered again since names an older serial and is skipped.
   */
  readonly #order: Array<{ readonly at: string; readonly serial: number } | undefined> = new Array(
    MAX_REMEMBERED,
  )
  #serial = 0

  /** `ask(record)`, or what it answered for this very record. */
  answer(record: BusRecord, ask: (record: BusRecord) => A): A {
    const at = `${record.topic}\u0000${record.partition}\u0000${record.offset}`
    const known = this.#answers.get(at)
    if (
      known !== undefined &&
      known.key === record.key &&
      sameBytes(known.value, record.value) &&
      sameHeaders(known.headers, record.headers)
    ) {
      return known.answer
    }
    const answer = ask(record)
    const serial = this.#serial++
    const slot = serial % MAX_REMEMBERED
    const oldest = this.#order[slot]
    if (oldest !== undefined && this.#answers.get(oldest.at)?.serial === oldest.serial) {
      this.#answers.delete(oldest.at)
    }
    this.#order[slot] = { at, serial }
    this.#answers.set(at, {
      key: record.key,
      value: keptBytes(record.value),
      headers: record.headers,
      answer,
      serial,
    })
    return answer
  }
}
