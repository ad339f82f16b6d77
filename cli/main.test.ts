import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createPublicClient, createWalletClient, http, type PublicClient } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { authenticatedBus } from "../bus/authentication/index.ts"
import { openEmbeddedBus } from "../bus/embedded/index.ts"
import { publishEvents, readEvents } from "../bus/events/index.ts"
import { chainDefinition } from "../chains/evm/index.ts"
import { ANVIL_DEFAULT_KEYS } from "../contracts/anvil/index.ts"
import { type Anvil, deployOutbox, outboxAbi, startAnvil } from "../contracts/index.ts"
import type { ChainResumed, Envelope } from "../schemas/index.ts"
import { haltedEnvelope } from "../schemas/testing/chain-halts.ts"
import { loadConfig } from "../services/config/index.ts"
import { busIdentitiesOf } from "../services/registry.ts"
import { chainHaltsView, producerOf, quietLogger } from "../services/runtime/index.ts"
import { ALL_TOPICS, TOPICS } from "../topology/index.ts"
import { COMMANDS, main } from "./main.ts"
import { parseBrokers } from "./open-bus.ts"

const run = async (...args: string[]) => {
  const out: string[] = []
  const err: string[] = []
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out: out.join("\n"), err: err.join("\n") }
}

describe("chorus CLI", () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it("lists every subcommand in --help", async () => {
    const { code, out } = await run("--help")
    expect(code).toBe(0)
    for (const c of COMMANDS) expect(out).toContain(c.path.join(" "))
  })

  it("prints the version package.json holds with --version, and every producer stamps that version", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string
    }
    for (const flag of ["--version", "-V"]) {
      const { code, out } = await run(flag)
      expect(code).toBe(0)
      expect(out).toBe(`chorus ${version}`)
    }
    expect(producerOf("proof-builder", "proof-builder").version).toBe(version)
  })

  it("given a --data-dir that does not exist, then a read-only command names it and exits 2, and creates nothing", async () => {
    const missing = join(tmpdir(), `chorus-no-such-dir-${process.pid}`)
    for (const args of [
      ["messages", "--data-dir", missing],
      ["trace", `0x${"ab".repeat(32)}`, "--data-dir", missing],
    ]) {
      const { code, err } = await run(...args)
      expect(code, args.join(" ")).toBe(2)
      expect(err).toContain(`--data-dir ${missing}: no such directory`)
      expect(existsSync(missing)).toBe(false)
    }
  })

  it("given a negative number for a flag, then the flag's own check names it plainly, not the parser's dash syntax", async () => {
    for (const [args, message] of [
      [["devnet", "--messages", "-5"], '--messages must be an integer >= 0, got "-5"'],
      [["messages", "--data-dir", tmpdir(), "--limit", "-3"], '--limit: "-3" is not a count'],
    ] as const) {
      const { code, err } = await run(...args)
      expect(code, args.join(" ")).toBe(2)
      expect(err).toContain(message)
      expect(err).not.toMatch(/ambiguous|--[a-z]+=-XYZ/)
    }
  })

  it("given a bad flag, then devnet names the flag the user typed and exits 2 before any chain starts", async () => {
    const file = join(tmpdir(), `chorus-not-a-dir-${process.pid}`)
    writeFileSync(file, "")
    try {
      for (const [args, message] of [
        [["devnet", "--kafka", "notahost"], '--kafka: "notahost" is not host:port'],
        [["devnet", "--data-dir", file], `--data-dir ${file}: a file, not a directory`],
        [
          ["devnet", "--data-dir", "/proc/chorus-nope/x"],
          "--data-dir /proc/chorus-nope/x: cannot create or write to it",
        ],
        [["devnet", "--metrics", "9464"], '--metrics: expected host:port (e.g. 127.0.0.1:9464), got "9464"'],
        [["run", "all", "--config", file, "--metrics", "localhost"], "--metrics: expected host:port"],
        [["messages", "--data-dir", file], `--data-dir ${file}: a file, not a directory`],
      ] as const) {
        const { code, err, out } = await run(...args)
        expect(code, args.join(" ")).toBe(2)
        expect(err, args.join(" ")).toContain(message)
        expect(out + err).not.toContain("starting 3 anvil chains")
      }
    } finally {
      rmSync(file, { force: true })
    }
  })

  it("given a config with a private key written in it, then run refuses it, naming the field and the ways out, and starts nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chorus-plaintext-"))
    try {
      const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}`
      writeFileSync(
        join(dir, "chorus.json"),
        JSON.stringify({
          network: { registryChainId: 901, registry: address(1) },
          chains: [{ chainId: 901, rpcUrls: ["http://127.0.0.1:9"], outbox: address(2), inbox: address(3) }],
          submitters: [{ chainId: 901, privateKey: `0x${"42".repeat(32)}` }],
        }),
      )
      const { code, err, out } = await run(
        "run",
        "auditor",
        "--config",
        join(dir, "chorus.json"),
        "--data-dir",
        dir,
      )
      expect(code).toBe(2)
      expect(err).toContain("submitters[0].privateKey: a private key written in the file")
      expect(err).toContain("--allow-plaintext-keys")
      expect(err).not.toContain("4242")
      expect(out).not.toContain("running")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("names an unknown command and exits 2", async () => {
    const { code, err } = await run("teleport")
    expect(code).toBe(2)
    expect(err).toMatch(/unknown command "teleport"/)
  })

  it("names a wrong flag and shows the usage", async () => {
    const { code, err } = await run("topology", "--colour", "red")
    expect(code).toBe(2)
    expect(err).toMatch(/Unknown option '--colour'/)
    expect(err).toMatch(/Usage: chorus topology/)
  })

  it("names a wrong flag value", async () => {
    const { code, err } = await run("topology", "--format", "svg")
    expect(code).toBe(2)
    expect(err).toMatch(/--format must be text, mermaid or both, got "svg"/)
  })

  it("asks which bus when none is given, and refuses two", async () => {
    expect((await run("topics", "create")).err).toMatch(/say which bus/)
    expect((await run("topics", "create", "--brokers", "a:1", "--data-dir", "/tmp/x")).err).toMatch(
      /not both/,
    )
  })

  it("names the broker entry that is not host:port", () => {
    expect(parseBrokers("127.0.0.1:9092, kafka:19092")).toEqual(["127.0.0.1:9092", "kafka:19092"])
    expect(() => parseBrokers("127.0.0.1:9092,kafka")).toThrow(/"kafka" is not host:port/)
    expect(() => parseBrokers("h:70000")).toThrow(/"h:70000"/)
  })

  it("creates topics on an embedded log, and a second run changes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chorus-cli-"))
    dirs.push(dir)
    const first = await run("topics", "create", "--data-dir", dir)
    expect(first.code).toBe(0)
    expect(first.out).toMatch(new RegExp(`Created ${ALL_TOPICS.length} topic\\(s\\); 0 already existed`))
    const second = await run("topics", "create", "--data-dir", dir)
    expect(second.code).toBe(0)
    expect(second.out).toMatch(new RegExp(`All ${ALL_TOPICS.length} topics already exist; nothing changed`))
    const described = await run("topics", "describe", "--data-dir", dir)
    expect(described.code).toBe(0)
    expect(described.out).toMatch(/chorus.deliveries {2}6 partitions {2}0 records/)
  })
})

describe("chorus chain resume", () => {
  const CHAIN = 901
  const watcherKey = `0x${"a1".repeat(32)}`
  const resumeKey = `0x${"a2".repeat(32)}`
  let anvil: Anvil
  let publicClient: PublicClient
  let outbox: `0x${string}`
  let dir: string
  let configPath: string
  /** Blocks of the two messages sent to 902, and of one sent to 903 later. */
  const sentAt: number[] = []

  beforeAll(async () => {
    anvil = await startAnvil({ chainId: CHAIN })
    const chain = chainDefinition(CHAIN, [anvil.rpcUrl])
    publicClient = createPublicClient({ chain, transport: http(anvil.rpcUrl) }) as PublicClient
    const walletClient = createWalletClient({
      chain,
      transport: http(anvil.rpcUrl),
      account: privateKeyToAccount(ANVIL_DEFAULT_KEYS[0]),
    })
    outbox = await deployOutbox({ walletClient, publicClient })
    const send = async (dst: number) => {
      const hash = await walletClient.writeContract({
        address: outbox,
        abi: outboxAbi,
        functionName: "send",
        args: [BigInt(dst), "0x000000000000000000000000000000000000dEaD", 100_000n, "0x01"],
      })
      sentAt.push(Number((await publicClient.waitForTransactionReceipt({ hash })).blockNumber))
    }
    await send(902)
    await send(902)
    await send(903)
    dir = mkdtempSync(join(tmpdir(), "chorus-chain-resume-"))
    const log = await openEmbeddedBus({ dataDir: join(dir, "log") })
    await log.ensureTopics(ALL_TOPICS)
    await log.close()
    configPath = join(dir, "config.json")
    writeFileSync(
      configPath,
      JSON.stringify({
        network: { registryChainId: CHAIN, registry: `0x${"11".repeat(20)}` },
        chains: [
          {
            chainId: CHAIN,
            rpcUrls: [anvil.rpcUrl],
            outbox: outbox.toLowerCase(),
            inbox: `0x${"22".repeat(20)}`,
            finality: { confirmations: 0 },
          },
          ...[902, 903].map((chainId) => ({
            chainId,
            rpcUrls: ["http://127.0.0.1:1"],
            outbox: `0x${"33".repeat(20)}`,
            inbox: `0x${"44".repeat(20)}`,
          })),
        ],
        bus: {
          dataDir: join(dir, "log"),
          authentication: {
            producers: [
              { service: "chain-watcher", instance: String(CHAIN), privateKey: watcherKey },
              { service: "chain-resume", privateKey: resumeKey },
            ],
          },
        },
      }),
    )
  }, 60_000)
  afterAll(async () => {
    await anvil?.stop()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  const busFlags = () => ["--data-dir", join(dir, "log"), "--config", configPath]
  /** The halts topic as a service reads it: through the config's producer policy. */
  const haltsOnLog = async () => {
    const bus = await openEmbeddedBus({ dataDir: join(dir, "log") })
    try {
      const config = loadConfig(configPath)
      const identities = busIdentitiesOf(config)
      const trusted = authenticatedBus(bus, { policy: identities.policy! })
      const view = chainHaltsView(trusted, quietLogger())
      await view.refresh()
      const records: Envelope[] = []
      for await (const item of readEvents(trusted, { topic: TOPICS.chainHalts.name, from: "earliest" }))
        if (item.ok) records.push(item.envelope)
      return { view, records }
    } finally {
      await bus.close()
    }
  }
  const blockHash = async (n: number) => (await publicClient.getBlock({ blockNumber: BigInt(n) })).hash

  it("refuses, writing nothing, a chain not configured, a chain not halted, a block at or above the halt, and a hash its RPC does not show", async () => {
    const trusted = sentAt[1]!
    const hash = await blockHash(trusted)
    const resume = (...args: string[]) => run("chain", "resume", ...args, ...busFlags())

    expect((await resume("905", "--from", String(trusted), "--hash", hash)).err).toBe(
      `refused: chain 905 is not configured in ${configPath} (its chains: 901, 902, 903); nothing was written.`,
    )
    const notHalted = await resume("901", "--from", String(trusted), "--hash", hash)
    expect(notHalted.code).toBe(1)
    expect(notHalted.err).toMatch(
      /refused: chain 901 is not halted on the log \(chorus\.chain\.halts holds no ChainHalted/,
    )
    expect((await run("chain", "resume", "901", "--from", "3", "--hash", "0x12", ...busFlags())).code).toBe(2)

    // Given the watcher of 901 halted it at the block after the third message (signed with its own key)
    const bus = await openEmbeddedBus({ dataDir: join(dir, "log") })
    try {
      const identities = busIdentitiesOf(loadConfig(configPath))
      await publishEvents(
        authenticatedBus(bus, { signer: identities.signerFor("chain-watcher", String(CHAIN))! }),
        [haltedEnvelope(CHAIN, { blockNumber: sentAt[2]! })],
      )
    } finally {
      await bus.close()
    }
    const above = await resume("901", "--from", String(sentAt[2]), "--hash", await blockHash(sentAt[2]!))
    expect(above.code).toBe(1)
    expect(above.err).toMatch(
      new RegExp(
        `refused: --from ${sentAt[2]} is at or above block ${sentAt[2]}, where chain 901's watcher found the chain rewritten .*: the trusted block must be below the rewrite; nothing was written\\.$`,
      ),
    )
    const wrong = await resume("901", "--from", String(trusted), "--hash", `0x${"77".repeat(32)}`)
    expect(wrong.code).toBe(1)
    expect(wrong.err).toBe(
      `refused: chain 901's RPC (${anvil.rpcUrl}) shows block ${trusted} as ${hash}, not 0x${"77".repeat(32)} (--hash): check which RPC served which chain, and give the hash of a block they agree on; nothing was written.`,
    )
    const { records, view } = await haltsOnLog()
    expect(records.map((r) => r.type)).toEqual(["ChainHalted"])
    expect(view.haltOf(CHAIN)).not.toBeNull()
  })

  it("given a halted chain, when resumed from a block below the halt with its hash, then it records who lifted it, from where and with the lane counts there, signed as the chain-resume tool", async () => {
    const trusted = sentAt[1]!
    const hash = await blockHash(trusted)
    const done = await run(
      "chain",
      "resume",
      "901",
      "--from",
      String(trusted),
      "--hash",
      hash,
      "--reason",
      "rpc-a served a fork",
      ...busFlags(),
    )
    expect(done.code).toBe(0)
    expect(done.out).toMatch(
      /^resumed: ChainResumed 0x[0-9a-f]{64} on chorus\.chain\.halts lifts the halt of chain 901/,
    )
    expect(done.out).toContain(`trusted block ${trusted} (${hash})`)
    expect(done.out).toContain("lane counts there: 901 → 902: 2, 901 → 903: 0")
    expect(done.out).toMatch(/next:\n {2}- start chain 901's watcher again/)

    const { records, view } = await haltsOnLog()
    const resumed = records.find((r) => r.type === "ChainResumed") as Envelope<ChainResumed> | undefined
    // Read back through the deployment's policy: it stands, signed as the chain-resume tool
    expect(resumed?.producer.service).toBe("chain-resume")
    expect(resumed?.causationId).toBe(records[0]!.id)
    expect(resumed?.event).toMatchObject({
      chainId: CHAIN,
      outbox: outbox.toLowerCase(),
      block: { number: trusted, hash },
      halt: records[0]!.id,
      reason: "rpc-a served a fork",
    })
    expect(resumed?.event.by).toMatch(/.+@.+/)
    expect(resumed?.event.lanes.map((l) => [l.dstChainId, l.count])).toEqual([
      [902, 2],
      [903, 0],
    ])
    expect(view.haltOf(CHAIN)).toBeNull()
    expect(view.resumeOf(CHAIN)).toMatchObject({ eventId: resumed!.id })

    // A second resume of the same halt is refused: the chain is no longer halted
    const again = await run(
      "chain",
      "resume",
      "901",
      "--from",
      String(trusted),
      "--hash",
      hash,
      ...busFlags(),
    )
    expect(again.code).toBe(1)
    expect(again.err).toMatch(
      /refused: chain 901 is not halted: its last halt .* was lifted by .* from block/,
    )
  })
})
