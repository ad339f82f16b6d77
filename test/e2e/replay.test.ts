/**
 * Replay and diff on a real devnet log. A devnet on the embedded bus relays
 * 12 messages (each chain's sends mined in one block, so every lane's
 * checkpoint carries two messages), waits until every service has handled
 * every input, and stops; its log stays on disk. Then:
 * - `chorus replay` of every replayable service over the whole log, and
 *   `chorus diff` of every shadow it wrote, run as printed: every diff is
 *   empty;
 * - replays of a middle window (by time, and by offsets for the services
 *   with one input topic) give empty diffs too;
 * - the proof-builder with another chunk size gives a diff that names the
 *   affected messages, and `chorus diff` exits 1 on it;
 * - `chorus replay submitter` makes, from the destination's answers the
 *   submitter recorded, every delivery outcome it wrote: each message the
 *   recipients received is delivered once in the shadow;
 * - no production topic gained a record.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { serialize } from "node:v8"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { diff } from "../../cli/commands/diff.ts"
import { replay as replayCommand } from "../../cli/commands/replay.ts"
import { startDevnet } from "../../cli/devnet/devnet.ts"
import { deliveredMessageIds } from "../../cli/devnet/recipients.ts"
import { rpc } from "../../cli/devnet/world.ts"
import { HEADERS } from "../../schemas/index.ts"
import type { ChorusConfig } from "../../services/config/index.ts"
import { resolvePrivateKey } from "../../services/config/index.ts"
import { proofBuilderCoreFor } from "../../services/proof-builder/index.ts"
import { groupFor, serviceDefinition } from "../../services/registry.ts"
import {
  diffShadowTopic,
  parseReplayBound,
  type ReplayBound,
  type ReplayManifest,
  replay,
  replayTargets,
  type ShadowDiffReport,
} from "../../services/replay/index.ts"
import {
  compareLogInputs,
  eraseCore,
  foldLogInputs,
  type LogInputRange,
  producerOf,
  quietLogger,
  readLogInputs,
  readRecordedReads,
  stampOutputs,
} from "../../services/runtime/index.ts"
import { makeSubmitterCore } from "../../services/submitter/core/index.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { runCommand } from "../fixtures/run-cli.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

const MESSAGES = 12
const REPLAYABLE = [
  "chain-watcher",
  "proof-builder",
  "operator",
  "attestation-collector",
  "submitter",
] as const
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const totals = async (bus: BusPort) => {
  const counts = new Map<string, number>()
  for (const topic of ALL_TOPICS) {
    counts.set(
      topic.name,
      (await bus.watermarks(topic.name)).reduce((n, m) => n + (m.high - m.low), 0),
    )
  }
  return counts
}

/** Every consumer group of a lane service has committed every input: production handled the whole log. */
const caughtUp = async (bus: BusPort, config: ChorusConfig): Promise<boolean> => {
  const operators = config.operators.map(
    (op, i) => privateKeyToAccount(resolvePrivateKey(op.privateKey, `operators[${i}].privateKey`)).address,
  )
  const groups: Array<[string, ReadonlyArray<string>]> = [
    [groupFor("proof-builder"), [TOPICS.messagesObserved.name]],
    [groupFor("attestation-collector"), [TOPICS.checkpointsProposed.name, TOPICS.attestationsSigned.name]],
    ...operators.map((operator): [string, ReadonlyArray<string>] => [
      groupFor("operator", { operator }),
      [TOPICS.checkpointsProposed.name],
    ]),
  ]
  for (const [group, topics] of groups) {
    for (const topic of topics) {
      const committed = await bus.committedOffsets(group, topic)
      for (const mark of await bus.watermarks(topic)) {
        if ((committed.find((c) => c.partition === mark.partition)?.offset ?? 0) < mark.high) return false
      }
    }
  }
  return true
}

const differencesOf = (reports: ReadonlyArray<ShadowDiffReport>) =>
  reports.flatMap((r) => r.diff.differences.map((d) => `${r.shadowTopic}: ${d.kind} ${d.messages.join(",")}`))

describe("replay and diff on a devnet log", () => {
  let dataDir: string
  let logDir: string
  let configPath: string
  let config: ChorusConfig
  let production: Map<string, number>
  let bus: BusPort
  /** The ids of the messages the Inboxes delivered, read from the chains before the devnet stopped. */
  let deliveredOnChain: ReadonlyArray<string>

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "chorus-replay-e2e-"))
    const devnet = await startDevnet({ bus: { kind: "embedded", dataDir }, logger: quietLogger() })
    try {
      configPath = devnet.configPath
      config = devnet.config
      // Each chain's sends go into one block, so each lane's two messages share a checkpoint.
      await Promise.all(devnet.world.chains.map((c) => rpc(c.rpcUrl, "evm_setIntervalMining", [0])))
      const sent = await devnet.send({ messages: MESSAGES, rate: 6 })
      await Promise.all(devnet.world.chains.map((c) => rpc(c.rpcUrl, "evm_setIntervalMining", [1])))
      await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 120_000 })
      deliveredOnChain = await deliveredMessageIds(devnet.world)
      expect(deliveredOnChain).toHaveLength(MESSAGES)
      // Late signatures are still being judged after delivery; stop once every input was handled.
      const deadline = Date.now() + 30_000
      while (!(await caughtUp(devnet.bus, config)) && Date.now() < deadline) await sleep(250)
      expect(await caughtUp(devnet.bus, config)).toBe(true)
      production = await totals(devnet.bus)
    } finally {
      await devnet.stop()
    }
    logDir = join(dataDir, "log")
  }, 240_000)

  /** `chorus replay <service>`'s argv over the whole devnet log, before `--into`. */
  const replayWholeLog = (service: string) => [
    service,
    "--config",
    configPath,
    "--data-dir",
    logDir,
    "--from",
    "0",
  ]

  afterAll(async () => {
    await bus?.close()
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
  })

  it("replays every replayable service over the whole log with `chorus replay`, and every `chorus diff` it prints is empty", async () => {
    for (const service of REPLAYABLE) {
      const replayed = await runCommand(replayCommand, [
        ...replayWholeLog(service),
        "--into",
        `${service}-all`,
        "--json",
      ])
      expect(replayed.code, replayed.err.join("\n")).toBe(0)
      const { manifest, diffCommands } = JSON.parse(replayed.out.join("\n")) as {
        manifest: ReplayManifest
        diffCommands: string[]
      }
      expect(manifest.counts.replayed, service).toBeGreaterThan(0)
      expect(manifest.counts.outputs, service).toBeGreaterThan(0)
      expect(manifest.counts.undecodable).toBe(0)
      expect(diffCommands).toHaveLength(manifest.shadows.length)
      for (const command of diffCommands) {
        const [chorus, name, ...argv] = command.split(" ")
        expect([chorus, name]).toEqual(["chorus", "diff"])
        const diffed = await runCommand(diff, argv)
        expect(diffed.code, `${command}\n${diffed.out.join("\n")}`).toBe(0)
        expect(diffed.out.at(-1)).toMatch(/^no differences/)
      }
    }
  }, 180_000)

  it("given a replay that verified the log's signatures, when the log is replayed again, then none is verified twice and the shadows are the same", async () => {
    const replayJson = async (into: string, extra: ReadonlyArray<string> = []) => {
      const replayed = await runCommand(replayCommand, [
        ...replayWholeLog("proof-builder"),
        "--into",
        into,
        ...extra,
        "--json",
      ])
      expect(replayed.code, replayed.err.join("\n")).toBe(0)
      return JSON.parse(replayed.out.join("\n")) as {
        manifest: ReplayManifest
        diffCommands: string[]
        signatures?: { file: string; remembered: number; verifiedNow: number }
      }
    }
    const cache = mkdtempSync(join(tmpdir(), "chorus-replay-cache-"))
    const before = process.env.XDG_CACHE_HOME
    process.env.XDG_CACHE_HOME = cache
    try {
      const verifying = await replayJson("pb-verify-all", ["--signatures", "verify"])
      expect(verifying.signatures).toBeUndefined()
      const first = await replayJson("pb-first")
      const again = await replayJson("pb-again")
      // Kept in the reader's private cache, never beside the log (whoever writes the log could plant digests).
      expect(first.signatures!.file.startsWith(join(cache, "chorus", "signatures"))).toBe(true)
      expect(first.signatures!.verifiedNow).toBeGreaterThanOrEqual(first.manifest.counts.replayed)
      expect(again.signatures).toEqual({
        file: first.signatures!.file,
        remembered: first.signatures!.verifiedNow,
        verifiedNow: 0,
      })
      const events = (m: ReplayManifest) => m.shadows.map((s) => [s.productionTopic, s.events])
      expect(events(again.manifest)).toEqual(events(verifying.manifest))
      for (const command of again.diffCommands) {
        const diffed = await runCommand(diff, command.split(" ").slice(2))
        expect(diffed.out.at(-1)).toMatch(/^no differences/)
      }
    } finally {
      if (before === undefined) delete process.env.XDG_CACHE_HOME
      else process.env.XDG_CACHE_HOME = before
      rmSync(cache, { recursive: true, force: true })
    }
  }, 120_000)

  it("prints what it wrote and the diff commands to run next", async () => {
    const { code, out } = await runCommand(replayCommand, [
      ...replayWholeLog("proof-builder"),
      "--into",
      "pb-text",
    ])
    expect(code).toBe(0)
    const text = out.join("\n")
    expect(text).toMatch(/shadow\.pb-text\.chorus\.messages\.proven\s+\d+ event\(s\)/)
    expect(text).toContain(
      `chorus diff chorus.messages.proven shadow.pb-text.chorus.messages.proven --data-dir ${logDir}`,
    )
  })

  it("given the submitter replayed from the answers it recorded, then its shadow confirms each message the Inboxes delivered, once", async () => {
    const { code, out, err } = await runCommand(replayCommand, [
      ...replayWholeLog("submitter"),
      "--into",
      "submitter-truth",
      "--json",
    ])
    expect(code, err.join("\n")).toBe(0)
    const { manifest } = JSON.parse(out.join("\n")) as { manifest: ReplayManifest }
    expect(manifest.shadows.map((s) => s.productionTopic)).toEqual([TOPICS.deliveries.name])
    const shadowBus = await openEmbeddedBus({ dataDir: logDir })
    try {
      const delivered: string[] = []
      for await (const read of readEvents(shadowBus, {
        topic: "shadow.submitter-truth.chorus.deliveries",
        from: "earliest",
      })) {
        if (!read.ok) throw read.error
        const event = read.envelope.event
        if (event._tag === "DeliveryConfirmed")
          for (const o of event.outcomes) if (o.result === "delivered") delivered.push(o.messageId)
      }
      // The Inboxes delivered each sent message once (read on the chains before the stop; the recipients' payloads
      // were checked against what was sent).
      expect(delivered.sort()).toEqual([...deliveredOnChain].sort())
    } finally {
      await shadowBus.close()
    }
  })

  describe("on the log, through the library", () => {
    beforeAll(async () => {
      bus = await openEmbeddedBus({ dataDir: logDir })
    })

    const replayAndDiff = async (
      service: string,
      suffix: string,
      from: ReplayBound,
      to: ReplayBound,
      options: { chunkSize?: number } = {},
    ) => {
      const targets = (await replayTargets(service, config)).map((target) =>
        options.chunkSize === undefined
          ? target
          : { ...target, core: eraseCore(proofBuilderCoreFor(config, { chunkSize: options.chunkSize })) },
      )
      const manifest = await replay({ bus, targets, from, to, suffix })
      const reports: ShadowDiffReport[] = []
      for (const shadow of manifest.shadows) {
        reports.push(
          await diffShadowTopic(bus, {
            productionTopic: shadow.productionTopic,
            shadowTopic: shadow.shadowTopic,
          }),
        )
      }
      return { manifest, reports }
    }

    /** A window over the middle third of what a service's instances fold, by log time. */
    const middleThird = async (service: string): Promise<[ReplayBound, ReplayBound]> => {
      const times: number[] = []
      for (const target of await replayTargets(service, config)) {
        for (const topic of target.inputs) {
          for await (const record of bus.read({ topic, from: "earliest" })) {
            const claims = {
              type: record.headers[HEADERS.type] ?? "",
              producer: record.headers[HEADERS.producer] ?? "",
              key: record.key,
            }
            if (target.folds === undefined || target.folds(topic, claims)) times.push(record.timestamp)
          }
        }
      }
      const distinct = [...new Set(times)].sort((a, b) => a - b)
      expect(distinct.length, `${service} inputs at distinct times`).toBeGreaterThanOrEqual(3)
      const at = (fraction: number) =>
        new Date(distinct[Math.floor(distinct.length * fraction)]!).toISOString()
      return [parseReplayBound(at(1 / 3), "--from"), parseReplayBound(at(2 / 3), "--to")]
    }

    it("given a middle window by time, when each service is replayed, then every diff is empty", async () => {
      for (const service of REPLAYABLE) {
        const [from, to] = await middleThird(service)
        const { manifest, reports } = await replayAndDiff(service, `${service}-mid-time`, from, to)
        expect(manifest.counts.before, service).toBeGreaterThan(0)
        expect(manifest.counts.replayed, service).toBeGreaterThan(0)
        expect(differencesOf(reports)).toEqual([])
      }
    }, 120_000)

    it("given a middle window by offsets, when the services with one input topic are replayed, then every diff is empty", async () => {
      for (const service of ["chain-watcher", "proof-builder", "operator"]) {
        const { manifest, reports } = await replayAndDiff(
          service,
          `${service}-mid-offset`,
          { kind: "offset", offset: 1 },
          { kind: "offset", offset: 3 },
        )
        expect(manifest.counts.before, service).toBeGreaterThan(0)
        expect(manifest.counts.replayed, service).toBeGreaterThan(0)
        expect(differencesOf(reports)).toEqual([])
      }
    }, 120_000)

    it("given a proof-builder with another chunk size, when replayed, then the diff names the affected messages", async () => {
      const observed = new Set<string>()
      for await (const read of readEvents(bus, { topic: TOPICS.messagesObserved.name, from: "earliest" })) {
        if (read.ok && read.envelope.event._tag === "MessageObserved")
          observed.add(read.envelope.event.messageId)
      }
      const multi: string[] = []
      for await (const read of readEvents(bus, {
        topic: TOPICS.checkpointsProposed.name,
        from: "earliest",
      })) {
        const event = read.ok ? read.envelope.event : undefined
        if (event?._tag === "CheckpointProposed" && event.checkpoint.count - event.previousCount >= 2)
          multi.push(read.ok ? read.envelope.key : "")
      }
      expect(multi.length, "checkpoints of two messages or more, which chunking splits").toBeGreaterThan(0)

      const { reports } = await replayAndDiff(
        "proof-builder",
        "pb-chunk-1",
        { kind: "offset", offset: 0 },
        { kind: "latest" },
        { chunkSize: 1 },
      )
      const proposed = reports.find((r) => r.productionTopic === TOPICS.checkpointsProposed.name)!
      const proven = reports.find((r) => r.productionTopic === TOPICS.messagesProven.name)!
      expect(proposed.diff.differences).toEqual([])
      expect(proven.diff.counts.changed).toBe(multi.length)
      expect(proven.diff.counts.extra).toBeGreaterThanOrEqual(multi.length)
      expect(proven.diff.counts.missing).toBe(0)
      for (const difference of proven.diff.differences) {
        expect(difference.messages.length).toBeGreaterThan(0)
        for (const id of difference.messages) expect(observed.has(id), id).toBe(true)
      }
      const changed = proven.diff.differences.find((d) => d.kind === "changed")!
      if (changed.kind !== "changed") throw new Error("expected a changed proof")
      expect(changed.fields.map((f) => f.path)).toContain("messageIds[1]")

      // The same through the CLI: exit 1, and each difference's messages are printed.
      await bus.close()
      const diffed = await runCommand(diff, [
        TOPICS.messagesProven.name,
        "shadow.pb-chunk-1.chorus.messages.proven",
        "--data-dir",
        logDir,
      ])
      bus = await openEmbeddedBus({ dataDir: logDir })
      expect(diffed.code).toBe(1)
      const text = diffed.out.join("\n")
      expect(text).toMatch(/result\s+\d+ identical · [1-9]\d* changed · 0 missing · [1-9]\d* extra/)
      expect(text).toContain(changed.messages[0]!)
      expect(text).toMatch(/messageIds\[1\]: "0x[0-9a-f]{64}" → \(absent\)/)
    }, 120_000)

    it("given every input of the log arriving again, long after the runtime forgot its id, then no service decides anything new", async () => {
      // The runtime remembers only its last inputs' ids (`RecentIds`): an older input that comes again is decided
      // again, and the cores must make that harmless. Each service's whole log is folded (the replay above shows
      // that fold emits what production did; an operator's with a throwaway key), then every input is folded once
      // more from that state: anything emitted must be an event the first fold emitted, the same id, or a
      // verdict that counts nothing.
      const inputsOf = async (topics: ReadonlyArray<string>, partition?: number) => {
        const ranges: LogInputRange[] = []
        for (const [order, topic] of topics.entries())
          for (const mark of await bus.watermarks(topic))
            if (partition === undefined || mark.partition === partition)
              ranges.push({ topic, partition: mark.partition, to: mark.high, order })
        return (await readLogInputs(bus, ranges)).sort(compareLogInputs)
      }
      let refolded = 0
      for (const service of ["proof-builder", "operator", "attestation-collector"]) {
        for (const target of await replayTargets(service, config)) {
          const producer = producerOf(target.service, target.instance)
          const count = await bus.partitions(target.inputs[0]!)
          for (const partition of target.partitions(count)) {
            const inputs = await inputsOf(target.inputs, partition)
            const reads = () =>
              readRecordedReads(bus, {
                service: target.service,
                instance: target.instance,
                partitions: [partition],
              })
            const emitted = new Set<string>()
            const { state } = foldLogInputs(target.core, inputs, await reads(), {
              onDecision: (input, decision) => {
                for (const output of stampOutputs(producer, input.envelope, decision.outputs))
                  emitted.add(output.id)
              },
            })
            foldLogInputs(target.core, inputs, await reads(), {
              from: state,
              onDecision: (input, decision) => {
                refolded++
                for (const output of stampOutputs(producer, input.envelope, decision.outputs)) {
                  // The collector tells a signature it already counted by its state, and says so: counted once.
                  const countedOnce =
                    output.event._tag === "SignatureVerdict" &&
                    output.event.result === "duplicate" &&
                    output.event.weight === "0"
                  expect(
                    emitted.has(output.id) || countedOnce,
                    `${service} ${target.instance}: ${output.type} ${output.id}`,
                  ).toBe(true)
                }
              },
            })
          }
        }
      }
      // The submitter's core emits nothing (its ticker acts on the state): the state must not move.
      for (const chain of config.chains) {
        const core = makeSubmitterCore(chain.chainId)
        const inputs = await inputsOf(serviceDefinition("submitter").consumes)
        const once = foldLogInputs(core, inputs, new Map()).state
        const twice = foldLogInputs(core, inputs, new Map(), { from: once }).state
        refolded += inputs.length
        expect(serialize(twice).equals(serialize(once)), `submitter ${chain.chainId}`).toBe(true)
      }
      expect(refolded).toBeGreaterThan(MESSAGES)
    }, 60_000)

    it("wrote nothing to any production topic", async () => {
      expect(await totals(bus)).toEqual(production)
    })
  })
})
