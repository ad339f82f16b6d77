/**
 * The `fetch` viem's HTTP transport calls (`http(url, { fetchFn: nodeFetch })`), over `node:http` and
 * `node:https` with kept-alive connections.
 *
 * Why: every chain read and write of a relay is a JSON-RPC request, and Node's `fetch` (undici, with WHATWG
 * streams) cost about 2.5× the CPU of a plain `node:http` request for the same answer: a third of a devnet's
 * CPU was in RPC requests (issue 13, part 3). viem keeps everything else: the JSON-RPC body, the timeout, the
 * retries, and its errors (`HttpRequestError`, `RpcRequestError`, `TimeoutError`, `ResponseBodyTooLargeError`),
 * built from what this answers as it builds them from `fetch`'s.
 *
 * What it answers is the part of a `Response` viem reads: `ok`, `status`, `statusText`, `headers.get`, and
 * `text()`, with no body stream.
 *
 * Invariants:
 * - An answer is never held past `MAX_ANSWER_BYTES` (viem's own limit), counted after decompression: a hostile
 *   RPC that streams without end, or sends a small gzip of gigabytes, gets a `ResponseBodyTooLargeError` and
 *   its connection is destroyed.
 * - An aborted signal (viem's timeout) destroys the request at once, and the promise rejects with the
 *   signal's reason.
 * - A redirect is followed as `fetch` follows it, by `fetch` itself: the one case handed over.
 *
 * @module
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http"
import { Agent as HttpsAgent, request as httpsRequest } from "node:https"
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib"
import { ResponseBodyTooLargeError } from "viem"

/** The most an answer may hold: viem's default `maxResponseBodySize`, which it checks again on what this returns. */
export const MAX_ANSWER_BYTES = 10_485_760

const agents = {
  "http:": new HttpAgent({ keepAlive: true }),
  "https:": new HttpsAgent({ keepAlive: true }),
} as const

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/** The answer's body as a text stream, decompressed as its `content-encoding` says. */
const decoded = (response: IncomingMessage): NodeJS.ReadableStream => {
  switch (response.headers["content-encoding"]?.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return response.pipe(createGunzip())
    case "deflate":
      return response.pipe(createInflate())
    case "br":
      return response.pipe(createBrotliDecompress())
    default:
      return response
  }
}

/** The `Response` viem reads, over an answer read whole. */
const answerOf = (response: IncomingMessage, text: string): Response => {
  const headers = response.headers
  const status = response.statusCode ?? 0
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: response.statusMessage ?? "",
    headers: {
      get: (name: string) => {
        const value = headers[name.toLowerCase()]
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value
      },
    },
    body: null,
    text: () => Promise.resolve(text),
  } as unknown as Response
}

/**
 * `fetch` for viem's HTTP transport: a POST of a JSON-RPC body, its answer read whole (see the module).
 *
 * @example
 * ```ts
 * const client = createPublicClient({ transport: http("http://127.0.0.1:8545", { fetchFn: nodeFetch }) })
 * ```
 */
export const nodeFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
  if (input instanceof Request) return fetch(input, init)
  const url = new URL(input)
  const secure = url.protocol === "https:"
  if (!secure && url.protocol !== "http:") return fetch(input, init)
  const signal = init.signal ?? undefined
  if (signal?.aborted) return Promise.reject(signal.reason)
  const body = init.body === undefined || init.body === null ? undefined : String(init.body)
  const headers: Record<string, string> = {}
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value
  })
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body))
  return new Promise<Response>((resolve, reject) => {
    let settled = false
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      signal?.removeEventListener("abort", onAbort)
      request.destroy()
      reject(error)
    }
    const onAbort = () => fail(signal!.reason)
    const request = (secure ? httpsRequest : httpRequest)(
      url,
      { method: init.method ?? "GET", headers, agent: agents[secure ? "https:" : "http:"] },
      (response) => {
        const status = response.statusCode ?? 0
        if (REDIRECTS.has(status) && response.headers.location !== undefined) {
          response.resume()
          if (settled) return
          settled = true
          signal?.removeEventListener("abort", onAbort)
          resolve(fetch(input, init))
          return
        }
        const stream = decoded(response)
        const chunks: Buffer[] = []
        let size = 0
        stream.on("data", (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_ANSWER_BYTES) {
            response.destroy()
            fail(new ResponseBodyTooLargeError({ maxSize: MAX_ANSWER_BYTES, size }))
            return
          }
          chunks.push(chunk)
        })
        stream.on("error", fail)
        response.on("error", fail)
        response.on("close", () => {
          if (!response.complete) fail(new Error("the connection closed before the answer was whole"))
        })
        stream.on("end", () => {
          if (settled) return
          settled = true
          signal?.removeEventListener("abort", onAbort)
          // As `Response.text()` decodes: UTF-8, a leading byte order mark dropped.
          const text = Buffer.concat(chunks, size).toString("utf8")
          resolve(answerOf(response, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text))
        })
      },
    )
    request.on("error", fail)
    signal?.addEventListener("abort", onAbort, { once: true })
    request.end(body)
  })
}
