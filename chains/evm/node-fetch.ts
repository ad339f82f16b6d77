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
 *   its connection is destroyed, with every decompressing stream of it (no decompression goes on after).
 * - An answer is decoded as `fetch` decodes it: every content coding it names (`gzip`, `x-gzip`, `deflate`,
 *   zlib-wrapped or raw, `br`, `zstd`), last applied first, in any case, as leniently as `fetch` (a gzip
 *   without its trailer is read); none at all if one is unknown, or for a status without a body; more
 *   than five codings are refused.
 * - An aborted signal (viem's timeout) destroys the request at once, and the promise rejects with the
 *   signal's reason. Otherwise the promise settles when the connection does: a connection closed before the
 *   answer was whole (an upgrade nobody asked for among them) rejects it at once.
 * - A redirect is handed over to `fetch`, which sends the request again and follows the redirect as it
 *   does: the one case handed over. The redirect's own answer is not read: its connection is destroyed.
 *
 * @module
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http"
import { Agent as HttpsAgent, request as httpsRequest } from "node:https"
import { Transform, type TransformCallback } from "node:stream"
import {
  constants,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  createZstdDecompress,
} from "node:zlib"
import { ResponseBodyTooLargeError } from "viem"

/** The most an answer may hold: viem's default `maxResponseBodySize`, which it checks again on what this returns. */
export const MAX_ANSWER_BYTES = 10_485_760

const agents = {
  "http:": new HttpAgent({ keepAlive: true }),
  "https:": new HttpsAgent({ keepAlive: true }),
} as const

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/** As `fetch`: at most this many content codings are decoded; more, and the answer is refused. */
const MAX_CODINGS = 5

/** The statuses whose answers have no body: `fetch` decodes none of them. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304])

const SYNC = { flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH }

/** `deflate` as `fetch` reads it: zlib-wrapped or raw, told apart by the first byte. */
class Inflate extends Transform {
  #inner: Transform | undefined

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#inner === undefined) {
      if (chunk.length === 0) {
        done()
        return
      }
      const inner = (chunk[0]! & 0x0f) === 0x08 ? createInflate(SYNC) : createInflateRaw(SYNC)
      inner.on("data", (data: Buffer) => this.push(data))
      inner.on("error", (error) => this.destroy(error))
      this.#inner = inner
    }
    this.#inner.write(chunk, () => done())
  }

  override _flush(done: TransformCallback): void {
    if (this.#inner === undefined) {
      done()
      return
    }
    this.#inner.once("end", () => done())
    this.#inner.end()
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#inner?.destroy()
    done(error)
  }
}

/**
 * The streams that decode an answer, in the order its body goes through them, as `fetch` decodes it (see the
 * module); an `Error` if it names too many codings.
 */
const decodersOf = (method: string, response: IncomingMessage): Transform[] | Error => {
  const header = response.headers["content-encoding"]
  if (
    !header ||
    method === "HEAD" ||
    method === "CONNECT" ||
    NULL_BODY_STATUSES.has(response.statusCode ?? 0)
  )
    return []
  const codings = header.toLowerCase().split(",")
  if (codings.length > MAX_CODINGS) {
    return new Error(
      `too many content-encodings in response: ${codings.length}, maximum allowed is ${MAX_CODINGS}`,
    )
  }
  const decoders: Transform[] = []
  for (const coding of codings.reverse().map((coding) => coding.trim())) {
    if (coding === "gzip" || coding === "x-gzip") decoders.push(createGunzip(SYNC))
    else if (coding === "deflate") decoders.push(new Inflate())
    else if (coding === "br") {
      decoders.push(
        createBrotliDecompress({
          flush: constants.BROTLI_OPERATION_FLUSH,
          finishFlush: constants.BROTLI_OPERATION_FLUSH,
        }),
      )
    } else if (coding === "zstd") {
      decoders.push(
        createZstdDecompress({
          flush: constants.ZSTD_e_continue,
          finishFlush: constants.ZSTD_e_end,
          params: { [constants.ZSTD_d_windowLogMax]: 23 },
        }),
      )
    } else {
      for (const decoder of decoders) decoder.destroy()
      return []
    }
  }
  return decoders
}

/** The `Response` viem reads, over an answer read whole: its status, its headers by name, and its text. */
export const textResponse = (
  status: number,
  statusText: string,
  header: (name: string) => string | null,
  text: string,
): Response =>
  ({
    ok: status >= 200 && status < 300,
    status,
    statusText,
    headers: { get: header },
    body: null,
    text: () => Promise.resolve(text),
  }) as unknown as Response

/** The `Response` viem reads, over an answer read whole. */
const answerOf = (response: IncomingMessage, text: string): Response => {
  const headers = response.headers
  return textResponse(
    response.statusCode ?? 0,
    response.statusMessage ?? "",
    (name) => {
      const value = headers[name.toLowerCase()]
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value
    },
    text,
  )
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
  const method = init.method ?? "GET"
  return new Promise<Response>((resolve, reject) => {
    let settled = false
    /** The answer and the streams decoding it, destroyed with the request. */
    let streams: Array<IncomingMessage | Transform> = []
    const settle = () => {
      settled = true
      signal?.removeEventListener("abort", onAbort)
    }
    const fail = (error: unknown) => {
      if (settled) return
      settle()
      for (const stream of streams) stream.destroy()
      request.destroy()
      reject(error)
    }
    const onAbort = () => fail(signal!.reason)
    const request = (secure ? httpsRequest : httpRequest)(
      url,
      { method, headers, agent: agents[secure ? "https:" : "http:"] },
      (response) => {
        streams = [response]
        response.on("error", fail)
        const status = response.statusCode ?? 0
        if (REDIRECTS.has(status) && response.headers.location !== undefined) {
          if (settled) return
          settle()
          response.destroy()
          request.destroy()
          resolve(fetch(input, init))
          return
        }
        const decoders = decodersOf(method, response)
        if (decoders instanceof Error) {
          fail(decoders)
          return
        }
        for (const decoder of decoders) {
          streams.at(-1)!.pipe(decoder)
          streams.push(decoder)
          decoder.on("error", fail)
        }
        const stream = streams.at(-1)!
        const chunks: Buffer[] = []
        let size = 0
        stream.on("data", (chunk: Buffer) => {
          if (settled) return
          size += chunk.length
          if (size > MAX_ANSWER_BYTES) {
            fail(new ResponseBodyTooLargeError({ maxSize: MAX_ANSWER_BYTES, size }))
            return
          }
          chunks.push(chunk)
        })
        response.on("close", () => {
          if (!response.complete) fail(new Error("the connection closed before the answer was whole"))
        })
        stream.on("end", () => {
          if (settled) return
          settle()
          // As `Response.text()` decodes: UTF-8, a leading byte order mark dropped.
          const text = Buffer.concat(chunks, size).toString("utf8")
          resolve(answerOf(response, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text))
        })
      },
    )
    request.on("error", fail)
    // A request can close with neither an answer nor an 'error': Node drops a connection whose answer is an
    // upgrade (101) nobody asked for. Once the answer has come, its own events settle it.
    request.on("close", () => {
      if (streams.length === 0) fail(new Error("the connection closed before an answer came"))
    })
    signal?.addEventListener("abort", onAbort, { once: true })
    request.end(body)
  })
}
