import { type Command, flags, intFlag, UsageError } from "../command.ts"
import type { Devnet } from "../devnet/devnet.ts"
import { endingOf, judgeDevnet } from "../devnet/outcome.ts"
import { type GatedCounts, renderProgressBlock, renderProgressLine } from "../devnet/render-progress.ts"
import type { RotationReport } from "../devnet/rotation.ts"
import { describeUnreadable, type UnreadableRecord } from "../devnet/tail-topics.ts"
import type { Summary, TrackedMessage } from "../devnet/tracker.ts"
import { parseMetricsFlag } from "../metrics-flag.ts"
import { makeDataDir, parseBrokers } from "../open-bus.ts"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Reads `--reverting`: an integer percentage from 0 to 100 (default 0).
 *
 * @example
 * ```ts
 * revertingFlag({ reverting: "25" }) // 25
 * ```
 */
export const revertingFlag = (values: Record<string, unknown>): number => {
  const raw = values.reverting
  if (raw === undefined) return 0
  if (typeof raw !== "string" || !/^\d{1,3}$/.test(raw) || Number(raw) > 100) {
    throw new UsageError(
      `--reverting must be an integer percentage from 0 to 100 (the share of messages sent to the closed ` +
        `GatedRecipients), got ${JSON.stringify(raw)}`,
    )
  }
  return Number(raw)
}

const gatedCounts = (messages: ReadonlyArray<TrackedMessage>): GatedCounts => {
  let sent = 0
  let failed = 0
  for (const m of messages) {
    if (!m.sent.gated) continue
    sent++
    if (endingOf(m) === "gated-failed") failed++
  }
  return { sent, failed }
}

const describeMessage = (m: TrackedMessage) =>
  `#${m.sent.index} ${m.sent.srcChainId}→${m.sent.dstChainId} ${m.messageId ?? "(not observed yet)"}`

/**
 * `chorus devnet`: three anvil chains, the contracts, four operators, every
 * service on the embedded bus (or Kafka), demo traffic in all six
 * directions, and a live view of each stage.
 */
export const devnet: Command = {
  path: ["devnet"],
  summary: "run a local relay: 3 anvil chains, every service, demo traffic, live progress",
  usage:
    "devnet [--messages 60] [--rate 10] [--reverting <percent>] [--rotate] [--exit] [--json] [--kafka <host:port,…>] [--data-dir <dir>] [--metrics <host:port>] [--timeout <s>]",
  details: [
    "  --messages <n>     messages to send, round-robin over the 6 directions between chains 901, 902, 903 (default 60)",
    "  --rate <r>         messages per second (default 10)",
    "  --reverting <pct>  send this share of the messages (an integer percentage, 0–100, default 0) to the",
    "                     destination's GatedRecipient instead of its PingRecipient. Every chain has one, deployed",
    "                     closed, so these messages fail at the recipient on purpose. The choice is deterministic and",
    "                     even: message #i is gated when floor((i+1)*pct/100) > floor(i*pct/100), e.g. #3, #7, #11…",
    "                     for 25. Open the gates with `chorus devnet open-recipients --data-dir <dir>`, then retry",
    "  --rotate           change the operator set on the hub mid-traffic, each change waited for until every Inbox",
    "                     took it through the relay: add an operator (a fifth, running from the start, not yet",
    "                     registered), remove one, change a weight and the threshold, and eject an operator that",
    "                     equivocates (a stranger proves it on the hub). Prints each change's propagation (destination",
    "                     blocks and seconds from the hub's finality), the gas of each update, and the signatures of",
    "                     removed operators the Inboxes took afterwards (must be 0)",
    "  --exit             stop once every message has an outcome (or --timeout passes) and print a summary",
    "  --json             make the summary's last line one JSON object: sent, delivered, failed, p50Ms, p99Ms,",
    "                     sentPerS (the rate actually sent), hops (p50Ms and p99Ms per hop: observed→proven,",
    "                     proven→attested, attested→committed, committed→delivered), cpuSeconds (this process,",
    "                     the anvils not included), gated (sent to GatedRecipients), gatedFailed, gatedDelivered,",
    "                     inFlight, ok; with --rotate also rotation: propagationBlocksP50, propagationSecondsP50,",
    "                     updateGas, removedSignaturesAccepted and the steps",
    "  --kafka <brokers>  use Kafka instead of the embedded log. A Chorus log left there by an earlier devnet",
    "                     (cursors of chains 901–903 only) is deleted first; any other Chorus log is refused",
    "  --data-dir <dir>   keep config.json (the services' config), devnet.json, services.log and the embedded log",
    "                     here, for `chorus run` and the audit tools; a temporary directory, removed on exit, when",
    "                     absent",
    "  --metrics <addr>   serve the services' /metrics (Prometheus), /healthz and /readyz on host:port, e.g.",
    "                     127.0.0.1:9464: one endpoint for every service this process runs (docs/operations.md)",
    "  --timeout <s>      with --exit: give up after this many seconds (default 120 + messages/rate)",
    "Without --exit the devnet keeps running after its traffic, until Ctrl-C. It writes <data-dir>/devnet.json:",
    "each chain's RPC and contracts (outbox, inbox, PingRecipient, GatedRecipient) and the anvil account owning",
    "the GatedRecipients, for `chorus devnet open-recipients` and the audit tools.",
    "Exit status (after --exit, or on Ctrl-C): 0 only if every message was sent, every message to a PingRecipient",
    "was delivered exactly once, and every message to a GatedRecipient was delivered or failed at the recipient;",
    "1 otherwise (a message still in flight, a PingRecipient message that failed, a duplicate, a traffic error).",
    "Latency runs from source finality (the watcher's observation of the finalized block) to the submitter's",
    "destination receipt.",
  ].join("\n"),
  options: flags({
    values: ["messages", "rate", "reverting", "kafka", "data-dir", "timeout", "metrics"],
    switches: ["exit", "json", "rotate"],
  }),
  async run({ values, out, err }) {
    const messages = intFlag(values, "messages", 60, 0)
    const rate = intFlag(values, "rate", 10, 1)
    const reverting = revertingFlag(values)
    const exit = values.exit === true
    const rotating = values.rotate === true
    const json = values.json === true
    const timeoutMs = intFlag(values, "timeout", 120 + Math.ceil(messages / rate), 1) * 1000
    const view = json ? err : out
    const tty = !json && process.stdout.isTTY === true
    const dataDir = typeof values["data-dir"] === "string" ? { dataDir: values["data-dir"] } : {}
    // Checked before a chain starts: a path that cannot be a directory names the flag, not an errno.
    if (dataDir.dataDir !== undefined) makeDataDir(dataDir.dataDir)
    const bus =
      typeof values.kafka === "string"
        ? { kind: "kafka" as const, brokers: parseBrokers(values.kafka, "--kafka"), ...dataDir }
        : { kind: "embedded" as const, ...dataDir }

    const metrics = typeof values.metrics === "string" ? parseMetricsFlag(values.metrics) : undefined

    view("chorus devnet: starting 3 anvil chains and deploying the contracts…")
    const { startDevnet } = await import("../devnet/devnet.ts")
    // A rotation adds an operator: a fifth one runs from the start, registered by the rotation.
    const net: Devnet = await startDevnet({
      bus,
      ...(rotating ? { standby: 1 } : {}),
      ...(metrics === undefined ? {} : { metrics }),
    })
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
          `  chain ${chain.chainId}  ${chain.rpcUrl}  outbox ${chain.outbox}  inbox ${chain.inbox}  recipient ${chain.recipient}  gated recipient ${chain.gatedRecipient} (closed)`,
        )
      }
      view(`  config ${net.configPath}   devnet ${net.devnetPath}   service logs ${net.dataDir}/services.log`)
      if (net.metricsAddress !== undefined) {
        view(`  metrics http://${net.metricsAddress}/metrics   health /healthz, /readyz`)
      }
      const openHint = `npx chorus devnet open-recipients --data-dir ${net.dataDir}`
      if (reverting > 0)
        view(
          `  ${reverting}% of the messages go to the closed GatedRecipients and will fail there on purpose; open them with: ${openHint}`,
        )
      const abort = new AbortController()
      let trafficError: unknown
      let trafficDone = false
      const traffic = net
        .send({ messages, rate, reverting, signal: abort.signal })
        .catch((error: unknown) => {
          trafficError = error
        })
        .finally(() => {
          trafficDone = true
        })
      const started = Date.now()
      const cpuAtStart = process.cpuUsage()
      let rotation: RotationReport | undefined
      let rotationError: unknown
      let rotationDone = !rotating
      const rotations = rotating ? await import("../devnet/rotation.ts") : undefined
      const rotationRun = rotations
        ? (async () => {
            await sleep(3_000)
            view("chorus devnet: rotating the operator set on the hub, mid-traffic")
            rotation = await rotations.rotate(net, { log: view })
          })()
            .catch((error: unknown) => {
              rotationError = error
            })
            .finally(() => {
              rotationDone = true
            })
        : Promise.resolve()
      let drawn = 0
      let lastLine = 0
      let announced = false
      // A foreign or garbage record on a followed topic is reported where it is, and the devnet goes on.
      const report = (unreadable: ReadonlyArray<UnreadableRecord>) => {
        for (const record of unreadable) err(`chorus devnet: skipped a record: ${describeUnreadable(record)}`)
      }
      for (;;) {
        report(await net.poll())
        const tracked = net.tracker.messages()
        const progress = net.tracker.progress(tracked)
        const gated = gatedCounts(tracked)
        const elapsedMs = Date.now() - started
        const settled = progress.counts.delivered + progress.counts.failed >= progress.counts.sent
        // Once the traffic has settled, a devnet left running says how to go on with the failed messages.
        // Short lines: the live block is redrawn in place, and a wrapped line would throw its height off.
        const hint =
          !exit && trafficDone && settled && gated.failed > 0
            ? [
                `all ${progress.counts.sent} messages have an outcome; ${gated.failed} failed at the closed GatedRecipients.`,
                `To retry them, open the gates first: ${openHint}`,
                "The devnet keeps running until Ctrl-C.",
              ]
            : undefined
        if (tty) {
          const block = renderProgressBlock(progress, { target: messages, elapsedMs, title, gated })
          for (const line of hint ?? []) block.push(`  ${line}`)
          if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`)
          for (const line of block) process.stdout.write(`\x1b[2K${line}\n`)
          drawn = block.length
        } else if (Date.now() - lastLine >= 5_000) {
          view(renderProgressLine(progress, { target: messages, elapsedMs, gated }))
          lastLine = Date.now()
        }
        if (!tty && hint !== undefined && !announced) view(`chorus devnet: ${hint.join(" ")}`)
        if (hint !== undefined) announced = true
        if (interrupted || trafficError !== undefined) break
        if (exit && trafficDone && settled && rotationDone) break
        if (exit && elapsedMs > timeoutMs) {
          err(`chorus devnet: --timeout of ${timeoutMs / 1000}s passed with messages still in flight`)
          break
        }
        await sleep(500)
      }
      abort.abort()
      await traffic
      await rotationRun
      if (rotationError !== undefined)
        err(`chorus devnet: rotation failed: ${(rotationError as Error).message}`)
      if (rotation !== undefined && rotations !== undefined)
        view(`chorus devnet: ${rotations.describeRotation(rotation)}`)
      report(await net.poll())
      const tracked = net.tracker.messages()
      const gated = gatedCounts(tracked)
      if (!tty)
        view(
          renderProgressLine(net.tracker.progress(tracked), {
            target: messages,
            elapsedMs: Date.now() - started,
            gated,
          }),
        )
      if (trafficError !== undefined) err(`chorus devnet: ${(trafficError as Error).message}`)
      const summary: Summary = net.tracker.summary()
      const cpu = process.cpuUsage(cpuAtStart)
      const duplicates = net.tracker.progress(tracked).duplicates
      const outcome = judgeDevnet({ target: messages, messages: tracked, duplicates })
      const wrong = tracked.filter((m) => endingOf(m) === "failed" || endingOf(m) === "in-flight")
      for (const m of wrong.slice(0, 10)) {
        err(
          `  not delivered: ${describeMessage(m)} ` +
            (endingOf(m) === "failed" ? "failed at its PingRecipient" : "still in flight"),
        )
      }
      if (wrong.length > 10) err(`  … and ${wrong.length - 10} more not delivered`)
      const gatedFailed = tracked.filter((m) => endingOf(m) === "gated-failed")
      for (const m of gatedFailed.slice(0, 10))
        err(`  failed at a closed GatedRecipient, as --reverting asks: ${describeMessage(m)}`)
      if (gatedFailed.length > 10) err(`  … and ${gatedFailed.length - 10} more failed at GatedRecipients`)
      for (const problem of outcome.problems) err(`  ${problem}`)
      const gatedPart =
        gated.sent === 0 ? "" : ` (${gated.failed} of ${gated.sent} sent to closed GatedRecipients, expected)`
      const human = `sent ${summary.sent}, delivered ${summary.delivered}, failed ${summary.failed}${gatedPart}, latency p50 ${summary.p50Ms ?? "–"} ms, p99 ${summary.p99Ms ?? "–"} ms`
      const ok =
        outcome.ok &&
        trafficError === undefined &&
        rotationError === undefined &&
        (rotation === undefined || rotation.removedSignaturesAccepted === 0)
      if (json) {
        err(`chorus devnet: ${human}`)
        out(
          JSON.stringify({
            ...summary,
            cpuSeconds: Math.round((cpu.user + cpu.system) / 10_000) / 100,
            gated: outcome.gated,
            gatedFailed: outcome.endings["gated-failed"],
            gatedDelivered: outcome.endings["gated-delivered"],
            inFlight: outcome.endings["in-flight"],
            ...(rotation === undefined ? {} : { rotation }),
            ok,
          }),
        )
      } else out(`chorus devnet: ${human}`)
      return ok ? 0 : 1
    } finally {
      process.off("SIGINT", onSignal)
      process.off("SIGTERM", onSignal)
      await net.stop()
    }
  },
}
