import { type Command, intFlag } from "../command.ts"
import type { Devnet } from "../devnet/devnet.ts"
import { renderProgressBlock, renderProgressLine } from "../devnet/render-progress.ts"
import type { Summary } from "../devnet/tracker.ts"
import { parseBrokers } from "../open-bus.ts"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * `chorus devnet`: three anvil chains, the contracts, four operators, every
 * service on the embedded bus (or Kafka), demo traffic in all six
 * directions, and a live view of each stage.
 */
export const devnet: Command = {
  path: ["devnet"],
  summary: "run a local relay: 3 anvil chains, every service, demo traffic, live progress",
  usage:
    "devnet [--messages 60] [--rate 10] [--exit] [--json] [--kafka <host:port,…>] [--data-dir <dir>] [--timeout <s>]",
  details: [
    "  --messages <n>     messages to send, round-robin over the 6 directions between chains 901, 902, 903 (default 60)",
    "  --rate <r>         messages per second (default 10)",
    "  --exit             stop once every message is delivered (or --timeout passes) and print a summary;",
    "                     exits 1 if any message was not delivered",
    "  --json             make the summary's last line one JSON object: sent, delivered, failed, p50Ms, p99Ms",
    "  --kafka <brokers>  use Kafka instead of the embedded log. A Chorus log left there by an earlier devnet",
    "                     (cursors of chains 901–903 only) is deleted first; any other Chorus log is refused",
    "  --data-dir <dir>   keep config.json (the services' config), services.log and the embedded log here, for",
    "                     `chorus run` and the audit tools; a temporary directory, removed on exit, when absent",
    "  --timeout <s>      with --exit: give up after this many seconds (default 120 + messages/rate)",
    "Latency runs from source finality (the watcher's observation of the finalized block) to the submitter's",
    "destination receipt.",
  ].join("\n"),
  options: {
    messages: { type: "string" },
    rate: { type: "string" },
    exit: { type: "boolean" },
    json: { type: "boolean" },
    kafka: { type: "string" },
    "data-dir": { type: "string" },
    timeout: { type: "string" },
  },
  async run({ values, out, err }) {
    const messages = intFlag(values, "messages", 60, 0)
    const rate = intFlag(values, "rate", 10, 1)
    const exit = values.exit === true
    const json = values.json === true
    const timeoutMs = intFlag(values, "timeout", 120 + Math.ceil(messages / rate), 1) * 1000
    const view = json ? err : out
    const tty = !json && process.stdout.isTTY === true
    const dataDir = typeof values["data-dir"] === "string" ? { dataDir: values["data-dir"] } : {}
    const bus =
      typeof values.kafka === "string"
        ? { kind: "kafka" as const, brokers: parseBrokers(values.kafka), ...dataDir }
        : { kind: "embedded" as const, ...dataDir }

    view("chorus devnet: starting 3 anvil chains and deploying the contracts…")
    const { startDevnet } = await import("../devnet/devnet.ts")
    const net: Devnet = await startDevnet({ bus })
    let interrupted = false
    const onSignal = () => {
      interrupted = true
    }
    process.on("SIGINT", onSignal)
    process.on("SIGTERM", onSignal)
    const title = `${bus.kind === "kafka" ? "Kafka" : "embedded bus"} · ${net.world.chains.length} chains · ${net.world.operators.length} operators (threshold ${(net.world.thresholdBps / 100).toFixed(2)}% of stake)`
    try {
      for (const chain of net.world.chains) {
        view(
          `  chain ${chain.chainId}  ${chain.rpcUrl}  outbox ${chain.outbox}  inbox ${chain.inbox}  recipient ${chain.recipient}`,
        )
      }
      view(`  config ${net.configPath}   service logs ${net.dataDir}/services.log`)
      const abort = new AbortController()
      let trafficError: unknown
      let trafficDone = false
      const traffic = net
        .send({ messages, rate, signal: abort.signal })
        .catch((error: unknown) => {
          trafficError = error
        })
        .finally(() => {
          trafficDone = true
        })
      const started = Date.now()
      let drawn = 0
      let lastLine = 0
      for (;;) {
        await net.poll()
        const progress = net.tracker.progress()
        const elapsedMs = Date.now() - started
        if (tty) {
          const block = renderProgressBlock(progress, { target: messages, elapsedMs, title })
          if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`)
          for (const line of block) process.stdout.write(`\x1b[2K${line}\n`)
          drawn = block.length
        } else if (Date.now() - lastLine >= 5_000) {
          view(renderProgressLine(progress, { target: messages, elapsedMs }))
          lastLine = Date.now()
        }
        const settled = progress.counts.delivered + progress.counts.failed >= progress.counts.sent
        if (interrupted || trafficError !== undefined) break
        if (exit && trafficDone && settled) break
        if (exit && elapsedMs > timeoutMs) {
          err(`chorus devnet: --timeout of ${timeoutMs / 1000}s passed with messages still in flight`)
          break
        }
        await sleep(500)
      }
      abort.abort()
      await traffic
      await net.poll()
      if (!tty)
        view(
          renderProgressLine(net.tracker.progress(), { target: messages, elapsedMs: Date.now() - started }),
        )
      if (trafficError !== undefined) err(`chorus devnet: ${(trafficError as Error).message}`)
      const summary: Summary = net.tracker.summary()
      const missing = net.tracker.messages().filter((m) => m.deliveredAt === undefined)
      for (const m of missing.slice(0, 10)) {
        err(
          `  not delivered: #${m.sent.index} ${m.sent.srcChainId}→${m.sent.dstChainId} ${m.messageId ?? "(not observed yet)"} ` +
            (m.failedAt !== undefined ? "failed at the recipient" : "still in flight"),
        )
      }
      const duplicates = net.tracker.progress().duplicates
      if (duplicates > 0) err(`  ${duplicates} message(s) were reported delivered more than once`)
      const human = `sent ${summary.sent}, delivered ${summary.delivered}, failed ${summary.failed}, latency p50 ${summary.p50Ms ?? "–"} ms, p99 ${summary.p99Ms ?? "–"} ms`
      if (json) {
        err(`chorus devnet: ${human}`)
        out(JSON.stringify(summary))
      } else out(`chorus devnet: ${human}`)
      return summary.sent === messages && summary.delivered === messages && duplicates === 0 ? 0 : 1
    } finally {
      process.off("SIGINT", onSignal)
      process.off("SIGTERM", onSignal)
      await net.stop()
    }
  },
}
