/**
 * `chorus explorer` end to end (issue 16): a devnet whose traffic partly goes to closed recipients, the
 * explorer serving its log while it runs, its API tried as a client would (filters, paging, bad parameters,
 * unknown ids, writes), and its page driven in headless Chromium (Debian's `chromium`, with playwright-core):
 * filter to the failed messages, open one and read the recipient's decoded revert, open a delivered one and
 * find every stage, and a screenshot under the test's output folder.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs"
import { request } from "node:http"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningExplorer, runExplorer } from "../../explorer/run-explorer.ts"
import { STAGES } from "../../services/lifecycle/index.ts"
import { schemaProblems } from "../fixtures/json-schema.ts"
import { useEmbeddedDevnet } from "./embedded-devnet.ts"
import { untilSettled } from "./exactly-once.ts"

/** What the tests read of the page's own globals (this project's types carry no DOM). */
type PageGlobals = { document: { body: { dataset: Record<string, string | undefined> } } }
const CHROMIUM = process.env.CHORUS_CHROMIUM ?? "/usr/bin/chromium"
const MESSAGES = 16
const net = useEmbeddedDevnet("explorer")
let explorer: RunningExplorer
// biome-ignore lint/suspicious/noExplicitAny: answers are read as a client reads JSON; their shapes are held to the OpenAPI file elsewhere
type Json = Record<string, any>
const get = async (path: string, init?: RequestInit) => {
  const response = await fetch(new URL(path, explorer.url), init)
  return { status: response.status, body: (await response.json()) as Json }
}

beforeAll(async () => {
  const sent = await net.devnet.send({ messages: MESSAGES, rate: 8, reverting: 25 })
  await untilSettled(net.devnet, sent.length, 120_000)
  explorer = await runExplorer({ "data-dir": net.dir }, { host: "127.0.0.1", port: 0 }, () => undefined)
}, 180_000)
afterAll(async () => {
  await explorer?.close()
})

describe("the explorer's API", () => {
  it("lists messages by status with live counts, a page at a time, every message once", async () => {
    const summary = await get("/api/summary")
    expect(summary.status).toBe(200)
    expect(summary.body.counts.all).toBe(MESSAGES)
    expect(summary.body.counts.failed).toBeGreaterThan(0)
    expect(summary.body.counts.failed + summary.body.counts.delivered).toBe(MESSAGES)
    expect(summary.body.freshness.caughtUpAt).toBeGreaterThan(0)

    const failed = await get("/api/messages?status=failed")
    expect(failed.body.total).toBe(summary.body.counts.failed)
    expect(failed.body.messages.every((m: { status: string }) => m.status === "failed")).toBe(true)

    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: Awaited<ReturnType<typeof get>> = await get(
        `/api/messages?limit=5${cursor === null ? "" : `&cursor=${cursor}`}`,
      )
      expect(page.status).toBe(200)
      expect(page.body.total).toBe(MESSAGES)
      seen.push(...page.body.messages.map((m: { id: string }) => m.id))
      cursor = page.body.next
    } while (cursor !== null)
    expect(seen).toHaveLength(MESSAGES)
    expect(new Set(seen).size).toBe(MESSAGES)

    const lane = failed.body.messages[0].lane as string
    const byLane = await get(`/api/messages?lane=${lane}&source=${lane.split(":")[0]}`)
    expect(byLane.body.messages.every((m: { lane: string }) => m.lane === lane)).toBe(true)
  })

  it("answers a message's timeline with the retry command, and why a delivered one would be refused", async () => {
    const [failed] = (await get("/api/messages?status=failed&limit=1")).body.messages
    const trace = await get(`/api/messages/${failed.id}`)
    expect(trace.status).toBe(200)
    expect(trace.body.steps.map((s: { stage: string }) => s.stage)).toContain("failed")
    expect(trace.body.retry.command).toBe(`chorus retry ${failed.id} --data-dir ${net.dir}`)
    expect(trace.body.retry.refused).toBeNull()
    const [delivered] = (await get("/api/messages?status=delivered&limit=1")).body.messages
    const done = await get(`/api/messages/${delivered.id}`)
    expect(done.body.retry.refused).toMatch(/was already delivered on chain \d+ in tx 0x[0-9a-f]{64}/)
  })

  it("names the parameter of a bad query with 400, answers an unknown id or lane with 404, and writes nothing", async () => {
    for (const [query, parameter] of [
      ["status=lost", "status"],
      ["limit=0", "limit"],
      ["limit=100000", "limit"],
      ["source=abc", "source"],
      ["since=yesterdayish", "since"],
      ["cursor=bm90LWEtY3Vyc29y", "cursor"],
      ["lane=901-902", "lane"],
      ["colour=red", "colour"],
      ["status=failed&status=delivered", "status"],
    ] as const) {
      const answer = await get(`/api/messages?${query}`)
      expect(answer.status, query).toBe(400)
      expect(answer.body.error.parameter, query).toBe(parameter)
      expect(answer.body.error.message, query).toMatch(new RegExp(`^${parameter}: `))
    }
    expect((await get("/api/latency?window=forever")).body.error.parameter).toBe("window")
    expect((await get(`/api/messages/0x${"ab".repeat(32)}`)).status).toBe(404)
    expect((await get("/api/messages/not-an-id")).status).toBe(400)
    expect((await get(`/api/lanes/1:0x${"00".repeat(20)}:2`)).status).toBe(404)
    expect((await get("/api/nothing-here")).status).toBe(404)
    const badEscape = await get("/api/messages/%E0")
    expect([badEscape.status, badEscape.body.error.parameter]).toEqual([400, "path"])
    const notALane = await get("/api/lanes/901-902")
    expect([notALane.status, notALane.body.error.parameter]).toEqual([400, "lane"])
    // A page elsewhere that rebinds its name to 127.0.0.1 sends its own Host: refused (DNS rebinding).
    const rebound = await new Promise<number>((resolve, reject) => {
      const url = new URL("/api/summary", explorer.url)
      request(
        { host: url.hostname, port: url.port, path: url.pathname, headers: { host: "evil.example:8080" } },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
        .on("error", reject)
        .end()
    })
    expect(rebound).toBe(403)
    const post = await fetch(new URL("/api/messages", explorer.url), { method: "POST", body: "{}" })
    expect(post.status).toBe(405)
    expect(post.headers.get("allow")).toBe("GET, HEAD")
  })

  it("answers lanes, operators, dead letters and per-hop latency", async () => {
    const { lanes } = (await get("/api/lanes")).body
    expect(lanes.length).toBeGreaterThan(0)
    const busy = lanes.find((l: { committed: unknown }) => l.committed !== null)
    expect(busy.committed.root).toMatch(/^0x[0-9a-f]{64}$/)
    const lane = await get(`/api/lanes/${busy.lane}`)
    expect(lane.body.checkpoints.length).toBeGreaterThan(0)
    const { operators } = (await get("/api/operators")).body
    expect(operators.length).toBe(4)
    expect(operators.every((o: { signed: number }) => o.signed > 0)).toBe(true)
    expect((await get("/api/dead-letters")).status).toBe(200)
    const latency = await get("/api/latency?window=1h&buckets=12")
    const hops = latency.body.lanes.flatMap((l: { hops: Array<{ hop: string }> }) => l.hops.map((h) => h.hop))
    expect(hops).toContain("observed→proven")
  })
})

describe("explorer/openapi.json", () => {
  const openapi = JSON.parse(
    readFileSync(join(import.meta.dirname, "..", "..", "explorer", "openapi.json"), "utf8"),
  )
  it("holds every route's real answers, each documented status, to its schema", async () => {
    const [failed] = (await get("/api/messages?status=failed&limit=1")).body.messages
    const { lanes } = (await get("/api/lanes")).body
    // For each documented path, requests that give each status it documents.
    const samples: Record<string, Record<string, string>> = {
      "/api/summary": { "200": "/api/summary", "400": "/api/summary?x=1" },
      "/api/messages": { "200": "/api/messages?status=failed&limit=3", "400": "/api/messages?limit=-1" },
      "/api/messages/{id}": {
        "200": `/api/messages/${failed.id}`,
        "400": "/api/messages/0x12",
        "404": `/api/messages/0x${"cd".repeat(32)}`,
      },
      "/api/lanes": { "200": "/api/lanes", "400": "/api/lanes?x=1" },
      "/api/lanes/{lane}": {
        "200": `/api/lanes/${lanes[0].lane}?limit=5`,
        "400": `/api/lanes/${lanes[0].lane}?limit=x`,
        "404": `/api/lanes/1:0x${"00".repeat(20)}:2`,
      },
      "/api/operators": { "200": "/api/operators", "400": "/api/operators?x=1" },
      "/api/dead-letters": { "200": "/api/dead-letters?limit=5", "400": "/api/dead-letters?limit=0" },
      "/api/latency": { "200": "/api/latency?window=2h&buckets=6", "400": "/api/latency?buckets=0" },
    }
    expect(Object.keys(openapi.paths).sort()).toEqual(Object.keys(samples).sort())
    for (const [path, operations] of Object.entries(openapi.paths) as Array<[string, Json]>) {
      const responses = operations.get.responses as Record<string, Json>
      expect(Object.keys(responses).sort(), path).toEqual(Object.keys(samples[path]!).sort())
      for (const [status, response] of Object.entries(responses)) {
        const answer = await get(samples[path]![status]!)
        expect(answer.status, `${samples[path]![status]}`).toBe(Number(status))
        const schema = response.content["application/json"].schema
        expect(schemaProblems(answer.body, schema, openapi), `${samples[path]![status]}`).toEqual([])
      }
    }
  })

  it("documents every parameter a route takes, and no other", async () => {
    for (const [path, operations] of Object.entries(openapi.paths) as Array<[string, Json]>) {
      const documented = ((operations.get.parameters ?? []) as Array<{ name: string; in: string }>)
        .filter((p) => p.in === "query")
        .map((p) => p.name)
      const concrete = path
        .replace("{id}", `0x${"cd".repeat(32)}`)
        .replace("{lane}", `1:0x${"00".repeat(20)}:2`)
      const refusal = (await get(`${concrete}?undocumented=1`)).body.error.message as string
      // The API names what the route takes when it refuses a parameter it does not.
      const taken = /it takes (.*)$/.exec(refusal)![1]!
      expect(taken === "none" ? [] : taken.split(", ").sort(), path).toEqual([...documented].sort())
    }
  })
})

describe.skipIf(!existsSync(CHROMIUM) && process.env.CI_REQUIRE_BROWSER !== "1")(
  "the explorer's page in Chromium",
  () => {
    it("follows a failed message from the list to its revert, and a delivered one through every stage", async () => {
      const { chromium } = await import("playwright-core")
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      })
      const out = join(import.meta.dirname, "..", "..", "test-output", "explorer")
      mkdirSync(out, { recursive: true })
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
        await page.goto(explorer.url)
        await page.getByTestId("message-row").first().waitFor()
        const firstRenderMs = Number(
          await page.evaluate(
            () => (globalThis as unknown as PageGlobals).document.body.dataset.firstRenderMs,
          ),
        )
        expect(firstRenderMs).toBeLessThanOrEqual(1_000)

        // Filter to the failed messages with the form, as a user would.
        await page.getByTestId("filters").locator("select[name=status]").selectOption("failed")
        await page.getByTestId("filters").locator("button").click()
        await page.waitForFunction(() =>
          (globalThis as unknown as PageGlobals).document.body.dataset.rendered?.includes("status=failed"),
        )
        const rows = page.getByTestId("message-row")
        expect(await rows.count()).toBeGreaterThan(0)
        for (const status of await rows.evaluateAll((all) => all.map((r) => r.getAttribute("data-status"))))
          expect(status).toBe("failed")
        await page.screenshot({ path: join(out, "failed-list.png"), fullPage: true })

        await rows.first().locator("a").first().click()
        await page.getByTestId("timeline").waitFor()
        const failedStep = page.locator('[data-testid=step][data-stage="failed"] [data-testid=step-summary]')
        // The recipient's revert, decoded: the GatedRecipient's Closed(srcChainId, sender) error, not raw bytes.
        await expect(failedStep.first().textContent()).resolves.toMatch(
          /reverted in block \d+, tx 0x[0-9a-f]{64}: .*Closed/,
        )
        await expect(page.getByTestId("retry-command").textContent()).resolves.toMatch(
          /^chorus retry 0x[0-9a-f]{64} --data-dir /,
        )
        await page.screenshot({ path: join(out, "failed-message.png"), fullPage: true })

        const [delivered] = (await get("/api/messages?status=delivered&limit=1")).body.messages
        await page.goto(`${explorer.url}#/message/${delivered.id}`)
        await page.getByTestId("timeline").waitFor()
        const stages = await page
          .getByTestId("step")
          .evaluateAll((all) => all.map((s) => s.getAttribute("data-stage")))
        for (const stage of STAGES.filter((s) => s !== "failed"))
          expect(stages, `the delivered message's timeline lacks ${stage}`).toContain(stage)
        await expect(page.getByTestId("retry-refused").textContent()).resolves.toMatch(/already delivered/)
        await page.screenshot({ path: join(out, "delivered-message.png"), fullPage: true })

        await page.goto(`${explorer.url}#/lane/${encodeURIComponent(delivered.lane)}`)
        await page.getByTestId("latency-chart").waitFor()
        await page.screenshot({ path: join(out, "lane.png"), fullPage: true })
      } finally {
        await browser.close()
      }
    }, 120_000)
  },
)
