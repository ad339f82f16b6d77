/**
 * One chaos run, end to end:
 *
 *   broker (Kafka) → plan (from the seed) → chains, contracts, hostile
 *   recipients → RPC proxies → one config per service process → the
 *   processes → traffic and the timed faults together → drain → stop the
 *   processes → count from the chains → report (and `chorus trace` of a few
 *   failed messages) → clean up.
 *
 * Everything it starts is stopped on every way out: on return, on a thrown
 * error, on SIGINT/SIGTERM; and if the harness is killed with `kill -9`,
 * the services and anvils die with it (they are spawned tied to it) and
 * the run's own broker stops (its watchdog follows this process).
 *
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DEVNET_CHAIN_IDS } from "../../cli/devnet/world.ts"
import { loadConfig } from "../../services/config/index.ts"
import { busIdentitiesOf } from "../../services/registry.ts"
import { ALL_TOPICS } from "../../topology/index.ts"
import { firstSentAt, readInboxStatus, readReceipts, readRecipientSide } from "./chain-truth.ts"
import { describeStanding, drain, standingProbe } from "./drain.ts"
import { externalBroker, type RunBroker, startLocalBroker, startLocalCluster } from "./kafka-broker.ts"
import { followLog } from "./log-facts.ts"
import { type ChaosOptions, rateFor, replayCommand } from "./options.ts"
import { superviseUnits, type UnitSpec } from "./processes.ts"
import {
  brokenLanes,
  countsJson,
  describeEvent,
  renderBroken,
  renderCounts,
  renderExits,
  renderOutcomes,
  renderProxies,
  renderSchedule,
  renderThroughput,
  throughputOf,
  tracedSample,
} from "./report.ts"
import { startRunProxies } from "./rpc-proxies.ts"
import { finalBus, harnessBus, resetKafkaLog } from "./run-bus.ts"
import { instanceOfUnit, planRun } from "./schedule.ts"
import { runTimeline } from "./timeline.ts"
import { logFlags, traceMessage } from "./traces.ts"
import { startTraffic } from "./traffic.ts"
import { judge, passed } from "./verdict.ts"
import { type RunBus, startChaosWorld, writeConfigs } from "./world.ts"

/** The devnet's operators: unequal stake, a 2/3 threshold. */
const WEIGHTS = [4000n, 3000n, 2000n, 1000n] as const
const THRESHOLD_BPS = 6667
const BLOCK_TIME = 1

const secs = (ms: number) => `${Math.round(ms / 1000)} s`

/**
 * The `chorus run` arguments of one unit: `chain-watcher-901` runs `chain-watcher --instance 901`, and
 * `operator-0.2`, the second member of `operator-0`, runs `operator --instance 0` too.
 */
const unitSpec = (unit: string, config: string, level: string, heapMb: number | undefined): UnitSpec => {
  const instance = /^(.+)-(\d+)$/.exec(instanceOfUnit(unit))
  const service = instance === null ? instanceOfUnit(unit) : instance[1]!
  return {
    name: unit,
    args: [
      "run",
      service,
      "--config",
      config,
      ...(instance === null ? [] : ["--instance", instance[2]!]),
      "--log-level",
      level,
      // The chaos run's keys are anvil's, written in its configs.
      "--allow-plaintext-keys",
    ],
    ...(heapMb === undefined ? {} : { nodeArgs: [`--max-old-space-size=${heapMb}`] }),
  }
}

/**
 * Runs the chaos run the options describe, printing as it goes; resolves with the exit status (0 only when
 * nothing was lost, duplicated or stranded).
 *
 * @example
 * ```ts
 * const status = await runChaos(parseChaosArgs(["--messages", "500", "--seed", "7"])!, console.log)
 * ```
 */
export const runChaos = async (options: ChaosOptions, print: (line: string) => void): Promise<number> => {
  const began = Date.now()
  const rate = options.rate ?? rateFor(options.messages)
  const ownDir = options.dataDir === undefined
  const runDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "chorus-chaos-"))
  const logDir = join(runDir, "logs")
  mkdirSync(logDir, { recursive: true })
  const cleanups: Array<() => Promise<unknown>> = []
  let cleaning: Promise<void> | undefined
  const cleanup = () => {
    cleaning ??= (async () => {
      while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined)
    })()
    return cleaning
  }
  const onSignal = (signal: NodeJS.Signals) => {
    print(`chaos: ${signal}: stopping every process, chain and broker of the run`)
    void cleanup().finally(() => process.exit(signal === "SIGINT" ? 130 : 143))
  }
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  let status = 1
  try {
    print(
      `chorus chaos: seed ${options.seed}${options.seedGiven ? "" : " (drawn: pass --seed to replay it)"}; the run's files: ${runDir}`,
    )
    let broker: RunBroker | undefined
    if (options.kafka.kind === "local") {
      const cluster = options.kafka.brokers === 3
      print(
        `starting the run's own Kafka ${cluster ? "cluster of 3 brokers" : "broker"} (scripts/kafka-local)…`,
      )
      const started = await (cluster ? startLocalCluster : startLocalBroker)(
        join(runDir, "kafka"),
        join(logDir, "kafka.log"),
      )
      broker = started
      cleanups.push(() => started.release())
    } else if (options.kafka.kind === "brokers") {
      broker = await externalBroker(options.kafka.brokers, options.kafkaNodeDir, join(logDir, "kafka.log"))
    }
    const runBus: RunBus =
      broker === undefined
        ? { kind: "embedded", dataDir: join(runDir, "log") }
        : { kind: "kafka", brokers: broker.brokers }
    if (runBus.kind === "kafka") await resetKafkaLog(runBus.brokers)

    const plan = planRun({
      seed: options.seed,
      messages: options.messages,
      rate,
      bus: runBus.kind,
      faults: options.faults,
      chains: DEVNET_CHAIN_IDS,
      weights: WEIGHTS,
      thresholdBps: THRESHOLD_BPS,
      members: options.members,
      scaled: options.scaled,
    })
    print("starting the chains, deploying the contracts and the hostile recipients…")
    const world = await startChaosWorld(plan)
    cleanups.push(() => world.stop())
    for (const line of renderSchedule(plan, world.devnet.operators)) print(line)
    if (plan.faults.has("broker") && broker?.notRestartable != null)
      print(`  note: the broker restart will not be done: ${broker.notRestartable}`)

    const proxies = await startRunProxies(plan, world.devnet.chains)
    cleanups.push(() => proxies.close())
    const configs = writeConfigs(plan, world, proxies, runDir, runBus)
    const config = loadConfig(configs.tools)
    const identities = busIdentitiesOf(config)
    const supervisor = superviseUnits(
      plan.units.map((unit) => unitSpec(unit, configs.units.get(unit)!, options.logLevel, options.heapMb)),
      logDir,
    )
    cleanups.push(() => supervisor.stopAll(5_000))
    print(`starting ${plan.units.length} service process(es); their logs: ${logDir}`)
    const setupStarted = Date.now()
    await supervisor.startAll(240_000)
    print(`services running after ${secs(Date.now() - setupStarted)}`)
    const bus = await harnessBus(runBus, () => supervisor.pidOf("all"))
    cleanups.push(() => bus.close())
    if (runBus.kind === "kafka") await bus.use((b) => b.ensureTopics(ALL_TOPICS))

    const startedAt = Date.now()
    const traffic = startTraffic(world, plan.traffic, plan.seed, startedAt)
    cleanups.push(async () => traffic.stop())
    const follower = followLog(config)
    const probe = standingProbe(world.devnet.chains, traffic, bus, follower)
    let eventsDone = 0
    const timeline = runTimeline(plan.events, startedAt, {
      seed: plan.seed,
      supervisor,
      broker,
      bus,
      config,
      identities,
      traffic,
      rpcUrlOf: (chainId) => world.devnet.chains.find((c) => c.chainId === chainId)!.rpcUrl,
      blockTime: BLOCK_TIME,
      toolFlags: [
        ...(runBus.kind === "kafka"
          ? ["--brokers", runBus.brokers.join(",")]
          : ["--data-dir", runBus.dataDir]),
        "--config",
        configs.tools,
      ],
      onOutcome: (o) => {
        eventsDone += 1
        print(
          `  ${o.ok ? "done" : "FAILED"} at t+${(o.startedMs / 1000).toFixed(1)}s: ${describeEvent(o.event)}: ${o.detail}`,
        )
      },
    })
    let reading = false
    const progress = setInterval(() => {
      if (reading) return
      reading = true
      probe
        .read(false)
        .then((s) =>
          print(
            `[chaos ${secs(Date.now() - startedAt)}] sent ${traffic.sent().length}/${plan.messages} · ${describeStanding(s)} · faults ${eventsDone}/${plan.events.length} · unplanned exits ${supervisor.exits().length}`,
          ),
        )
        .catch(() => undefined)
        .finally(() => {
          reading = false
        })
    }, 15_000)
    cleanups.push(async () => clearInterval(progress))
    await traffic.done
    const trafficEnded = Date.now()
    print(
      `traffic done in ${secs(trafficEnded - startedAt)}: ${traffic.sent().length} sent, ${traffic.failed().length} not sent`,
    )
    const outcomes = await timeline
    clearInterval(progress)
    const drainStarted = Date.now()
    print(`every fault ran; draining for up to ${secs(options.drainMs)}…`)
    const { last, settledLastMinute, writtenLastMinute } = await drain(
      probe,
      drainStarted + options.drainMs,
      print,
    )
    const drainMs = Date.now() - drainStarted
    print(
      last.waiting === 0
        ? `drain settled every message after ${secs(drainMs)}: ${describeStanding(last)}`
        : `drain deadline passed after ${secs(drainMs)}: ${describeStanding(last)}; in its last minute ${settledLastMinute} settled and the services wrote ${writtenLastMinute ?? "?"} record(s) past observation (${settledLastMinute > 0 || (writtenLastMinute ?? 0) > 0 ? "still working: slow, not stuck" : "nothing moved: stuck"})`,
    )

    print("stopping the service processes…")
    await supervisor.stopAll(30_000)
    await bus.close()

    // The count: the chains, as they are now; the log only for observations, refusals and halts.
    const receipts = await readReceipts(world.devnet.chains, traffic.sent())
    const inbox = await readInboxStatus(world.devnet.chains, receipts.messages)
    const side = await readRecipientSide(world.devnet.chains)
    const sentAt = await firstSentAt(world.devnet.chains, receipts.messages)
    const finalFollower = followLog(config)
    const counted = await finalBus(runBus)
    try {
      await finalFollower.poll(counted)
    } finally {
      await counted.close()
    }
    const facts = finalFollower.facts()
    const verdict = judge(receipts.messages, inbox, side, facts)
    const ok = passed(verdict.counts)
    status = ok ? 0 : 1

    const total = Date.now() - began
    print("")
    print(
      `chorus chaos: seed ${plan.seed} · ${plan.messages} messages · ${runBus.kind === "kafka" ? `Kafka ${runBus.brokers.join(",")}` : "embedded log"} · ${Math.floor(total / 60_000)} min ${Math.round((total % 60_000) / 1000)} s (setup ${secs(startedAt - began)}, traffic ${secs(trafficEnded - startedAt)}, drain ${secs(drainMs)})`,
    )
    for (const line of renderCounts(verdict.counts)) print(line)
    const throughput = throughputOf(verdict.counts, sentAt, side.lastSettledAt)
    print(renderThroughput(throughput))
    print("faults:")
    for (const line of renderOutcomes(outcomes)) print(line)
    print("RPC proxies:")
    for (const line of renderProxies(proxies.reports())) print(line)
    const refusedRecords = Object.entries(facts.unreadable)
    print(
      `garbage and forgeries: the count's reader refused ${refusedRecords.reduce((s, [, n]) => s + n, 0)} record(s) on the topics it reads (${refusedRecords.map(([t, n]) => `${t} ${n}`).join(", ") || "none"}); the services dead-lettered ${facts.deadLetters}`,
    )
    for (const halt of facts.halts)
      print(
        `halt: chain ${halt.chainId} halted at block ${halt.blockNumber}: ${halt.reason}${halt.resumed === undefined ? "; never lifted" : `; lifted by chorus chain resume from block ${halt.resumed.block} (${halt.resumed.by})`}`,
      )
    if (verdict.deliveredAfterHalt.length > 0) {
      print(
        `delivered although their chain had halted at or before their block (issue 12 item 3): ${verdict.deliveredAfterHalt.length}, e.g. ${verdict.deliveredAfterHalt
          .slice(0, 3)
          .map(
            (v) => `${v.message.messageId} (block ${v.message.blockNumber}, halt at ${v.halt!.blockNumber})`,
          )
          .join(", ")}`,
      )
    }
    const exits = supervisor.exits()
    print(`process exits the run did not cause: ${exits.length}`)
    for (const line of renderExits(exits)) print(line)
    print(`process starts: ${[...supervisor.starts().entries()].map(([u, n]) => `${u} ${n}`).join(", ")}`)
    if (traffic.failed().length > 0 || receipts.missing.length > 0) {
      print(
        `traffic not sent: ${traffic.failed().length} send(s) refused, ${receipts.missing.length} without a receipt (not counted as sent)`,
      )
      for (const f of traffic.failed().slice(0, 5)) print(`  #${f.message.index}: ${f.error}`)
      for (const m of receipts.missing.slice(0, 5))
        print(`  #${m.sent.message.index} ${m.sent.transactionHash}: ${m.why}`)
    }
    print(
      ok
        ? "verdict: PASS: no message lost, duplicated or stranded"
        : `verdict: FAIL: ${verdict.counts.lost} lost, ${verdict.counts.duplicated} duplicated, ${verdict.counts.stranded} stranded (by lane: ${brokenLanes(verdict)})`,
    )
    if (!ok) {
      for (const line of renderBroken(verdict, plan, 25)) print(line)
      const broken = tracedSample(verdict, options.traces)
      const flags = logFlags(runBus, configs.tools, join(runDir, "audit.sqlite"))
      for (const v of broken) {
        print(`chorus trace ${v.message.messageId} ${flags.join(" ")}`)
        for (const line of (await traceMessage(v.message.messageId, flags)).split("\n")) print(`  ${line}`)
      }
      print(`replay this run: ${replayCommand(options, rate)}`)
      print(
        `the run's files (configs, service logs${runBus.kind === "embedded" ? ", the log" : ""}) are kept in ${runDir}`,
      )
    }
    print(countsJson(verdict.counts, throughput, outcomes))
    return status
  } finally {
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
    await cleanup()
    if (ownDir && status === 0 && !options.keep) rmSync(runDir, { recursive: true, force: true })
  }
}
