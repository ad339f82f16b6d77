import { rememberedSignatures } from "../../bus/authentication/verified-signatures.ts"
import type { ChorusConfig } from "../../services/config/index.ts"
import { SERVICE_DEFINITIONS } from "../../services/registry.ts"
import type { ReplayManifest } from "../../services/replay/index.ts"
import { trustedBus } from "../bus-trust.ts"
import { type Command, requireString, UsageError } from "../command.ts"
import {
  BUS_DETAILS,
  BUS_USAGE,
  busFlagsOrConfig,
  busOptions,
  embeddedDataDir,
  openBusFromFlags,
  parseBrokers,
} from "../open-bus.ts"

// Definitions load their cores and starts lazily, so listing them here costs `--help` nothing.
const REPLAYABLE = SERVICE_DEFINITIONS.filter((d) => d.replay.kind === "replayable").map((d) => d.name)
const INTO = /^[a-z0-9][a-z0-9-]{0,99}$/

/** Topics some service consumes as a group member: only their undecodable records were dead-lettered. */
const CONSUMED = new Set<string>(SERVICE_DEFINITIONS.flatMap((d) => d.consumes))

/**
 * What a replay says about the records it could not decode: per topic, how
 * many, and whether production dead-lettered them (a topic a service
 * consumes) or only skipped them (recorded reads, which no consumer group
 * reads), then the first few with where they are.
 *
 * @example
 * ```ts
 * undecodableWarning(manifest) // ["warning: 2 record(s) did not decode and were not folded:", …]
 * ```
 */
export const undecodableWarning = (
  manifest: Pick<ReplayManifest, "counts" | "undecodable" | "undecodableByTopic">,
): ReadonlyArray<string> => {
  if (manifest.counts.undecodable === 0) return []
  const byTopic = Object.entries(manifest.undecodableByTopic ?? {})
  return [
    `warning: ${manifest.counts.undecodable} record(s) did not decode and were not folded:`,
    ...byTopic.map(([topic, count]) =>
      CONSUMED.has(topic)
        ? `  ${count} on ${topic}: production's consumers dead-lettered them (chorus.dead-letters)`
        : `  ${count} on ${topic}: skipped; no consumer group reads ${topic}, so nothing dead-lettered them`,
    ),
    ...(byTopic.length === 0 ? ["  (this manifest predates per-topic counts)"] : []),
    "first:",
    ...manifest.undecodable.map(
      (u) => `  ${u.topic} partition ${u.partition} offset ${u.offset}: ${u.error}`,
    ),
  ]
}

/** The signatures earlier replays of this log verified, however the flags name the log. */
const signaturesOf = (busFlags: Record<string, string>) =>
  rememberedSignatures({
    ...(busFlags["data-dir"] === undefined ? {} : { dataDir: embeddedDataDir(busFlags["data-dir"]) }),
    ...(busFlags.brokers === undefined ? {} : { brokers: parseBrokers(busFlags.brokers) }),
  })

const shellQuote = (value: string) =>
  /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`

/**
 * The `chorus diff` command for each shadow topic a replay wrote, on the same bus.
 *
 * @example
 * ```ts
 * diffCommandsFor(manifest, { "data-dir": ".devnet" })
 * // ["chorus diff chorus.messages.proven shadow.fix-1.chorus.messages.proven --data-dir .devnet", …]
 * ```
 */
export const diffCommandsFor = (manifest: ReplayManifest, bus: Record<string, string>): string[] => {
  const flags = Object.entries(bus)
    .map(([flag, value]) => `--${flag} ${shellQuote(value)}`)
    .join(" ")
  return manifest.shadows.map((s) => `chorus diff ${s.productionTopic} ${s.shadowTopic} ${flags}`)
}

const rangesLine = (ranges: ReplayManifest["instances"][number]["ranges"]) => {
  const byTopic = new Map<string, string[]>()
  for (const r of ranges) {
    if (r.to === r.low) continue
    const list = byTopic.get(r.topic) ?? []
    list.push(`p${r.partition} [${r.from}, ${r.to})`)
    byTopic.set(r.topic, list)
  }
  const lines = [...byTopic].map(([topic, parts]) => `${topic} ${parts.join(" ")}`)
  return lines.length === 0 ? ["(its input partitions hold no record)"] : lines
}

/**
 * `chorus replay <service>`: runs a service's pure core over a window of its
 * input log and writes its outputs to shadow topics, then prints the
 * `chorus diff` commands that compare them with production.
 */
export const replay: Command = {
  path: ["replay"],
  summary: "run a service's core over a window of its input log into shadow topics (never production)",
  usage: `replay <${REPLAYABLE.join("|")}> --config <file> ${BUS_USAGE} --from <offset|time> [--to <offset|time>] [--instance <id>] [--into <suffix>] [--signatures remember|verify] [--json]`,
  details: [
    "  <service>             chain-watcher (per chain, over chorus.watcher.reads), proof-builder, operator (per operator),",
    "                        attestation-collector, or submitter (per destination chain: each of its steps recorded the",
    "                        destination's answers beside the records it made, DestinationRead on chorus.lane.reads, and",
    "                        the replay makes those records again from them; what to send when is the ticker's clock",
    "                        decision, taken as the step recorded it)",
    "  --config <file>       the deployment's JSON config, to build each core exactly as production does",
    "                        (`chorus devnet` writes one to <data-dir>/config.json)",
    BUS_DETAILS,
    "                        (default: the config's `bus` section)",
    "  --from <offset|time>  first input replayed: an offset (on every input partition) or an ISO-8601 time with a",
    "                        zone (2026-11-21T16:02:00Z), in log time. The state before it is rebuilt from every earlier",
    "                        input. With several input topics (attestation-collector) prefer times: an offset cuts",
    "                        each topic at its own position, a time cuts them all at one instant",
    "  --to <offset|time>    end of the window, exclusive. Default: the end of the log when the replay starts",
    "  --instance <id>       one instance: a chain id (chain-watcher, submitter) or an operator's index or address; all",
    "                        when absent",
    "  --into <suffix>       shadow topics are shadow.<suffix>.<production topic>; lowercase letters, digits and dashes.",
    "                        Default: <service>-<UTC yyyymmddThhmmss>. A suffix is used once",
    "  --json                print the replay's manifest and the diff commands as JSON",
    "",
    "Chain reads come from the log (chorus.lane.reads); no chain is called. Nothing is written to a production topic:",
    "every write is refused unless its topic starts with shadow. The manifest (shadow.<suffix>.manifest) records the",
    "input ranges replayed; `chorus diff` uses it to compare only what production wrote for the same inputs.",
    "A replayed operator decides as that operator but signs with a throwaway key, so no shadow signature can be",
    "submitted anywhere; `chorus diff` counts a signature that differs only in its bytes as identical.",
  ].join("\n"),
  options: {
    ...busOptions,
    config: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    instance: { type: "string" },
    into: { type: "string" },
    signatures: { type: "string" },
    json: { type: "boolean" },
  },
  positionals: ["service"],
  async run({ values, positionals, out, err }) {
    const service = positionals[0]
    if (service === undefined) throw new UsageError(`say which service to replay (${REPLAYABLE.join(", ")})`)
    const lib = await import("../../services/replay/index.ts")
    const { ConfigError, loadConfig } = await import("../../services/config/index.ts")
    const refusal = lib.notReplayableReason(service)
    if (refusal !== undefined) throw new UsageError(`${service} cannot be replayed: ${refusal}`)
    const into = values.into
    if (into !== undefined && (typeof into !== "string" || !INTO.test(into))) {
      throw new UsageError(
        `--into ${JSON.stringify(into)} must be lowercase letters, digits and dashes (at most 100, e.g. fix-chunking-1)`,
      )
    }
    const how = values.signatures ?? "remember"
    if (how !== "remember" && how !== "verify")
      throw new UsageError(`--signatures ${JSON.stringify(how)} must be remember or verify`)
    let from: ReturnType<typeof lib.parseReplayBound>
    let to: ReturnType<typeof lib.parseReplayBound>
    try {
      from = lib.parseReplayBound(requireString(values, "from"), "--from")
      to = typeof values.to === "string" ? lib.parseReplayBound(values.to, "--to") : { kind: "latest" }
      lib.checkWindow(from, to)
    } catch (error) {
      if (error instanceof lib.InvalidReplayWindowError) throw new UsageError(error.message)
      throw error
    }
    const file = requireString(values, "config")
    let config: ChorusConfig
    let targets: Awaited<ReturnType<typeof lib.replayTargets>>
    try {
      config = loadConfig(file)
      targets = await lib.replayTargets(
        service,
        config,
        typeof values.instance === "string" ? { instance: values.instance } : {},
      )
    } catch (error) {
      if (error instanceof ConfigError) {
        err(error.message)
        return 2
      }
      throw error
    }
    const busFlags = busFlagsOrConfig(values, config)
    const bus = await openBusFromFlags(busFlags)
    const memory = how === "remember" ? signaturesOf(busFlags) : undefined
    if (memory?.problem !== undefined)
      err(`warning: not using ${memory.problem.file}: ${memory.problem.reason}; every signature is verified`)
    let manifest: ReplayManifest
    try {
      const now = new Date()
      manifest = await lib.replay({
        // The inputs are held to the config's producers, as production held them: a forged record is
        // reported, never folded. The shadow's own outputs stay unsigned (they are not production's).
        bus: trustedBus(bus, values, undefined, memory?.memory),
        targets,
        from,
        to,
        suffix: typeof into === "string" ? into : lib.defaultShadowSuffix(service, now),
        now,
      })
    } catch (error) {
      if (error instanceof lib.ReplayRefusedError) throw new UsageError(error.message)
      throw error
    } finally {
      await bus.close()
    }
    const kept = memory?.memory
    const signatures =
      kept === undefined ? undefined : { file: memory!.file, remembered: kept.hits, verifiedNow: kept.added }
    if (kept !== undefined && kept.added > 0) kept.save(memory!.file)
    const commands = diffCommandsFor(manifest, busFlags)
    if (values.json === true) {
      out(
        JSON.stringify({
          manifest,
          diffCommands: commands,
          ...(signatures === undefined ? {} : { signatures }),
        }),
      )
      return 0
    }
    out(
      `chorus replay ${service}: replayed ${manifest.counts.replayed} input(s) into shadow.${manifest.suffix}.* on the ${bus.kind} bus`,
    )
    out(`  window   --from ${manifest.window.from} --to ${manifest.window.to} (exclusive)`)
    for (const instance of manifest.instances) {
      const c = instance.counts
      out(
        `  ${service}/${instance.instance}: ${c.replayed} replayed, ${c.before} earlier input(s) folded for state, ${c.duplicates} duplicate(s) skipped, ${c.outputs} output(s)`,
      )
      for (const line of rangesLine(instance.ranges)) out(`    ${line}`)
    }
    if (signatures !== undefined)
      out(
        `  signatures: ${signatures.remembered} taken as verified by an earlier replay, ${signatures.verifiedNow} verified now (remembered in ${signatures.file})`,
      )
    out("  wrote")
    const width = Math.max(...manifest.shadows.map((s) => s.shadowTopic.length))
    for (const s of manifest.shadows) {
      out(
        `    ${s.shadowTopic.padEnd(width)}  ${String(s.events).padStart(6)} event(s)  (of ${s.productionTopic})`,
      )
    }
    out(`    shadow.${manifest.suffix}.manifest  what was replayed (read by chorus diff)`)
    for (const line of undecodableWarning(manifest)) err(line)
    out("next, compare each shadow with production:")
    for (const command of commands) out(`  ${command}`)
    return 0
  },
}
