import { createServer, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { createPublicClient, http, type PublicClient } from "viem"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { makeBatchingFetch } from "./batching-fetch.ts"
import { MAX_ANSWER_BYTES, nodeFetch } from "./node-fetch.ts"

interface JsonRpcRequest {
  readonly id: number
  readonly method: string
  readonly params?: unknown[]
}

/** Every HTTP body the fake RPC received, parsed, by path. */
const received = new Map<string, unknown[]>()
/** How many requests the fake RPC answered, over all paths: its "chain state", which every answer shows. */
let answered = 0
/** Bodies whose connections closed before they were answered. */
const abandoned: string[] = []

const result = (request: JsonRpcRequest): unknown => {
  answered += 1
  if (request.method === "eth_getLogs") return `0x${"ab".repeat(Math.floor(MAX_ANSWER_BYTES * 0.3))}`
  return { method: request.method, params: request.params ?? [], state: answered }
}
const element = (request: JsonRpcRequest) => ({ jsonrpc: "2.0", id: request.id, result: result(request) })

/** How the fake RPC answers an array, by path (a single object is always answered as it should be). */
const batchAnswers: Record<string, (requests: JsonRpcRequest[]) => { status?: number; body: string }> = {
  reversed: (requests) => ({ body: JSON.stringify(requests.map(element).reverse()) }),
  "refuses-batches": () => ({
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: "batches not allowed" },
    }),
  }),
  "drops-one": (requests) => ({ body: JSON.stringify(requests.slice(1).map(element)) }),
  "repeats-an-id": (requests) => ({
    body: JSON.stringify(requests.map((request) => ({ ...element(request), id: requests[0]!.id }))),
  }),
  "unknown-id": (requests) => ({
    body: JSON.stringify(
      requests.map((request, i) => ({ ...element(request), id: i === 0 ? 99 : request.id })),
    ),
  }),
  "not-json": () => ({ body: "<html>bad gateway</html>" }),
  "http-400": () => ({ status: 400, body: "batch requests are not supported" }),
  "nests-too-deep": (requests) => ({
    body: JSON.stringify([
      { ...element(requests[0]!), result: 0 },
      ...requests.slice(1).map(element),
    ]).replace('"result":0', `"result":${"[".repeat(200_000)}${"]".repeat(200_000)}`),
  }),
  "http-403": () => ({ status: 403, body: JSON.stringify({ error: "forbidden" }) }),
  "http-503": () => ({ status: 503, body: JSON.stringify({ error: "overloaded" }) }),
  "slow-reversed": (requests) => ({ body: JSON.stringify(requests.map(element).reverse()) }),
}

/** Bytes written by the endless answers so far. */
let pumped = 0
const pumpEndlessly = (response: ServerResponse) => {
  response.setHeader("content-type", "application/json")
  const chunk = Buffer.alloc(64 * 1024, 0x20)
  const pump = () => {
    while (!response.destroyed && response.write(chunk)) pumped += chunk.length
    if (!response.destroyed) response.once("drain", pump)
  }
  pump()
}

let server: Server
let base: string

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const path = request.url!.slice(1)
      const text = Buffer.concat(chunks).toString()
      const body = JSON.parse(text) as JsonRpcRequest | JsonRpcRequest[]
      received.set(path, [...(received.get(path) ?? []), body])
      const answer = () => {
        if (response.destroyed) {
          abandoned.push(text)
          return
        }
        const { status = 200, body: out } = Array.isArray(body)
          ? batchAnswers[path]!(body)
          : { body: JSON.stringify(element(body)) }
        response.statusCode = status
        response.setHeader("content-type", "application/json")
        response.end(out)
      }
      if (path === "endless") {
        pumpEndlessly(response)
        return
      }
      if (path === "redirects-batches" && Array.isArray(body)) {
        response.statusCode = 307
        response.setHeader("location", "/endless")
        response.end()
        return
      }
      if (path.startsWith("slow")) setTimeout(answer, 150)
      else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})
beforeEach(() => {
  received.clear()
  abandoned.length = 0
})

const clientOf = (path: string, fetchFn: typeof fetch): PublicClient =>
  createPublicClient({ transport: http(`${base}/${path}`, { fetchFn, retryCount: 0, timeout: 5_000 }) })

/** What the RPC was asked for over HTTP: one line per HTTP request, its methods in order. */
const asked = (path: string): string[] =>
  (received.get(path) ?? []).map((body) =>
    (Array.isArray(body) ? body : [body]).map((request) => (request as JsonRpcRequest).method).join(" + "),
  )

const read = (client: PublicClient, method: string, params: unknown[] = []) =>
  client.request({ method, params } as never) as Promise<{ method: string; params: unknown[]; state: number }>

describe("batchingFetch", () => {
  it("given requests of two clients in one turn, then one HTTP request carries them and each gets its own answer", async () => {
    const fetchFn = makeBatchingFetch(nodeFetch)
    const [a, b] = [clientOf("reversed", fetchFn), clientOf("reversed", fetchFn)]
    const answers = await Promise.all([
      read(a, "eth_blockNumber"),
      read(b, "eth_getBalance", ["0x01", "latest"]),
      read(b, "eth_getBalance", ["0x02", "latest"]),
    ])
    expect(asked("reversed")).toEqual(["eth_blockNumber + eth_getBalance + eth_getBalance"])
    // The RPC answered in reverse order; each caller still has the answer to its own request.
    expect(answers.map(({ method, params }) => [method, params])).toEqual([
      ["eth_blockNumber", []],
      ["eth_getBalance", ["0x01", "latest"]],
      ["eth_getBalance", ["0x02", "latest"]],
    ])
  })

  it("given identical reads in one turn, then they are asked once; identical sends are each sent", async () => {
    const fetchFn = makeBatchingFetch(nodeFetch)
    const clients = [
      clientOf("reversed", fetchFn),
      clientOf("reversed", fetchFn),
      clientOf("reversed", fetchFn),
    ]
    const latest = await Promise.all(
      clients.map((client) => read(client, "eth_getBlockByNumber", ["latest", false])),
    )
    expect(new Set(latest.map(({ state }) => state)).size).toBe(1)
    expect(asked("reversed")).toEqual(["eth_getBlockByNumber"])
    received.clear()
    const sent = await Promise.all(
      clients.map((client) => read(client, "eth_sendRawTransaction", ["0xf86c"])),
    )
    expect(new Set(sent.map(({ state }) => state)).size).toBe(3)
    expect(asked("reversed")).toEqual([
      "eth_sendRawTransaction + eth_sendRawTransaction + eth_sendRawTransaction",
    ])
  })

  it("given a read made after its twin's batch left, then it is asked again and not answered by the older one", async () => {
    const fetchFn = makeBatchingFetch(nodeFetch)
    const client = clientOf("slow-reversed", fetchFn)
    const first = read(client, "eth_getBlockByNumber", ["latest", false])
    await new Promise((resolve) => setTimeout(resolve, 50))
    const second = read(client, "eth_getBlockByNumber", ["latest", false])
    const [a, b] = await Promise.all([first, second])
    expect(asked("slow-reversed")).toEqual(["eth_getBlockByNumber", "eth_getBlockByNumber"])
    expect(b.state).toBeGreaterThan(a.state)
  })

  it.each([
    "refuses-batches",
    "drops-one",
    "repeats-an-id",
    "unknown-id",
    "not-json",
    "http-400",
    "nests-too-deep",
  ])(
    "given an RPC whose answer to a batch %s, then every request is sent again alone and answered, and the URL is batched no more",
    async (path) => {
      const warnings: string[] = []
      const fetchFn = makeBatchingFetch(nodeFetch, { warn: (message) => warnings.push(message) })
      const client = clientOf(path, fetchFn)
      const answers = await Promise.all([read(client, "eth_chainId"), read(client, "eth_gasPrice")])
      expect(answers.map(({ method }) => method)).toEqual(["eth_chainId", "eth_gasPrice"])
      expect(asked(path)).toEqual(["eth_chainId + eth_gasPrice", "eth_chainId", "eth_gasPrice"])
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain(
        `the RPC at ${base}/${path} did not answer a batch of 2 JSON-RPC requests`,
      )
      received.clear()
      await Promise.all([read(client, "eth_chainId"), read(client, "eth_gasPrice")])
      expect(asked(path)).toEqual(["eth_chainId", "eth_gasPrice"])
      expect(warnings).toHaveLength(1)
    },
  )

  it.each([
    ["http-503", 503],
    ["http-403", 403],
  ])(
    "given a batch answered %s, then every caller gets it as it came (viem retries each) and the URL stays batched",
    async (path, status) => {
      const warnings: string[] = []
      const fetchFn = makeBatchingFetch(nodeFetch, { warn: (message) => warnings.push(message) })
      const client = clientOf(path, fetchFn)
      const outcomes = await Promise.allSettled([read(client, "eth_chainId"), read(client, "eth_gasPrice")])
      expect(
        outcomes.map(
          (outcome) => outcome.status === "rejected" && (outcome.reason as { status?: number }).status,
        ),
      ).toEqual([status, status])
      expect(asked(path)).toEqual(["eth_chainId + eth_gasPrice"])
      await Promise.allSettled([read(client, "eth_chainId"), read(client, "eth_gasPrice")])
      expect(asked(path)).toEqual(["eth_chainId + eth_gasPrice", "eth_chainId + eth_gasPrice"])
      expect(warnings).toEqual([])
    },
  )

  it("given a batch whose answer is larger than one answer may be, then its requests are sent again alone and answered; three in a row, and the URL is batched no more", async () => {
    const warnings: string[] = []
    const fetchFn = makeBatchingFetch(nodeFetch, { warn: (message) => warnings.push(message) })
    const client = clientOf("reversed", fetchFn)
    const fourLogs = () =>
      Promise.all([1, 2, 3, 4].map((n) => read(client, "eth_getLogs", [{ fromBlock: `0x${n}` }])))
    const logs = await fourLogs()
    expect(logs.map((answer) => (answer as unknown as string).length)).toEqual(
      Array(4).fill(2 + 2 * Math.floor(MAX_ANSWER_BYTES * 0.3)),
    )
    const batchThenAlone = [
      "eth_getLogs + eth_getLogs + eth_getLogs + eth_getLogs",
      ...Array(4).fill("eth_getLogs"),
    ]
    expect(asked("reversed")).toEqual(batchThenAlone)
    expect(warnings).toEqual([])
    await fourLogs()
    await fourLogs()
    expect(asked("reversed")).toEqual([...batchThenAlone, ...batchThenAlone, ...batchThenAlone])
    expect(warnings).toEqual([expect.stringContaining("(3 answers in a row were too large)")])
    received.clear()
    await fourLogs()
    expect(asked("reversed")).toEqual(Array(4).fill("eth_getLogs"))
  })

  it("given a batch redirected to an answer without end, then no more than one answer's worth is read and its requests are sent again alone", async () => {
    const client = clientOf("redirects-batches", makeBatchingFetch(nodeFetch))
    const before = pumped
    const answers = await Promise.all([read(client, "eth_chainId"), read(client, "eth_gasPrice")])
    expect(answers.map(({ method }) => method)).toEqual(["eth_chainId", "eth_gasPrice"])
    // (`nodeFetch` hands a redirect to `fetch`, which asks again and follows it: the batch is asked twice.)
    expect(asked("redirects-batches")).toEqual([
      "eth_chainId + eth_gasPrice",
      "eth_chainId + eth_gasPrice",
      "eth_chainId",
      "eth_gasPrice",
    ])
    expect(pumped - before).toBeLessThan(2 * MAX_ANSWER_BYTES)
  })

  it("given a batch answer whose length and coding are the batch's, then no caller's answer carries them", async () => {
    // Over the limit as a whole, each answer small: viem refuses an answer whose content-length is too large.
    const fetchFn = makeBatchingFetch(async (_input, init) => {
      const requests = JSON.parse(String(init?.body)) as JsonRpcRequest[]
      return new Response(
        JSON.stringify(requests.map((request) => ({ jsonrpc: "2.0", id: request.id, result: "0x1" }))),
        {
          headers: { "content-type": "application/json", "content-length": String(MAX_ANSWER_BYTES + 1) },
        },
      )
    })
    const client = clientOf("reversed", fetchFn)
    expect(await Promise.all([read(client, "eth_chainId"), read(client, "eth_gasPrice")])).toEqual([
      "0x1",
      "0x1",
    ])
  })

  it("given identical reads alone in their turn, then the one request's answer reaches each caller under its own id", async () => {
    const fetchFn = makeBatchingFetch(nodeFetch)
    const post = (id: number) =>
      fetchFn(`${base}/reversed`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method: "eth_blockNumber" }),
      })
    const answers = await Promise.all(
      [post(7), post(8)].map(async (answer) => JSON.parse(await (await answer).text())),
    )
    expect(asked("reversed")).toEqual(["eth_blockNumber"])
    expect(answers.map(({ id }) => id)).toEqual([7, 8])
    expect(answers[0].result).toEqual(answers[1].result)
  })

  it("given a URL fetch cannot parse, then its callers are rejected, nothing is thrown past them", async () => {
    const fetchFn = makeBatchingFetch(nodeFetch)
    const post = (id: number) =>
      fetchFn("http://[not-a-host", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method: "eth_chainId" }),
      })
    await expect(post(1)).rejects.toThrow()
    await expect(Promise.all([post(2), post(3)])).rejects.toThrow()
  })

  it("given a caller that gives up, then it is rejected at once with its reason, the others are answered, and a batch nobody waits on is dropped", async () => {
    const fetchFn = makeBatchingFetch(nodeFetch)
    const url = `${base}/slow-reversed`
    const body = (id: number, method: string) => JSON.stringify({ jsonrpc: "2.0", id, method })
    const post = (id: number, method: string, signal: AbortSignal) =>
      fetchFn(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: body(id, method),
        signal,
      })
    const [quitter, stayer] = [new AbortController(), new AbortController()]
    const quitting = post(7, "eth_chainId", quitter.signal)
    const staying = post(8, "eth_gasPrice", stayer.signal)
    setTimeout(() => quitter.abort(new Error("timed out")), 50)
    await expect(quitting).rejects.toThrow("timed out")
    const answer = JSON.parse(await (await staying).text()) as { id: number; result: { method: string } }
    expect(answer).toMatchObject({ id: 8, result: { method: "eth_gasPrice" } })

    received.clear()
    const both = [new AbortController(), new AbortController()]
    const gone = [post(1, "eth_chainId", both[0]!.signal), post(2, "eth_gasPrice", both[1]!.signal)]
    setTimeout(() => {
      for (const controller of both) controller.abort(new Error("gone"))
    }, 50)
    await Promise.allSettled(gone)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(asked("slow-reversed")).toEqual(["eth_chainId + eth_gasPrice"])
    expect(abandoned).toHaveLength(1)
  })

  it("given more requests in a turn than a batch carries, then full batches leave at once and none is lost", async () => {
    const fetchFn = makeBatchingFetch(nodeFetch, { maxRequests: 2 })
    const client = clientOf("reversed", fetchFn)
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => read(client, "eth_getBalance", [`0x0${n}`])))
    expect(answers.map(({ params }) => params[0])).toEqual(["0x01", "0x02", "0x03", "0x04", "0x05"])
    expect(asked("reversed")).toEqual([
      "eth_getBalance + eth_getBalance",
      "eth_getBalance + eth_getBalance",
      "eth_getBalance",
    ])
  })

  it("given a request it does not understand, then it goes through as it came", async () => {
    const seen: Array<RequestInit | undefined> = []
    const fetchFn = makeBatchingFetch(async (_input, init) => {
      seen.push(init)
      return new Response("{}")
    })
    const odd = [
      { method: "GET" },
      { method: "POST", body: '{"id":1,"jsonrpc":"2.0","method":"eth_chainId"}' },
      { method: "POST", body: "[]" },
      {
        method: "POST",
        headers: new Headers({ "content-type": "application/json" }),
        body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}',
      },
    ]
    for (const init of odd) await fetchFn(`${base}/reversed`, init)
    expect(seen).toEqual(odd)
  })
})
