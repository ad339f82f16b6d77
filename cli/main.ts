/**
 * `chorus`: the command-line entry. Finds the subcommand, parses its flags
 * strictly, runs it, and turns errors into messages and exit codes
 * (2 for usage errors, 1 for failures).
 *
 * Only the chosen subcommand's module is imported, when it runs or shows its
 * `--help`: the list below holds what the top-level help prints, so `chorus
 * --help` loads no command, and a short one such as `chorus trace` does not
 * pay for what `chorus devnet` or `chorus run` load (issue 13: trace answers
 * in ≤ 300 ms, start-up included).
 *
 * @module
 */
import { ConfigError } from "../services/config/config-error.ts"
import { type Command, parseCommandArgs, UsageError } from "./command.ts"

/**
 * A subcommand as `chorus --help` lists it, and how to load it. `path` and
 * `summary` are the loaded command's own (`cli/main.test.ts` checks they agree).
 */
export interface CommandEntry {
  /** Words that select it, e.g. `["topics", "create"]`. */
  readonly path: ReadonlyArray<string>
  readonly summary: string
  /** Imports the command's module: only when this command is the one run. */
  readonly load: () => Promise<Command>
}

export const COMMANDS: ReadonlyArray<CommandEntry> = [
  {
    path: ["devnet"],
    summary: "run a local relay: 3 anvil chains, every service, demo traffic, live progress",
    load: async () => (await import("./commands/devnet.ts")).devnet,
  },
  {
    path: ["devnet", "open-recipients"],
    summary:
      "open (or --close) the GatedRecipients of a running devnet, so their failed messages can be retried",
    load: async () => (await import("./commands/devnet-open-recipients.ts")).devnetOpenRecipients,
  },
  {
    path: ["run"],
    summary: "run a relay service (or all of them) from a config file",
    load: async () => (await import("./commands/run.ts")).run,
  },
  {
    path: ["topics", "create"],
    summary: "create every topic the topology declares, and with --acls each principal's ACLs (idempotent)",
    load: async () => (await import("./commands/topics-create.ts")).topicsCreate,
  },
  {
    path: ["topics", "describe"],
    summary: "show each declared topic's partitions and offsets on a bus",
    load: async () => (await import("./commands/topics-describe.ts")).topicsDescribe,
  },
  {
    path: ["topology"],
    summary: "print the topics and the service graph (text and Mermaid)",
    load: async () => (await import("./commands/topology.ts")).topology,
  },
  {
    path: ["explorer"],
    summary: "serve a read-only status API and a web page of every message's story, from the log",
    load: async () => (await import("./commands/explorer.ts")).explorer,
  },
  {
    path: ["trace"],
    summary: "show a message's whole timeline across every topic, or where it is stuck and why",
    load: async () => (await import("./commands/trace.ts")).trace,
  },
  {
    path: ["messages"],
    summary:
      "list messages by status (stuck, failed, delivered, in-flight, rejected, quarantined, all): where an incident starts",
    load: async () => (await import("./commands/messages.ts")).messages,
  },
  {
    path: ["operators"],
    summary:
      "show the operator set on the hub and on each Inbox (epoch, pending update), and each operator's record and evidence",
    load: async () => (await import("./commands/operators.ts")).operators,
  },
  {
    path: ["retry"],
    summary: "re-drive a stuck or failed message: the request and the submitter's answer go through the log",
    load: async () => (await import("./commands/retry.ts")).retry,
  },
  {
    path: ["chain", "resume"],
    summary:
      "lift a halted source chain's quarantine from a trusted block below the rewrite, recorded on the log with who ran it",
    load: async () => (await import("./commands/chain-resume.ts")).chainResume,
  },
  {
    path: ["cluster", "up"],
    summary:
      "run the whole cluster a config describes as processes on this machine (one `chorus run` per unit)",
    load: async () => (await import("./commands/cluster.ts")).clusterUp,
  },
  {
    path: ["cluster", "down"],
    summary: "stop the cluster `chorus cluster up` started: SIGTERM to each process, SIGKILL after --timeout",
    load: async () => (await import("./commands/cluster.ts")).clusterDown,
  },
  {
    path: ["deploy"],
    summary:
      "deploy or reuse the contracts on each configured chain, register sources and the operator set, write back",
    load: async () => (await import("./commands/deploy.ts")).deploy,
  },
  {
    path: ["config", "check"],
    summary:
      "check a config against the live chains: RPCs, chain ids, finality tags, contracts, operator set, keys, balances",
    load: async () => (await import("./commands/config-check.ts")).configCheck,
  },
  {
    path: ["replay"],
    summary: "run a service's core over a window of its input log into shadow topics (never production)",
    load: async () => (await import("./commands/replay.ts")).replay,
  },
  {
    path: ["diff"],
    summary: "compare a replay's shadow topic with its production topic, event by event",
    load: async () => (await import("./commands/diff.ts")).diff,
  },
  {
    path: ["verify-log"],
    summary: "check that every record of a log was written by a producer the config trusts (tamper evidence)",
    load: async () => (await import("./commands/verify-log.ts")).verifyLogCommand,
  },
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
    "Run `chorus <command> --help` for a command's flags, and `chorus --version` for the version.",
  ].join("\n")
}

const findCommand = (args: ReadonlyArray<string>): { entry: CommandEntry; rest: string[] } | undefined => {
  const matches = COMMANDS.filter((c) => c.path.every((word, i) => args[i] === word)).sort(
    (a, b) => b.path.length - a.path.length,
  )
  const entry = matches[0]
  return entry ? { entry, rest: args.slice(entry.path.length) } : undefined
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
  if (args[0] === "--version" || args[0] === "-V" || args[0] === "version") {
    const { CHORUS_VERSION } = await import("../services/runtime/version.ts")
    io.out(`chorus ${CHORUS_VERSION}`)
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
  const { entry, rest } = found
  // Outside the try below: a command whose module does not load is a bug, reported with its stack.
  const command = await entry.load()
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
    // A config that does not decode, or that a command refuses: every problem, by path.
    if (error instanceof ConfigError) {
      io.err(error.message)
      return 2
    }
    io.err(`chorus ${command.path.join(" ")}: ${(error as Error).message}`)
    return 1
  }
}
