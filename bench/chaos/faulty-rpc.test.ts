/**
 * The fault proxy of `test/fixtures/faulty-rpc.ts` against a scripted upstream: each fault does what it
 * says, the same seed makes the same decisions, and an honest proxy changes nothing.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RpcFaults, startFaultyRpc } from "../../test/fixtures/faulty-rpc.ts"

const LOGS = Array.from({ length: 50 }, (_, i) => ({
  address: i % 2 === 0 ? "0xAA" : "0xbb",
  logIndex: `0x${i.toString(16)}`,
}))
let upstream = ""
let sends = 0
const server = createServer((request, response) => {
  let body = ""
  request.on("data", (chunk) => {
    body += chunk
  })
  request.on("end", () => {
    const call = JSON.parse(body) as { id: number; method: string }
    if (call.method === "eth_sendRawTransaction") sends += 1
    const result =
      call.method === "eth_getLogs"
        ? LOGS
        : call.method === "eth_sendRawTransaction"
          ? "0x1234"
          : call.method === "eth_getBlockByNumber"
            ? { number: "0x10", hash: `0x${"ab".repeat(32)}` }
            : `0x${"00".repeat(31)}07`
    response.writeHead(200, { "content-type": "application/json" })
    response.end(JSON.stringify({ jsonrpc: "2.0", id: call.id, result }))
  })
})

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const ask = async (url: string, method: string, id = 1) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id, method, params: [] }),
  })
  const text = await response.text()
  let json: { result?: unknown; error?: { code: number } } | undefined
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, json, text }
}

const withProxy = async <T>(faults: RpcFaults, use: (url: string) => Promise<T>, seed = 3) => {
  const proxy = await startFaultyRpc({ upstream, seed, faults })
  try {
    return { value: await use(proxy.url), stats: proxy.stats() }
  } finally {
    await proxy.close()
  }
}

describe("the faulty RPC proxy", () => {
  it("is honest without faults", async () => {
    const { value } = await withProxy({}, async (url) => [
      await ask(url, "eth_getLogs"),
      await ask(url, "eth_call"),
    ])
    expect(value[0]!.json?.result).toEqual(LOGS)
    expect(value[1]!.json?.result).toBe(`0x${"00".repeat(31)}07`)
  })

  it("fails about the share of requests asked, as HTTP 5xx or JSON-RPC errors, never reaching the upstream", async () => {
    const before = sends
    const { value, stats } = await withProxy({ errorRate: 0.3 }, async (url) => {
      const answers = []
      for (let i = 0; i < 200; i++) answers.push(await ask(url, "eth_sendRawTransaction", i))
      return answers
    })
    const failed = value.filter((a) => a.status >= 500 || a.json?.error !== undefined).length
    expect(failed).toBeGreaterThan(30)
    expect(failed).toBeLessThan(90)
    expect(stats.httpErrors + stats.rpcErrors).toBe(failed)
    expect(stats.httpErrors).toBeGreaterThan(0)
    expect(stats.rpcErrors).toBeGreaterThan(0)
    expect(sends - before).toBe(200 - failed)
  })

  it("drops only the named emitter's logs, as a subsequence, the same way for the same seed", async () => {
    const run = () => withProxy({ dropLogsRate: 0.5, dropLogsOf: ["0xaa"] }, (url) => ask(url, "eth_getLogs"))
    const [one, two] = [await run(), await run()]
    const kept = one.value.json?.result as typeof LOGS
    expect(kept.length).toBeLessThan(LOGS.length)
    expect(kept.filter((l) => l.address === "0xbb")).toHaveLength(25)
    expect(
      LOGS.filter((l) => kept.includes(l) || kept.some((k) => k.logIndex === l.logIndex)).map(
        (l) => l.logIndex,
      ),
    ).toEqual(kept.map((l) => l.logIndex))
    expect(two.value.json?.result).toEqual(kept)
    expect(one.stats.droppedLogs).toBe(LOGS.length - kept.length)
  })

  it("lies on calls and blocks, and loses send answers after the send went through", async () => {
    const before = sends
    const { value, stats } = await withProxy({ lieRate: 1, loseSendAnswerRate: 1 }, async (url) => ({
      calls: await Promise.all(Array.from({ length: 20 }, (_, i) => ask(url, "eth_call", i))),
      block: await ask(url, "eth_getBlockByNumber"),
      send: await ask(url, "eth_sendRawTransaction"),
    }))
    const honest = `0x${"00".repeat(31)}07`
    expect(value.calls.every((c) => c.json?.result !== honest)).toBe(true)
    expect(Object.values(stats.lies).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(21)
    expect(value.send.json?.error).toBeDefined()
    expect(sends - before).toBe(1)
    expect(stats.lostSendAnswers).toBe(1)
  })

  it("delays every request by the latency drawn", async () => {
    const { value } = await withProxy({ latencyMs: [100, 150] }, async (url) => {
      const started = Date.now()
      await ask(url, "eth_call")
      return Date.now() - started
    })
    expect(value).toBeGreaterThanOrEqual(95)
  })
})
