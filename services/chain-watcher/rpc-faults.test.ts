/**
 * A chain-watcher whose RPC fails (issue 12, part 4: every fault ends in an
 * event, never in a silent loop): an RPC that stays unreachable past
 * `rpc.unreachableAfterMs`, or answers what does not decode, is recorded
 * once per outage as `WatcherStalled` on the chain topic, and its recovery
 * as `WatcherRecovered`; its log names the RPC's URL redacted, the first
 * failure at once and then only a summary per `rpc.logEveryMs`.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import { readEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import type { Envelope, WatcherRecovered, WatcherStalled } from "../../schemas/index.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { decodeConfig } from "../config/index.ts"
import { jsonLogger } from "../runtime/index.ts"
import { type ChainWatcher, startChainWatcher } from "./index.ts"

const CHAIN_ID = 901
const KEY = "AbC123dEf456GhI789jKl012MnO345pQ"
const SECRETS = ["hunter2", KEY, "s3cr3t"]

/** What the fake RPC does with each request. */
type Mode = "down" | "up" | "garbage"

/**
 * A JSON-RPC server for chain 901 with one block (block 0): `down` drops every connection, `garbage`
 * answers a bare 32-byte word where a block belongs, `up` answers honestly.
 */
const startRpc = async () => {
  const state = { mode: "down" as Mode }
  const server: Server = createServer((request, response) => {
    if (state.mode === "down") {
      request.socket.destroy()
      return
    }
    let body = ""
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8")
    })
    request.on("end", () => {
      const call = JSON.parse(body) as { id: number; method: string }
      const result =
        call.method === "eth_chainId"
          ? `0x${CHAIN_ID.toString(16)}`
          : state.mode === "garbage"
            ? `0x${"11".repeat(32)}`
            : { number: "0x0", hash: `0x${"ab".repeat(32)}`, timestamp: "0x1", transactions: [] }
      response.setHeader("content-type", "application/json")
      response.end(JSON.stringify({ jsonrpc: "2.0", id: call.id, result }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    state,
    /** The URL with credentials and an API key, as a provider's URL has them. */
    url: `http://relayer:hunter2@127.0.0.1:${port}/v2/${KEY}?apikey=s3cr3t`,
    redacted: `http://***:***@127.0.0.1:${port}/v2/***?apikey=***`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

let dir: string
let bus: BusPort
let rpc: Awaited<ReturnType<typeof startRpc>>
let lines: string[]
const running: ChainWatcher[] = []

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "chorus-watcher-rpc-"))
  bus = await openEmbeddedBus({ dataDir: dir })
  await bus.ensureTopics(ALL_TOPICS)
  rpc = await startRpc()
  lines = []
})
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()))
  await bus.close()
  await rpc.close()
  rmSync(dir, { recursive: true, force: true })
})

const start = async (rpcSettings: { unreachableAfterMs: number; logEveryMs?: number }) => {
  const config = decodeConfig({
    network: { registryChainId: CHAIN_ID, registry: `0x${"11".repeat(20)}` },
    chains: [
      {
        chainId: CHAIN_ID,
        rpcUrls: [rpc.url],
        outbox: `0x${"33".repeat(20)}`,
        inbox: `0x${"44".repeat(20)}`,
      },
    ],
    // Block 5 is never reached: an answering RPC leaves the watcher idle, with no read to make.
    chainWatcher: { pollIntervalMs: 20, startBlock: 5, retryCount: 0 },
    rpc: { logEveryMs: 60_000, ...rpcSettings },
  })
  const watcher = await startChainWatcher({
    bus,
    config,
    chainId: CHAIN_ID,
    logger: jsonLogger({ write: (line) => lines.push(line) }, "debug"),
    autoStart: false,
  })
  running.push(watcher)
  return watcher
}

const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
const faultLines = () => logged().filter((line) => String(line.msg).startsWith("RPC "))

/** What the watcher recorded on the chain topic about its RPC. */
const recorded = async () => {
  const out: Array<Envelope<WatcherStalled | WatcherRecovered>> = []
  for await (const item of readEvents(bus, { topic: TOPICS.chainHalts.name, from: "earliest" }))
    if (item.ok && (item.envelope.type === "WatcherStalled" || item.envelope.type === "WatcherRecovered"))
      out.push(item.envelope as Envelope<WatcherStalled | WatcherRecovered>)
  return out
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("a chain-watcher whose RPC is unreachable", () => {
  it("given an unreachable RPC whose URL holds credentials, when the watcher ticks past the bound, then it records one WatcherStalled naming the URL redacted, and logs the first failure and no line per tick", async () => {
    // given
    const watcher = await start({ unreachableAfterMs: 300 })
    // when: failures for longer than the bound, then more of them
    expect((await watcher.tick()).kind).toBe("rpc-error")
    expect(await recorded()).toEqual([])
    await sleep(350)
    for (let i = 0; i < 5; i++) expect((await watcher.tick()).kind).toBe("rpc-error")
    // then: one stall, for this outage
    const events = await recorded()
    expect(events.map((e) => e.type)).toEqual(["WatcherStalled"])
    const stall = events[0]!.event as WatcherStalled
    expect(stall).toMatchObject({
      chainId: CHAIN_ID,
      reason: "rpc-unreachable",
      rpc: rpc.redacted,
      what: "reading the finalized head",
    })
    expect(stall.attempts).toBe(2)
    // and the log: the first failure, the stall, nothing for the other ticks; every line names the URL
    expect(faultLines().map((line) => line.msg)).toEqual([
      "RPC failed; trying again",
      "RPC stalled: recorded on the log",
    ])
    for (const line of faultLines()) expect(line).toMatchObject({ chainId: CHAIN_ID, rpc: rpc.redacted })
    for (const secret of SECRETS) expect(lines.join("\n")).not.toContain(secret)
    expect(JSON.stringify(events)).not.toContain("hunter2")
  })

  it("given a stalled RPC, when it answers again, then the watcher records one WatcherRecovered for that stall, and a new outage is a new stall", async () => {
    // given
    const watcher = await start({ unreachableAfterMs: 0 })
    await watcher.tick()
    await watcher.tick()
    // when
    rpc.state.mode = "up"
    expect((await watcher.tick()).kind).toBe("idle")
    expect((await watcher.tick()).kind).toBe("idle")
    // then
    const [stall, recovery, ...rest] = await recorded()
    expect(rest).toEqual([])
    expect(recovery!.type).toBe("WatcherRecovered")
    expect(recovery!.event).toMatchObject({
      chainId: CHAIN_ID,
      reason: "rpc-unreachable",
      since: (stall!.event as WatcherStalled).since,
      attempts: 2,
    })
    expect(logged().some((line) => line.msg === "RPC answering again")).toBe(true)
    // and a second outage is recorded again, once
    rpc.state.mode = "down"
    await sleep(5)
    await watcher.tick()
    await watcher.tick()
    expect((await recorded()).map((e) => e.type)).toEqual([
      "WatcherStalled",
      "WatcherRecovered",
      "WatcherStalled",
    ])
  })

  it("given an RPC that answers a bare 32-byte word where a block belongs, then the tick names the URL and the method, and the stall is rpc-invalid", async () => {
    // given
    rpc.state.mode = "garbage"
    const watcher = await start({ unreachableAfterMs: 0 })
    // when
    const result = await watcher.tick()
    // then
    expect(result.kind).toBe("invalid-response")
    const reason = result.kind === "invalid-response" ? result.reason : ""
    expect(reason).toContain(rpc.redacted)
    expect(reason).toContain("eth_getBlockByNumber")
    const [stall] = await recorded()
    expect(stall!.event).toMatchObject({ reason: "rpc-invalid", rpc: rpc.redacted })
    expect((stall!.event as WatcherStalled).problem).toMatch(/a block must be an object or null.*32 bytes/)
  })
})
