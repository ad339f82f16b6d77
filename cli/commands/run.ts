import type { BusPort } from "../../bus/port.ts"
import type { ProcessEndpoint } from "../../metrics/process-endpoint.ts"
import { parseListen } from "../../metrics/server.ts"
import { auditIndexPath } from "../../services/auditor/index-path.ts"
import { ConfigError } from "../../services/config/index.ts"
import { SERVICE_NAMES, type ServiceSelection, startServices } from "../../services/registry.ts"
import type { LogLevel } from "../../services/runtime/logger.ts"
import { ALL_TOPICS } from "../../topology/index.ts"
import { type Command, requireString, UsageError } from "../command.ts"
import { openMetricsEndpoint, parseMetricsFlag } from "../metrics-flag.ts"
import {
  BUS_DETAILS,
  busFlagsOrConfig,
  busOptions,
  embeddedDataDir,
  openBusFromFlags,
  parseBrokers,
} from "../open-bus.ts"
import { loadRunConfig } from "../plaintext-keys.ts"

const LEVELS: ReadonlyArray<LogLevel> = ["debug", "info", "warn", "error"]

/**
 * `chorus run <service> --config <file>`: runs one service (or `all`) until
 * SIGINT/SIGTERM, then stops it gracefully. Exits non-zero if a service ends
 * on its own with an error (a chain-watcher that saw its chain rewritten).
 */
export const run: Command = {
  path: ["run"],
  summary: "run a relay service (or all of them) from a config file",
  usage: `run <${[...SERVICE_NAMES, "all"].join("|")}> --config <file> [--instance <id>] [--brokers … | --data-dir …] [--metrics <host:port>] [--log-level info]`,
  details: [
    "  <service>             chain-watcher, proof-builder, operator, attestation-collector, submitter, auditor,",
    "                        or all (the auditor keeps the audit index that `chorus trace` and `messages` read)",
    "  --config <file>       the deployment's JSON config (services/config/schema.ts documents every field);",
    "                        `chorus devnet` writes one to <data-dir>/config.json",
    "  --instance <id>       one instance only: a chain id (chain-watcher, submitter) or an operator index or address;",
    "                        every configured instance when absent",
    BUS_DETAILS,
    "                        (default: the config's `bus` section)",
    "  --metrics <host:port> serve /metrics (Prometheus), /healthz and /readyz there (default: the config's",
    "                        `metrics.listen`; none when neither is given). docs/operations.md lists every metric",
    "  --allow-plaintext-keys  take private keys written in the config file as hex (refused otherwise, except in",
    "                        the config `chorus devnet` writes): for tests. Use env:NAME or an encrypted keystore",
    '                        ({"keystore": "<file>", "passphrase": "env:NAME" | "file:<path>"}) in production',
    "  --log-level <level>   debug, info, warn or error (JSON lines on stderr). Default info",
    "  --index <file>        the auditor's index file (default: beside the embedded log, or in ~/.cache/chorus/audit)",
  ].join("\n"),
  options: {
    ...busOptions,
    config: { type: "string" },
    instance: { type: "string" },
    "log-level": { type: "string" },
    index: { type: "string" },
    metrics: { type: "string" },
    "allow-plaintext-keys": { type: "boolean" },
  },
  positionals: ["service"],
  async run({ values, positionals, out, err }) {
    const service = positionals[0]
    if (service === undefined) throw new UsageError("say which service to run (or all)")
    if (![...SERVICE_NAMES, "all"].includes(service)) {
      throw new UsageError(
        `unknown service ${JSON.stringify(service)}; known: ${[...SERVICE_NAMES, "all"].join(", ")}`,
      )
    }
    const level = (values["log-level"] ?? "info") as LogLevel
    if (!LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LEVELS.join(", ")}`)
    const listenText = typeof values.metrics === "string" ? values.metrics : undefined
    // Checked before the config is even read: a typo here must not cost a start.
    const listenFlag = listenText === undefined ? undefined : parseMetricsFlag(listenText)
    const file = requireString(values, "config")
    const config = loadRunConfig(file, values["allow-plaintext-keys"] === true)
    const { jsonLogger } = await import("../../services/runtime/logger.ts")
    const { installShutdownHandlers } = await import("../../bus/kafka/shutdown.ts")
    const busFlags = busFlagsOrConfig(values, config)
    // A service may start a new embedded log.
    const logger = jsonLogger(process.stderr, level).child({ pid: process.pid })
    // The Kafka client's own lines go to the same JSON log, each repeat at most once a minute.
    const opened: BusPort = await openBusFromFlags(busFlags, {
      create: true,
      logger: logger.child({ component: "kafka" }),
    })
    let services: Awaited<ReturnType<typeof startServices>>
    let endpoint: ProcessEndpoint | undefined
    let bus: BusPort = opened
    // Whatever fails from here to a running service closes the bus first: a Kafka client left open keeps the
    // process alive, and a process that failed to start must exit (for its supervisor to start it again).
    try {
      const auditIndex = auditIndexPath({
        ...(typeof values.index === "string" ? { index: values.index } : {}),
        ...(busFlags["data-dir"] !== undefined ? { dataDir: embeddedDataDir(busFlags["data-dir"]) } : {}),
        ...(busFlags.brokers !== undefined ? { brokers: parseBrokers(busFlags.brokers) } : {}),
      })
      const listen =
        listenFlag ?? (config.metrics === undefined ? undefined : parseListen(config.metrics.listen))
      if (listen !== undefined) {
        endpoint = await openMetricsEndpoint(
          listen,
          listenFlag === undefined ? "metrics.listen" : "--metrics",
          {
            bus: opened,
            config,
          },
        )
        bus = endpoint.bus
        out(`metrics on http://${endpoint.address}/metrics (health: /healthz, /readyz)`)
      }
      await bus.ensureTopics(ALL_TOPICS)
      services = await startServices({
        bus,
        config,
        logger,
        service: service as ServiceSelection,
        auditIndex,
        ...(typeof values.instance === "string" ? { instance: values.instance } : {}),
      })
    } catch (error) {
      await endpoint?.close()
      await bus.close().catch(() => {
        // The error that stopped the start says more than a failed close would.
      })
      if (error instanceof ConfigError) {
        err(error.message)
        return 2
      }
      throw error
    }
    endpoint?.markStarted()
    out(`running ${services.map((s) => s.name).join(", ")} on the ${bus.kind} bus; Ctrl-C stops`)
    let stopping: Promise<void> | undefined
    const stopAll = () => {
      stopping ??= Promise.allSettled(services.map((s) => s.stop()))
        .then(() => endpoint?.close())
        .then(() => bus.close())
      return stopping
    }
    // SIGINT/SIGTERM: stop every service gracefully (work in flight finishes and is committed), then exit 0.
    const uninstall = installShutdownHandlers({ close: stopAll })
    const failure = await Promise.race(
      services.map((s) =>
        s.done.then(
          () => undefined,
          (error: unknown) => {
            err(`${s.name} stopped: ${error instanceof Error ? error.message : String(error)}`)
            return error ?? new Error(`${s.name} stopped`)
          },
        ),
      ),
    )
    uninstall()
    await stopAll()
    return failure === undefined ? 0 : 1
  },
}
