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
  /** A copy: a Kafka record's value is a view into its whole fetch response, which must not be kept alive. */
  readonly value: Uint8Array
  readonly headers: Headers
  readonly answer: A
}

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
    this.#answers.delete(at)
    this.#answers.set(at, { key: record.key, value: record.value.slice(), headers: record.headers, answer })
    if (this.#answers.size > MAX_REMEMBERED) this.#answers.delete(this.#answers.keys().next().value!)
    return answer
  }
}
