/**
 * The shape of a `chorus` subcommand and the errors the CLI reports.
 *
 * Flags are parsed strictly with `node:util`'s `parseArgs`: an unknown flag,
 * a missing value or a stray argument is a {@link UsageError} that names it
 * and shows the command's usage, and the process exits with status 2.
 *
 * @module
 */
import { type ParseArgsConfig, parseArgs } from "node:util"
import { ChorusError } from "../errors/index.ts"

export type Options = NonNullable<ParseArgsConfig["options"]>

export interface Command {
  /** Words that select it, e.g. `["topics", "create"]`. */
  readonly path: ReadonlyArray<string>
  readonly summary: string
  /** The usage line after `chorus`, e.g. `topics create (--brokers <list> | --data-dir <dir>)`. */
  readonly usage: string
  /** Longer help: what each flag means. */
  readonly details?: string
  readonly options: Options
  /** Positional arguments it takes, by name; more is a usage error. */
  readonly positionals?: ReadonlyArray<string>
  /** Returns the exit code. */
  run(input: CommandInput): Promise<number>
}

export interface CommandInput {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>
  readonly positionals: ReadonlyArray<string>
  readonly out: (line: string) => void
  readonly err: (line: string) => void
}

/**
 * A command's flags from their names: `values` take a value (`--limit 10`),
 * `switches` do not (`--json`). Every Chorus flag is one or the other.
 *
 * @example
 * ```ts
 * options: { ...busOptions, ...flags({ values: ["limit", "since"], switches: ["json"] }) }
 * ```
 */
export const flags = (names: {
  readonly values?: ReadonlyArray<string>
  readonly switches?: ReadonlyArray<string>
}): Options => ({
  ...Object.fromEntries((names.values ?? []).map((name) => [name, { type: "string" as const }])),
  ...Object.fromEntries((names.switches ?? []).map((name) => [name, { type: "boolean" as const }])),
})

/** The command line was wrong: the message says what and where. */
export class UsageError extends ChorusError {
  override readonly name = "UsageError"
  constructor(message: string) {
    // The command's usage line, printed after it, is the hint.
    super(message)
  }
}

/**
 * `--flag -5` as `--flag=-5` for a flag that takes a value: `parseArgs` refuses a value that starts with a dash
 * as ambiguous, and its message sends the user to a syntax they did not need; the flag's own check then says
 * plainly what a negative number is not.
 */
const joinNegativeValues = (options: Command["options"], args: ReadonlyArray<string>): string[] => {
  const joined: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const next = args[i + 1]
    const name = arg.startsWith("--") && !arg.includes("=") ? arg.slice(2) : undefined
    if (name !== undefined && options[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`)
      i++
    } else joined.push(arg)
  }
  return joined
}

/**
 * Parses a command's arguments strictly.
 *
 * @example
 * ```ts
 * parseCommandArgs(topicsCreate, ["--brokers", "127.0.0.1:9092"]).values.brokers // "127.0.0.1:9092"
 * ```
 */
export const parseCommandArgs = (
  command: Command,
  args: ReadonlyArray<string>,
): { values: CommandInput["values"]; positionals: string[] } => {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(command.options, args),
      options: command.options,
      strict: true,
      allowPositionals: true,
    })
    const allowed = command.positionals ?? []
    if (positionals.length > allowed.length) {
      throw new UsageError(
        `unexpected argument ${JSON.stringify(positionals[allowed.length])}` +
          (allowed.length === 0 ? " (this command takes no arguments)" : ` (it takes ${allowed.join(", ")})`),
      )
    }
    return { values: values as CommandInput["values"], positionals }
  } catch (error) {
    if (error instanceof UsageError) throw error
    // parseArgs's messages name the flag; drop its hint about "--" which does not apply here.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ""))
  }
}

/**
 * Reads a required string flag.
 *
 * @example
 * ```ts
 * const brokers = requireString(input.values, "brokers")
 * ```
 */
export const requireString = (values: CommandInput["values"], name: string): string => {
  const value = values[name]
  if (typeof value !== "string" || value.trim() === "") throw new UsageError(`--${name} is required`)
  return value
}

/**
 * Parses a positive integer flag, naming the flag when it is not one.
 *
 * @example
 * ```ts
 * intFlag(values, "messages", 60) // 60 unless --messages was given
 * ```
 */
export const intFlag = (values: CommandInput["values"], name: string, fallback: number, min = 0): number => {
  const raw = values[name]
  if (raw === undefined) return fallback
  if (
    typeof raw !== "string" ||
    !/^\d+$/.test(raw) ||
    Number(raw) < min ||
    !Number.isSafeInteger(Number(raw))
  ) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`)
  }
  return Number(raw)
}
