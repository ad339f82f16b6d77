import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { authenticatedBus, signerFromSeed } from "../../bus/authentication/index.ts"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import { publishEvents } from "../../bus/events/index.ts"
import { ANVIL_DEFAULT_KEYS } from "../../contracts/index.ts"
import {
  BlockRef,
  Bytes32,
  ChainId,
  encodeEnvelope,
  makeEnvelope,
  WatcherCursor,
} from "../../schemas/index.ts"
import { ConfigError, decodeConfig } from "../../services/config/index.ts"
import { busIdentitiesOf } from "../../services/registry.ts"
import { producerOf } from "../../services/runtime/index.ts"
import { quietLogger } from "../../test/fixtures/embedded-bus.ts"
import { useTempDirs } from "../../test/fixtures/temp-dirs.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { verifyLogCommand } from "./verify-log.ts"

const WATCHER_SEED = `0x${"11".repeat(32)}` as const
const configJson = {
  network: { registryChainId: 901, registry: `0x${"aa".repeat(20)}` },
  chains: [
    {
      chainId: 901,
      rpcUrls: ["http://127.0.0.1:1"],
      outbox: `0x${"a1".repeat(20)}`,
      inbox: `0x${"b1".repeat(20)}`,
    },
  ],
  operators: [{ privateKey: `0x${"22".repeat(32)}` }],
  submitters: [{ chainId: 901, privateKey: ANVIL_DEFAULT_KEYS[1] }],
  bus: {
    authentication: {
      producers: [{ service: "chain-watcher", publicKey: signerFromSeed(WATCHER_SEED).publicKey }],
    },
  },
}

const cursor = (n: number) =>
  makeEnvelope(
    new WatcherCursor({
      chainId: ChainId.make(901),
      block: new BlockRef({ number: n, hash: Bytes32.make(`0x${n.toString(16).padStart(64, "0")}`) }),
    }),
    {
      producer: producerOf("chain-watcher", "901"),
      causationId: null,
      time: new Date(1_700_000_000_000 + n),
    },
  )

describe("bus identities from a config", () => {
  it("given operators, submitters and a listed producer, then each is granted exactly its service's writes and its own instance", () => {
    const { grants, policy, signerFor } = busIdentitiesOf(decodeConfig(configJson))
    expect(grants.map((g) => [g.service, g.instance])).toEqual([
      ["operator", expect.stringMatching(/^0x[0-9a-fA-F]{40}$/)],
      ["submitter", "901"],
      ["chain-watcher", null],
    ])
    expect([...grants[0]!.topics]).not.toContain(TOPICS.checkpointsProposed.name)
    expect(policy).toBeDefined()
    // The watcher is listed by its public key only: this process cannot sign as it.
    expect(() => signerFor("chain-watcher", "901")).toThrow(/no entry gives it a privateKey/)
    expect(signerFor("submitter", "901")?.publicKey).toBe(grants[1]!.publicKey)
  })

  it("given an unknown producer or a public key that is not its private key's, then the config error names the entry", () => {
    const bad = (producers: unknown[]) =>
      busIdentitiesOf(decodeConfig({ ...configJson, bus: { authentication: { producers } } }))
    expect(() => bad([{ service: "auditor", publicKey: `0x${"00".repeat(32)}` }])).toThrow(ConfigError)
    expect(() =>
      bad([{ service: "chain-watcher", privateKey: WATCHER_SEED, publicKey: `0x${"00".repeat(32)}` }]),
    ).toThrow(/producers\[0\]\.publicKey/)
    expect(() => bad([{ service: "proof-builder" }])).toThrow(/give the producer's publicKey/)
    // An operator's or a submitter's key is derived and bound to its instance: a listed one would be a second.
    expect(() => bad([{ service: "operator", publicKey: `0x${"00".repeat(32)}` }])).toThrow(
      /list no key for them here/,
    )
  })

  it("given enforce false, then an unsigned record is taken but a stranger's signed one is still refused", () => {
    const { policy, enforced } = busIdentitiesOf(
      decodeConfig({
        ...configJson,
        bus: { authentication: { ...configJson.bus.authentication, enforce: false } },
      }),
    )
    expect(enforced).toBe(false)
    const record = encodeEnvelope(cursor(1))
    const topic = TOPICS.watcherCursors.name
    expect(policy!.authenticate({ topic, ...record })).toMatchObject({ ok: true })
    const stranger = signerFromSeed(`0x${"66".repeat(32)}`)
    const signed = {
      topic,
      ...record,
      headers: { ...record.headers, ...stranger.sign(topic, record.key, record.value) },
    }
    expect(policy!.authenticate(signed)).toMatchObject({ ok: false, reason: "unknown-signer" })
  })
})

describe("chorus verify-log", () => {
  const freshDir = useTempDirs("chorus-verify-log-")

  it("given a log with signed records, an unsigned one and a stranger's, then it lists each failure by position and exits 1", async () => {
    const dir = await freshDir()
    const bus = await openEmbeddedBus({ dataDir: join(dir, "log"), logger: quietLogger })
    await bus.ensureTopics(ALL_TOPICS)
    const watcher = authenticatedBus(bus, { signer: signerFromSeed(WATCHER_SEED) })
    await publishEvents(watcher, [cursor(1), cursor(2)])
    await publishEvents(bus, [cursor(3)])
    await publishEvents(authenticatedBus(bus, { signer: signerFromSeed(`0x${"66".repeat(32)}`) }), [
      cursor(4),
    ])
    await publishEvents(watcher, [cursor(5)])
    await bus.close()
    const config = join(dir, "config.json")
    writeFileSync(config, JSON.stringify(configJson))

    const lines: string[] = []
    const status = await verifyLogCommand.run({
      values: { "data-dir": join(dir, "log"), config },
      positionals: [],
      out: (line) => lines.push(line),
      err: (line) => lines.push(line),
    })
    expect(status).toBe(1)
    const text = lines.join("\n")
    expect(text).toContain(
      `${TOPICS.watcherCursors.name}  5 records  3 authenticated  1 unsigned, 1 unknown-signer`,
    )
    expect(text).toMatch(/unknown-signer {2}chorus\.watcher\.cursors partition \d+ offset 3/)
    expect(text).toMatch(
      /unsigned {2}chorus\.watcher\.cursors partition \d+ offsets 2\.\.2 \(1 record\(s\)\)/,
    )
    expect(text).toContain("2 of 5 records were not written by a producer the config trusts.")
  })

  it("given a clean log, then it says so and exits 0", async () => {
    const dir = await freshDir()
    const bus = await openEmbeddedBus({ dataDir: join(dir, "log"), logger: quietLogger })
    await bus.ensureTopics(ALL_TOPICS)
    await publishEvents(authenticatedBus(bus, { signer: signerFromSeed(WATCHER_SEED) }), [cursor(1)])
    await bus.close()
    const config = join(dir, "config.json")
    writeFileSync(config, JSON.stringify(configJson))
    const lines: string[] = []
    const status = await verifyLogCommand.run({
      values: { "data-dir": join(dir, "log"), config, json: true },
      positionals: [],
      out: (line) => lines.push(line),
      err: (line) => lines.push(line),
    })
    expect(status).toBe(0)
    expect(JSON.parse(lines[0]!)).toMatchObject({ clean: true, findings: [], unsigned: [] })
  })
})
