import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { makeGate, waitFor } from "../bus/contract/index.ts"
import { type EmbeddedBus, openEmbeddedBus } from "../bus/embedded/index.ts"
import { ChorusMetrics, MAX_LABEL_VALUES } from "./chorus-metrics.ts"
import { openProcessEndpoint, type ProcessEndpoint } from "./process-endpoint.ts"
import { processMetrics } from "./process-metrics.ts"
import { parseListen, serveMetrics } from "./server.ts"

const TOPIC = "chorus.messages.observed"
const encoder = new TextEncoder()

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

const embedded = async (): Promise<EmbeddedBus> => {
  const dir = await mkdtemp(join(tmpdir(), "chorus-metrics-"))
  const bus = await openEmbeddedBus({ dataDir: dir, logger: { warn: () => {}, error: () => {} } })
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  cleanup.push(() => bus.close())
  await bus.ensureTopics([{ name: TOPIC, partitions: 2, cleanupPolicy: "delete", retentionMs: -1 }])
  return bus
}

const open = async (bus: EmbeddedBus): Promise<ProcessEndpoint> => {
  const endpoint = await openProcessEndpoint({ listen: parseListen("127.0.0.1:0"), bus })
  cleanup.push(() => endpoint.close())
  endpoint.markStarted()
  return endpoint
}

const get = async (endpoint: ProcessEndpoint, path: string, method = "GET") => {
  const response = await fetch(`http://${endpoint.address}${path}`, { method })
  return { status: response.status, body: await response.text() }
}

/** The value of one series in an exposition, or undefined. */
const sample = (body: string, series: string): number | undefined => {
  const line = body.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

const publish = (bus: EmbeddedBus, key: string, count: number) =>
  bus.publish(
    Array.from({ length: count }, (_, i) => ({ topic: TOPIC, key, value: encoder.encode(`r${i}`) })),
  )

describe("a process's metrics endpoint", () => {
  it("given a consumer behind its backlog, is not ready and shows the lag; once handled, is ready, the lag is 0 and each hop is timed", async () => {
    const bus = await embedded()
    await publish(bus, "901-902", 5)
    const endpoint = await open(bus)
    const gate = makeGate()
    let handled = 0
    const subscription = await endpoint.bus.subscribe({
      groupId: "chorus.test",
      topics: [TOPIC],
      fromBeginning: true,
      handler: async () => {
        await gate.promise
        handled++
      },
    })
    cleanup.push(() => subscription.stop())
    cleanup.push(async () => gate.open())

    await waitFor(
      "the end offsets read",
      async () => endpoint.bus.behind().every((b) => !b.includes("not read")),
      { timeoutMs: 15_000 },
    )
    const before = await get(endpoint, "/readyz")
    expect(before.status).toBe(503)
    expect(JSON.parse(before.body).checks).toContainEqual({
      name: "caught-up",
      ok: false,
      problem: expect.stringMatching(/chorus\.test chorus\.messages\.observed\[\d\]: at offset 0 of 5/),
    })
    const behindBody = (await get(endpoint, "/metrics")).body
    const lags = [0, 1].map((p) =>
      sample(
        behindBody,
        `chorus_consumer_lag_records{group="chorus.test",topic="${TOPIC}",partition="${p}"}`,
      ),
    )
    expect(lags.filter((l) => l !== undefined).reduce((a, b) => a! + b!, 0)).toBe(5)

    gate.open()
    await waitFor("five records handled", () => handled === 5, { timeoutMs: 15_000 })
    await waitFor("ready", async () => (await get(endpoint, "/readyz")).status === 200, { timeoutMs: 15_000 })
    const after = (await get(endpoint, "/metrics")).body
    expect(
      sample(after, `chorus_hop_latency_seconds_count{group="chorus.test",topic="${TOPIC}",key="901-902"}`),
    ).toBe(5)
    // The lag counts committed offsets, which the adapter commits in batches: it reaches 0 once they are.
    await waitFor(
      "the lag gone",
      async () => {
        const body = (await get(endpoint, "/metrics")).body
        return [0, 1].every(
          (p) =>
            (sample(
              body,
              `chorus_consumer_lag_records{group="chorus.test",topic="${TOPIC}",partition="${p}"}`,
            ) ?? 0) === 0,
        )
      },
      { timeoutMs: 15_000 },
    )
  })

  it("is not ready before its services started, whatever else holds", async () => {
    const endpoint = await openProcessEndpoint({ listen: parseListen("127.0.0.1:0"), bus: await embedded() })
    cleanup.push(() => endpoint.close())
    const before = await get(endpoint, "/readyz")
    expect(before.status).toBe(503)
    expect(JSON.parse(before.body).checks).toContainEqual({
      name: "started",
      ok: false,
      problem: "the services are starting",
    })
    endpoint.markStarted()
    await waitFor("ready", async () => (await get(endpoint, "/readyz")).status === 200, { timeoutMs: 15_000 })
  })

  it("is installed as the process's while open, and every name it serves starts with chorus_", async () => {
    const endpoint = await open(await embedded())
    expect(processMetrics()).toBe(endpoint.metrics)
    const { status, body } = await get(endpoint, "/metrics")
    expect(status).toBe(200)
    const names = body
      .split("\n")
      .filter((l) => l.startsWith("# TYPE "))
      .map((l) => l.split(" ")[2]!)
    expect(names.length).toBeGreaterThan(20)
    expect(names.filter((n) => !n.startsWith("chorus_"))).toEqual([])
    await endpoint.close()
    expect(processMetrics()).toBeUndefined()
  })

  it("answers liveness, refuses writes and names what it serves on an unknown path", async () => {
    const endpoint = await open(await embedded())
    expect(await get(endpoint, "/healthz")).toEqual({
      status: 200,
      body: `{"status":"ok","pid":${process.pid}}\n`,
    })
    expect(await get(endpoint, "/metrics", "POST")).toEqual({
      status: 405,
      body: '{"error":"POST is not served; use GET"}\n',
    })
    expect((await get(endpoint, "/admin")).body).toContain("no /admin; served: /metrics, /healthz, /readyz")
  })

  it("reports a check that hangs as failed after its timeout, and one that throws with its message", async () => {
    const metrics = new ChorusMetrics({ processMetrics: false })
    const { readiness } = await import("./readiness.ts")
    const report = await readiness(
      [
        { name: "hangs", probe: () => new Promise(() => {}) },
        {
          name: "throws",
          probe: async () => {
            throw new Error("RPC http://127.0.0.1:1 (chain 901) refused the connection")
          },
        },
      ],
      50,
    )
    expect(report).toEqual({
      ready: false,
      checks: [
        { name: "hangs", ok: false, problem: "no answer within 50 ms" },
        { name: "throws", ok: false, problem: "RPC http://127.0.0.1:1 (chain 901) refused the connection" },
      ],
    })
    const server = await serveMetrics({
      listen: parseListen("127.0.0.1:0"),
      metrics,
      ready: async () => report,
    })
    cleanup.push(() => server.close())
    const response = await fetch(`http://${server.address}/readyz`)
    expect(response.status).toBe(503)
  })

  it("given records under ever new keys (anyone can write one), keeps a bounded set of label values", async () => {
    const metrics = new ChorusMetrics({ processMetrics: false })
    for (let i = 0; i < MAX_LABEL_VALUES + 50; i++) metrics.handled("chorus.test", TOPIC, `junk-${i}`, 0.01)
    const body = (await metrics.exposition()).body
    const keys = new Set(
      body
        .split("\n")
        .filter((l) => l.startsWith("chorus_hop_latency_seconds_count"))
        .map((l) => /key="([^"]*)"/.exec(l)?.[1]),
    )
    expect(keys.size).toBe(MAX_LABEL_VALUES + 1)
    expect(
      sample(body, `chorus_hop_latency_seconds_count{group="chorus.test",topic="${TOPIC}",key="other"}`),
    ).toBe(50)
  })

  it("refuses a listen address that is not host:port, naming it", () => {
    expect(() => parseListen("9464")).toThrow('expected host:port (e.g. 127.0.0.1:9464), got "9464"')
    expect(() => parseListen("127.0.0.1:99999")).toThrow(/got "127.0.0.1:99999"/)
    expect(parseListen("[::1]:9464")).toEqual({ host: "::1", port: 9464 })
  })
})
