/**
 * Replay at scale (issue 13): `npm run bench:replay [-- --events 1000000 --log <dir> --keep <dir> --rate 450
 * --threads <n> --services a,b --shadows <dir> --json]`. Replays every replayable service over one embedded
 * log of about `--events` events, as `chorus replay <service> --from 0` does, and ends with one JSON line:
 * `{"events":…,"seconds":…,"eventsPerS":…,"msPerEvent":…,"projectedSecondsPer1M":…,"openSeconds":…,
 * "cpuSeconds":…,"threads":…,"services":{"<service>":{"seconds","instances","inputs","outputs","inputsPerS"}}}`.
 * Human-readable lines go to stderr.
 *
 * The log. Without `--log`, the real relay writes it: `chorus devnet --messages M --rate R --exit --json
 * --data-dir <dir>` (three anvil chains, every service, every record signed by its producer), with M =
 * events ÷ 2.4, the events a devnet writes per message at these rates (20,000 messages: 47,879 events;
 * 100,000: 235,265; 188,053: 473,197): the observation, its single proof, and its share of range reads, lane
 * reads, proposals, chunk proofs, signatures, verdicts, attestations and deliveries. No record is
 * synthesized, so the log has a busy relay's event mix, record sizes, checkpoint sizes (tens of messages),
 * lane layout (on these chains three of the six lanes hash to one partition) and recorded chain reads, and
 * every signature a replay checks is a producer's. The devnet sends as fast as it can (`--rate`, default
 * 450/s): on the 2-core machine it sustains ~410 msg/s at first and slows as its tracker grows (~170/s
 * past 150,000 messages), so one run of its default timeout writes ~470,000 events in 14 minutes, not a
 * million; its submitters deliver more slowly still (the anvils' block gas), so the log's deliveries stop
 * short, and the submitters' replays (which fold them and their steps' reads) have less to do than on a log
 * whose deliveries kept up. A devnet that ends
 * without its summary line (at ~330,000 messages its summary overflowed the stack) still leaves its log,
 * which is replayed. Figures scale with the log (`msPerEvent`, `projectedSecondsPer1M`). `--keep <dir>`
 * keeps the devnet's data directory and `--log <dir>` reuses one (a devnet `--data-dir`, holding `log/` and
 * `config.json`), so before and after run on the same log.
 *
 * The replay. Per service: `replayTargets(service, config)` and `replay({ from: offset 0, to: latest })`
 * on the log opened with the config's producer policy (`trustedBus`: every record's signature is checked,
 * as `chorus replay` does). With `--threads n` (default: one per core) the replays share n `ReplayWorkers`
 * and run all at once; `--threads 0` replays in this thread, one service after the other, as `chorus
 * replay` runs each today. The shadow topics go to a scratch embedded log (same adapter, same writes;
 * `--shadows <dir>` keeps it), so the log stays as the devnet left it; reads of shadow topics (the suffix
 * check) go there too. `seconds` is the wall time from opening the log (`openSeconds` of it: the embedded
 * log checks every frame when opened) to the last manifest; `cpuSeconds` is the process's, every thread.
 * "events" counts the records on the log's production topics; what each service folds and writes is in
 * `services`.
 *
 * @module
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { basename, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { rememberedSignatures } from "../bus/authentication/verified-signatures.ts"
import { openEmbeddedBus } from "../bus/embedded/index.ts"
import { parseShadowTopic } from "../bus/events/index.ts"
import type { BusPort } from "../bus/port.ts"
import { trustedBus } from "../cli/bus-trust.ts"
import { type ChorusConfig, loadConfig } from "../services/config/index.ts"
import { busIdentitiesOf } from "../services/registry.ts"
import { REPLAYABLE_SERVICES, replay, replayTargets } from "../services/replay/index.ts"
import { ALL_TOPICS, TOPICS } from "../topology/index.ts"
import { announce } from "./announce.ts"
import { positiveFlag } from "./positive-flag.ts"

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    log: { type: "string" },
    keep: { type: "string" },
    rate: { type: "string", default: "450" },
    services: { type: "string" },
    threads: { type: "string" },
    shadows: { type: "string" },
    signatures: { type: "string", default: "remember" },
    json: { type: "boolean", default: false },
  },
})
announce(
  "bench:replay",
  "relays a devnet log, then replays every replayable service over it",
  "about 2 to 3 minutes",
)
const EVENTS = positiveFlag("bench:replay", "events", values.events)
const RATE = positiveFlag("bench:replay", "rate", values.rate)
/** Replay threads; 0 replays in this thread, one service after the other (as `chorus replay` does today). */
const THREADS =
  values.threads === "0"
    ? 0
    : positiveFlag("bench:replay", "threads", values.threads ?? String(availableParallelism()))
/** Events a devnet writes per message sent at a few hundred per second (20,000 at 450/s: 47,879). */
const EVENTS_PER_MESSAGE = 2.4
const CHORUS = fileURLToPath(new URL("..", import.meta.url))
const log = (line: string) => process.stderr.write(`${line}\n`)
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits

if (values.signatures !== "remember" && values.signatures !== "verify") {
  console.error(
    `bench:replay: --signatures must be remember or verify, got ${JSON.stringify(values.signatures)}`,
  )
  process.exit(2)
}
/** Whether signatures verified by an earlier run over this log are taken without verifying them again. */
const REMEMBER = values.signatures === "remember"

const services = values.services === undefined ? REPLAYABLE_SERVICES : values.services.split(",")
for (const service of services) {
  if (!REPLAYABLE_SERVICES.includes(service)) {
    console.error(`bench:replay: ${service} is not replayable (${REPLAYABLE_SERVICES.join(", ")})`)
    process.exit(2)
  }
}

/** Runs `chorus devnet` into `dataDir`; the log is kept whether or not every message was delivered. */
const buildLog = async (dataDir: string): Promise<void> => {
  const messages = Math.ceil(EVENTS / EVENTS_PER_MESSAGE)
  const args = [
    join(CHORUS, "bin/chorus.js"),
    "devnet",
    "--messages",
    String(messages),
    "--rate",
    String(RATE),
    "--exit",
    "--json",
    "--data-dir",
    dataDir,
  ]
  log(
    `building the log: chorus devnet --messages ${messages} --rate ${RATE} --exit --json --data-dir ${dataDir}`,
  )
  const started = performance.now()
  const child = spawn(process.execPath, args, { cwd: CHORUS, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  let lastProgress = 0
  child.stderr.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) {
      if (line.trim() === "") continue
      // The devnet prints its progress every few seconds; one line a minute is enough here.
      if (line.startsWith("[devnet") && performance.now() - lastProgress < 60_000) continue
      if (line.startsWith("  not delivered:")) continue
      lastProgress = performance.now()
      log(`  devnet: ${line}`)
    }
  })
  const code = await new Promise<number | null>((done) => child.on("close", done))
  const last = stdout.trim().split("\n").pop() ?? ""
  const took = `${round((performance.now() - started) / 1000, 1)} s`
  let summary: { sent: number; delivered: number; sentPerS?: number } | undefined
  try {
    summary = JSON.parse(last)
  } catch {
    summary = undefined
  }
  if (!existsSync(join(dataDir, "log", "topics"))) {
    throw new Error(`the devnet (exit ${code}) left no log in ${dataDir}; its output ended: ${last}`)
  }
  if (summary === undefined) {
    // Its log is what it wrote until it stopped: still a relay's log (the events are counted from it).
    log(`  devnet: stopped after ${took} (exit ${code}) without a summary; replaying the log it wrote`)
    return
  }
  log(
    `  devnet: sent ${summary.sent} (${summary.sentPerS}/s), delivered ${summary.delivered} by its end, ` +
      `in ${took} (exit ${code})`,
  )
  // Fewer sent than asked (the machine could not keep the rate up to the devnet's timeout) is still a log a
  // relay wrote; the events are counted from it.
  if (summary.sent < messages) log(`  devnet: sent ${summary.sent} of the ${messages} messages asked`)
}

/** Whether `trustedBus` holds records to the config's producers (it does when authentication is on). */
const trusted = (config: ChorusConfig) => busIdentitiesOf(config).enabled

/** Records on the log's production topics. */
const countEvents = async (bus: BusPort): Promise<number> => {
  let events = 0
  for (const topic of ALL_TOPICS) {
    const marks = await bus.watermarks(topic.name).catch(() => [])
    events += marks.reduce((n, m) => n + (m.high - m.low), 0)
  }
  return events
}

/** The log for production topics, `scratch` for shadow topics (the only ones a replay writes). */
const shadowsAside = (production: BusPort, scratch: BusPort): BusPort => {
  const busOf = (topic: string) => (parseShadowTopic(topic) === undefined ? production : scratch)
  const one = (topics: ReadonlyArray<string>) => {
    const buses = new Set(topics.map(busOf))
    if (buses.size > 1) throw new Error(`one call mixes shadow and production topics: ${topics.join(", ")}`)
    return busOf(topics[0] ?? "")
  }
  return {
    kind: production.kind,
    ensureTopics: (specs) => one(specs.map((s) => s.name)).ensureTopics(specs),
    partitions: (topic) => busOf(topic).partitions(topic),
    publish: (records) => one(records.map((r) => r.topic)).publish(records),
    subscribe: (options) => one(options.topics).subscribe(options),
    read: (options) => busOf(options.topic).read(options),
    watermarks: (topic) => busOf(topic).watermarks(topic),
    offsetsForTimestamp: (topic, timestamp) => busOf(topic).offsetsForTimestamp(topic, timestamp),
    committedOffsets: (group, topic) => busOf(topic).committedOffsets(group, topic),
    close: async () => {},
  }
}

interface ServiceFigures {
  seconds: number
  instances: number
  /** Inputs folded (each instance's whole input log, from offset 0). */
  inputs: number
  outputs: number
  inputsPerS: number
}

const main = async () => {
  let dataDir: string
  let removeAfter: string | undefined
  if (values.log !== undefined) {
    dataDir = resolve(values.log)
    // Accept the log directory itself, with config.json beside it.
    if (basename(dataDir) === "log" && !existsSync(join(dataDir, "log"))) dataDir = dirname(dataDir)
    if (!existsSync(join(dataDir, "log")) || !existsSync(join(dataDir, "config.json"))) {
      console.error(`bench:replay: --log ${values.log} holds no devnet log (log/ and config.json)`)
      process.exit(2)
    }
  } else {
    dataDir =
      values.keep === undefined ? mkdtempSync(join(tmpdir(), "chorus-bench-replay-")) : resolve(values.keep)
    if (values.keep === undefined) removeAfter = dataDir
    if (existsSync(join(dataDir, "log"))) {
      console.error(`bench:replay: ${dataDir} already holds a log; pass it as --log to reuse it`)
      process.exit(2)
    }
    await buildLog(dataDir)
  }
  const scratchDir =
    values.shadows === undefined
      ? mkdtempSync(join(tmpdir(), "chorus-bench-replay-shadows-"))
      : resolve(values.shadows)
  try {
    const configPath = join(dataDir, "config.json")
    const config = loadConfig(configPath)
    const started = performance.now()
    const cpuAtStart = process.cpuUsage()
    // The same memory as `chorus replay --data-dir <this devnet>` uses.
    const remembered = REMEMBER ? rememberedSignatures({ dataDir: join(dataDir, "log") }) : undefined
    const signaturesFile = remembered?.file
    if (remembered?.problem !== undefined)
      log(`  not using ${remembered.problem.file}: ${remembered.problem.reason}; every signature is verified`)
    const signatures = remembered?.memory
    const rememberedAtStart = signatures?.size ?? 0
    // Loaded only with threads, so this file also runs (with --threads 0) in a checkout from before them.
    const lib = await import("../services/replay/index.ts")
    // The threads load their modules while this one opens the log (it checks every segment's frames).
    const starting =
      THREADS === 0
        ? undefined
        : lib.ReplayWorkers.start({
            config,
            authenticate: trusted(config),
            threads: THREADS,
            ...(signatures === undefined ? {} : { signatures }),
          })
    let opened = started
    const opening = Promise.all([
      openEmbeddedBus({ dataDir: join(dataDir, "log"), serve: false }).then((bus) => {
        opened = performance.now()
        return bus
      }),
      openEmbeddedBus({ dataDir: scratchDir, serve: false }),
    ])
    const [open, workers] = await Promise.allSettled([opening, starting])
    if (open.status === "rejected" || workers.status === "rejected") {
      if (workers.status === "fulfilled") await workers.value?.close()
      if (open.status === "fulfilled") await Promise.all(open.value.map((b) => b.close()))
      throw open.status === "rejected" ? open.reason : (workers as PromiseRejectedResult).reason
    }
    const [production, scratch] = open.value
    const pool = workers.value
    const figures: Record<string, ServiceFigures> = {}
    let events = 0
    try {
      events = await countEvents(production)
      log(
        `replaying ${services.join(", ")} over ${events} events (${join(dataDir, "log")}, opened in ` +
          `${round((opened - started) / 1000)} s), ${THREADS === 0 ? "in this thread" : `on ${THREADS} thread(s)`}` +
          (signatures === undefined
            ? ", verifying every signature"
            : `, with ${rememberedAtStart} signature(s) verified by earlier runs (${signaturesFile})`),
      )
      const bus = trustedBus(shadowsAside(production, scratch), { config: configPath }, undefined, signatures)
      if (pool !== undefined && pool.authenticates !== (bus.authenticate !== undefined)) {
        throw new Error("bench:replay: the threads and the bus disagree on authentication")
      }
      // Every replay with recorded reads needs chorus.lane.reads checked: once, on every thread, before units.
      if (pool !== undefined) await pool.checkTopic(bus, TOPICS.laneReads.name)
      const stamp = Date.now().toString(36)
      const one = async (service: string) => {
        const t0 = performance.now()
        const targets = await replayTargets(service, config)
        const manifest = await replay({
          bus,
          targets,
          from: { kind: "offset", offset: 0 },
          suffix: `bench-${stamp}-${service}`,
          ...(pool === undefined ? {} : { workers: pool }),
        })
        const seconds = (performance.now() - t0) / 1000
        const inputs = manifest.counts.before + manifest.counts.replayed + manifest.counts.duplicates
        figures[service] = {
          seconds: round(seconds),
          instances: targets.length,
          inputs,
          outputs: manifest.counts.outputs,
          inputsPerS: Math.round(inputs / seconds),
        }
        log(
          `  ${service}: ${round(seconds)} s, ${targets.length} instance(s), ${inputs} inputs, ` +
            `${manifest.counts.outputs} outputs, ${manifest.counts.undecodable} undecodable`,
        )
      }
      // With threads, the services share them: all at once. Without, one after the other.
      if (pool === undefined) for (const service of services) await one(service)
      else await Promise.all(services.map(one))
    } finally {
      await pool?.close()
      await production.close()
      await scratch.close()
    }
    const signaturesTaken = (signatures?.hits ?? 0) + (pool?.signaturesRemembered ?? 0)
    const signaturesVerified = signatures?.added ?? null
    if (signatures !== undefined && signatures.added > 0) signatures.save(signaturesFile!)
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuAtStart)
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    log(
      `replayed ${events} events in ${round(seconds)} s: ${Math.round(events / seconds)} events/s, ` +
        `${round((seconds * 1000) / events, 4)} ms per event, ${round(cpuSeconds)} CPU-seconds (every thread)`,
    )
    if (signatures !== undefined)
      log(
        `  signatures: ${signaturesTaken} taken as verified by an earlier run, ${signaturesVerified} verified now and remembered`,
      )
    if (events > 0)
      log(`  at this rate 1,000,000 events take ${round((seconds / events) * 1_000_000, 1)} s (goal ≤ 60 s)`)
    console.log(
      JSON.stringify({
        events,
        seconds: round(seconds),
        eventsPerS: Math.round(events / seconds),
        msPerEvent: round((seconds * 1000) / events, 4),
        projectedSecondsPer1M: round((seconds / events) * 1_000_000, 1),
        openSeconds: round((opened - started) / 1000),
        cpuSeconds: round(cpuSeconds),
        threads: THREADS,
        signatures: values.signatures,
        signaturesRemembered: signatures === undefined ? null : signaturesTaken,
        signaturesVerifiedNow: signaturesVerified,
        log: join(dataDir, "log"),
        services: figures,
      }),
    )
  } finally {
    if (values.shadows === undefined) rmSync(scratchDir, { recursive: true, force: true })
    if (removeAfter !== undefined) rmSync(removeAfter, { recursive: true, force: true })
  }
}

await main()
