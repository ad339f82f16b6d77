import { type Schema, SchemaIssue } from "effect"

/** One thing wrong with a record: where (a path such as `payload.message.nonce`) and why. */
export interface FieldIssue {
  readonly path: string
  readonly message: string
}

/**
 * A record that is not a valid Chorus event. `issues` names every field that
 * is wrong and why; `message` sums them up for a log line.
 */
export class EventDecodeError extends Error {
  readonly _tag = "EventDecodeError"
  readonly issues: ReadonlyArray<FieldIssue>

  constructor(issues: ReadonlyArray<FieldIssue>) {
    super(
      `Not a valid Chorus event: ${issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ")}. ` +
        "The record was dead-lettered with its raw bytes; fix the producer, then re-drive it from the dead-letter topic.",
    )
    this.name = "EventDecodeError"
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
