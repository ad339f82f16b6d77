/**
 * `chorus`: the command-line entry. Finds the subcommand, parses its flags
 * strictly, runs it, and turns errors into messages and exit codes
 * (2 for usage errors, 1 for failures).
 *
 * @module
 */
import { type Command, parseCommandArgs, UsageError } from "./command.ts"
import { chainResume } from "./commands/chain-resume.ts"
import { devnet } from "./commands/devnet.ts"
import { devnetOpenRecipients } from "./commands/devnet-open-recipients.ts"
import { diff } from "./commands/diff.ts"
import { messages } from "./commands/messages.ts"
import { replay } from "./commands/replay.ts"
import { retry } from "./commands/retry.ts"
import { run } from "./commands/run.ts"
import { topicsCreate } from "./commands/topics-create.ts"
import { topicsDescribe } from "./commands/topics-describe.ts"
import { topology } from "./commands/topology.ts"
import { trace } from "./commands/trace.ts"
import { verifyLogCommand } from "./commands/verify-log.ts"

export const COMMANDS: ReadonlyArray<Command> = [
  devnet,
  devnetOpenRecipients,
  run,
  topicsCreate,
  topicsDescribe,
  topology,
  trace,
  messages,
  retry,
  chainResume,
  replay,
  diff,
  verifyLogCommand,
]

const usageOf = (command: Command) =>
  [
    `Usage: chorus ${command.usage}`,
    "",
    command.summary,
    ...(command.details ? ["", command.details] : []),
  ].join("\n")

/** The top-level help: every subcommand with its summary. */
export const helpText = (): string => {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(" ").length))
  return [
    "chorus — an event-sourced relayer for EVM rollups that share restaked operators",
    "",
    "Usage: chorus <command> [flags]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`),
    "",
    "Run `chorus <command> --help` for a command's flags.",
  ].join("\n")
}

const findCommand = (args: ReadonlyArray<string>): { command: Command; rest: string[] } | undefined => {
  const matches = COMMANDS.filter((c) => c.path.every((word, i) => args[i] === word)).sort(
    (a, b) => b.path.length - a.path.length,
  )
  const command = matches[0]
  return command ? { command, rest: args.slice(command.path.length) } : undefined
}

/**
 * Runs the CLI and returns the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await main(["topology", "--format", "mermaid"])
 * ```
 */
export const main = async (
  args: ReadonlyArray<string>,
  io: { out: (line: string) => void; err: (line: string) => void } = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  },
): Promise<number> => {
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    io.out(helpText())
    return 0
  }
  const found = findCommand(args)
  if (found === undefined) {
    const group = COMMANDS.filter((c) => c.path[0] === args[0])
    io.err(
      group.length > 0
        ? `chorus ${args[0]}: say which: ${group.map((c) => c.path.join(" ")).join(", ")}`
        : `chorus: unknown command ${JSON.stringify(args[0])}\n\n${helpText()}`,
    )
    return 2
  }
  const { command, rest } = found
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(usageOf(command))
    return 0
  }
  try {
    const { values, positionals } = parseCommandArgs(command, rest)
    return await command.run({ values, positionals, out: io.out, err: io.err })
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`chorus ${command.path.join(" ")}: ${error.message}\n\n${usageOf(command)}`)
      return 2
    }
    io.err(`chorus ${command.path.join(" ")}: ${(error as Error).message}`)
    return 1
  }
}
