import { Exit, Schema, SchemaIssue } from "effect"
import { ChorusError } from "../errors/index.ts"

/** One thing wrong with a record: where (a path such as `payload.message.nonce`) and why. */
export interface FieldIssue {
  readonly path: string
  readonly message: string
}

/**
 * A record that is not a valid Chorus event. `issues` names every field that
 * is wrong and why; the short message sums them up on one line, for a log line.
 */
export class EventDecodeError extends ChorusError {
  override readonly name = "EventDecodeError"
  readonly issues: ReadonlyArray<FieldIssue>

  constructor(issues: ReadonlyArray<FieldIssue>) {
    super(
      `Not a valid Chorus event: ${issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ")}`,
      {
        details: { issues },
        hint: "The record was dead-lettered with its raw bytes; fix the producer, then re-drive it from the dead-letter topic.",
      },
    )
    this.issues = issues
  }
}

/**
 * Renders a property path as `a.b[2].c`.
 *
 * @example
 * ```ts
 * formatPath(["payload", "messages", 2, "body"]) // "payload.messages[2].body"
 * ```
 */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`
    const name = String(key)
    return out === "" ? name : `${out}.${name}`
  }, "")

const standard = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * Flattens a schema error into field issues, each path prefixed with `at`.
 *
 * @example
 * ```ts
 * issuesOf(error, ["payload"]) // [{ path: "payload.count", message: "expected a non-negative safe integer" }]
 * ```
 */
export const issuesOf = (error: Schema.SchemaError, at: ReadonlyArray<PropertyKey> = []): FieldIssue[] =>
  standard(error.issue).issues.map((issue) => ({
    path: formatPath([...at, ...(issue.path ?? []).map((p) => (typeof p === "object" ? p.key : p))]),
    message: issue.message,
  }))

/**
 * Decodes `input`, collecting every problem rather than stopping at the
 * first. A schema failure is thrown as what `invalid` makes of its issues;
 * any other failure is thrown as it is.
 *
 * @example
 * ```ts
 * const file = decodeAllOrThrow(DevnetFile, json, (issues) => new DevnetFileInvalidError(path, issues))
 * ```
 */
export const decodeAllOrThrow = <S extends Schema.ConstraintDecoder<unknown>>(
  schema: S,
  input: unknown,
  invalid: (issues: FieldIssue[]) => Error,
): S["Type"] => {
  const exit = Schema.decodeUnknownExit(schema)(input, { errors: "all" })
  if (Exit.isSuccess(exit)) return exit.value
  const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (failure === undefined || !Schema.isSchemaError(failure.error)) throw failure?.error ?? exit.cause
  throw invalid(issuesOf(failure.error))
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/**
 * Every string in `input` that is a 20-byte hex address, lowercased: files
 * people write carry addresses checksummed (EIP-55) as often as not, and
 * Chorus's own `Address` is lowercase. Nothing else is rewritten.
 *
 * @example
 * ```ts
 * lowercaseAddresses({ inbox: "0xAbC…" }) // { inbox: "0xabc…" }
 * ```
 */
export const lowercaseAddresses = (input: unknown): unknown => {
  if (Array.isArray(input)) return input.map(lowercaseAddresses)
  if (typeof input === "string") return ADDRESS.test(input) ? input.toLowerCase() : input
  if (input === null || typeof input !== "object") return input
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, lowercaseAddresses(v)]))
}
