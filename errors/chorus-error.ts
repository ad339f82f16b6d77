/**
 * The one error style of Chorus, after viem's `BaseError`: a short message
 * that says what went wrong, structured details that say where, and a hint
 * that says what to do next.
 *
 * Invariants:
 * - `message` is `shortMessage`, then one line per detail, then the hint, so
 *   a CLI that prints `error.message` tells the whole story and a log line
 *   that records `details` can be filtered on its fields.
 * - `_tag` equals `name`, so Effect code catches these with `Effect.catchTag`
 *   exactly as it catches its own tagged errors.
 * - The original error, when there is one, is kept as `cause` (never folded
 *   into the message, so a credential in an upstream message stays out of it).
 *
 * @module
 */

/** What a subclass passes besides its short message. */
export interface ChorusErrorParameters {
  /** Where it happened: the fields a log line or a program needs (no secrets). */
  readonly details?: Readonly<Record<string, unknown>>
  /** What to do next, written for the person who reads the message. */
  readonly hint?: string
  /** Extra lines shown between the short message and the hint. */
  readonly metaMessages?: ReadonlyArray<string>
  readonly cause?: unknown
}

const renderValue = (value: unknown): string => {
  if (typeof value === "string") return value
  if (typeof value === "bigint") return value.toString()
  if (Array.isArray(value)) return value.map(renderValue).join(", ")
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v))
}

/**
 * Base class of Chorus's errors.
 *
 * @example
 * ```ts
 * export class LaneNotFoundError extends ChorusError {
 *   override readonly name = "LaneNotFoundError"
 *   constructor(lane: string) {
 *     super(`lane ${lane} is unknown`, { details: { lane }, hint: "check the config's chains" })
 *   }
 * }
 * try { … } catch (e) { if (e instanceof ChorusError) console.error(e.message) }
 * ```
 */
export abstract class ChorusError extends Error {
  abstract override readonly name: string
  readonly shortMessage: string
  readonly details: Readonly<Record<string, unknown>>
  readonly hint: string | undefined
  readonly metaMessages: ReadonlyArray<string>

  constructor(shortMessage: string, parameters: ChorusErrorParameters = {}) {
    const details = parameters.details ?? {}
    const metaMessages = parameters.metaMessages ?? []
    const lines = [
      shortMessage,
      ...metaMessages.map((line) => `  ${line}`),
      ...(parameters.hint === undefined ? [] : [parameters.hint]),
    ]
    super(lines.join("\n"), parameters.cause === undefined ? undefined : { cause: parameters.cause })
    this.shortMessage = shortMessage
    this.details = details
    this.hint = parameters.hint
    this.metaMessages = metaMessages
  }

  /** The tag Effect's `catchTag` matches on: the error's name. */
  get _tag(): string {
    return this.name
  }
}

/**
 * Detail lines (`key: value`) for `metaMessages`, skipping absent values.
 *
 * @example
 * ```ts
 * detailLines({ chainId: 901, url: "http://127.0.0.1:8545" }) // ["chainId: 901", "url: http://127.0.0.1:8545"]
 * ```
 */
export const detailLines = (details: Readonly<Record<string, unknown>>): ReadonlyArray<string> =>
  Object.entries(details)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}: ${renderValue(value)}`)
