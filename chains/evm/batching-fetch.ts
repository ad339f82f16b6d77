/**
 * The `fetch` under every chain client of a process: the JSON-RPC requests made to one URL in one turn of
 * the event loop leave as one batch (one HTTP request), whichever client made them, and identical reads in
 * that turn are asked once.
 *
 * Why: each HTTP request costs a socket write, which on the 2-core test host is 0.2 ms of CPU and a fifth of
 * a devnet's; on a hosted RPC each is a request against the rate limit. In a devnet at 100 msg/s, 45% of the
 * requests had company to the same URL in their turn, and 22% were the same read as another in their turn:
 * the proof-builder and every operator read a lane's Outbox at one block as a proposal goes by (issue 13,
 * part 3). With batches, a devnet's services sent 2,561 HTTP requests for 3,000 messages instead of 5,867.
 *
 * Invariants:
 * - No answer is older than its request: a batch is sent at the end of the turn (`setImmediate`), after
 *   every request in it was made, and a request made once its batch has left waits for the next. Identical
 *   reads are merged only within one batch.
 * - Only reads are merged: a closed list of methods whose answer is a function of the chain's state
 *   (`SHARED_READS`). Two identical `eth_sendRawTransaction`s are both sent.
 * - Each caller gets the element that answers its own request, under its own id, with none of the batch's
 *   length or coding headers. The batch's answer must hold exactly one element per request, each with an id
 *   the batch gave. Anything else (a refusal, one error for the whole batch, an id missing, repeated or
 *   unknown, a body that is not JSON or nests too deep to pass on, a status other than 2xx and those passed
 *   on) makes the URL unbatched for the life of the process, with a warning that names the redacted URL, and
 *   every request of that batch is sent again on its own. An RPC that takes no batches costs one refused
 *   request; no request goes unanswered and none is answered with another's result.
 * - A 401, 403, 408, 429 or 5xx answer reaches every caller as it came, as a single request's would: viem
 *   retries each as it does a single one, and the URL stays batched.
 * - A batch's answer is read to at most `MAX_ANSWER_BYTES` (a single answer's limit), wherever a redirect
 *   took it. A larger one is not read on: its requests are sent again one at a time, so no request is
 *   refused for its neighbours' size; after three such batches in a row, the URL is batched no more.
 * - A caller whose signal aborts is rejected with the signal's reason at once; the batch's own request is
 *   aborted only when no caller is left waiting on it.
 * - A request this does not understand (anything but a POST of one JSON-RPC object written as viem writes
 *   it) goes through as it came, as does a request that is alone in its turn.
 *
 * @module
 */
import { ResponseBodyTooLargeError } from "viem"
import { redactUrl } from "./errors.ts"
import { MAX_ANSWER_BYTES, nodeFetch, textResponse } from "./node-fetch.ts"

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** The most requests one batch carries: providers cap batches (commonly 100 to 1,000); a full batch leaves at once. */
export const MAX_BATCH_REQUESTS = 50

/**
 * Methods whose answer depends on nothing but the chain's state when they are answered: two identical
 * requests in one batch are answered by one.
 */
export const SHARED_READS: ReadonlySet<string> = new Set([
  "eth_blockNumber",
  "eth_call",
  "eth_chainId",
  "eth_estimateGas",
  "eth_feeHistory",
  "eth_gasPrice",
  "eth_getBalance",
  "eth_getBlockByHash",
  "eth_getBlockByNumber",
  "eth_getCode",
  "eth_getLogs",
  "eth_getStorageAt",
  "eth_getTransactionByHash",
  "eth_getTransactionCount",
  "eth_getTransactionReceipt",
  "eth_maxPriorityFeePerGas",
  "net_version",
])

/** Statuses passed to every caller as they came, as a single request's would be (viem retries them). */
const PASSED_ON = new Set([401, 403, 408, 429])

/** Headers about the batch's body that do not describe one caller's answer. */
const OWN_HEADERS = new Set(["content-length", "content-encoding"])

/** Batch answers in a row too large to read that make a URL unbatched. */
const TOO_LARGE_IN_A_ROW = 3

/** A JSON-RPC request body as viem writes it: `jsonrpc` first, then a numeric `id`, then `method`. */
const VIEM_BODY = /^\{"jsonrpc":"2\.0","id":(\d{1,15}),"method":"([A-Za-z0-9_]{1,64})"/

interface Caller {
  /** The id of the caller's own request, which its answer carries back. */
  readonly id: number
  readonly init: RequestInit
  settled: boolean
  resolve(response: Response): void
  reject(error: unknown): void
  /** Called once the caller is settled, whatever settled it: the batch it waits on may be left with nobody. */
  onSettled?: () => void
}

/** One request of a batch: its body from `"method"` on, and everyone waiting on its answer. */
interface Entry {
  readonly method: string
  readonly rest: string
  readonly callers: Caller[]
}

interface Batch {
  readonly url: string
  readonly key: string
  readonly headers: RequestInit["headers"]
  readonly entries: Entry[]
  /** Entries of merged reads, by body. */
  readonly reads: Map<string, Entry>
  /** Set when the batch leaves: when it filled up, its end-of-turn flush finds nothing to send. */
  sent: boolean
}

export interface BatchingFetchOptions {
  /** Default `MAX_BATCH_REQUESTS`. */
  readonly maxRequests?: number
  /** Told once per URL that stops being batched. Default: a process warning (`CHORUS_RPC_UNBATCHED`). */
  readonly warn?: (message: string) => void
}

/**
 * Each caller's answer, entry by entry and caller by caller: the element the RPC gave for its
 * request, under the caller's own id; or why the RPC's answer is not one element per request.
 */
const answersOf = (text: string, entries: ReadonlyArray<Entry>): ReadonlyArray<string> | string => {
  let answer: unknown
  try {
    answer = JSON.parse(text)
  } catch {
    return "its answer is not JSON"
  }
  const batched = entries.length > 1
  if (batched && !Array.isArray(answer)) return "it answered one object, not one element per request"
  const elements = (batched ? answer : [answer]) as unknown[]
  if (elements.length !== entries.length) {
    return `it answered ${elements.length} elements for ${entries.length} requests`
  }
  const byId: Array<Record<string, unknown>> = []
  for (const element of elements) {
    if (typeof element !== "object" || element === null || Array.isArray(element)) {
      return "an element of its answer is not an object"
    }
    const id = (element as { id?: unknown }).id
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= entries.length) {
      return `an element of its answer has an id the batch did not send (a ${typeof id})`
    }
    if (byId[id] !== undefined) return `its answer holds id ${id} twice`
    byId[id] = element as Record<string, unknown>
  }
  try {
    return entries.flatMap((entry, i) =>
      entry.callers.map((caller) => JSON.stringify({ ...byId[i], id: caller.id })),
    )
  } catch {
    // JSON.stringify runs out of stack on an answer nested deep enough; JSON.parse does not.
    return "an element of its answer is nested too deeply to pass on"
  }
}

/** A batch's answer, read to at most `MAX_ANSWER_BYTES` whatever `fetch` gave it (`fetch` follows redirects). */
const textOf = async (response: Response): Promise<string> => {
  if (response.body === null) return response.text()
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel()
      throw new ResponseBodyTooLargeError({ maxSize: MAX_ANSWER_BYTES, size })
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks, size).toString("utf8")
}

/**
 * A `fetch` that batches what viem's HTTP transport sends through it, over `inner`.
 *
 * @example
 * ```ts
 * const client = createPublicClient({ transport: http(url, { fetchFn: makeBatchingFetch(nodeFetch) }) })
 * await Promise.all([client.getBlockNumber(), client.getChainId()]) // one HTTP request
 * ```
 */
export const makeBatchingFetch = (inner: Fetch, options: BatchingFetchOptions = {}): Fetch => {
  const maxRequests = options.maxRequests ?? MAX_BATCH_REQUESTS
  const warn =
    options.warn ?? ((message: string) => process.emitWarning(message, { code: "CHORUS_RPC_UNBATCHED" }))
  /** The batch of each URL (and headers) still open in this turn. */
  const open = new Map<string, Batch>()
  /** URLs (and headers) whose RPC answered a batch as it should not: sent one request at a time. */
  const unbatched = new Set<string>()

  const alone = (url: string, caller: Caller): void => {
    // Inside a promise, so that a fetch that throws (an unparsable URL) rejects its caller as it would have.
    Promise.resolve()
      .then(() => inner(url, caller.init))
      .then(
        (response) => caller.resolve(response),
        (error: unknown) => caller.reject(error),
      )
  }

  const unbatch = (batch: Batch, requests: number, reason: string): void => {
    if (unbatched.has(batch.key)) return
    unbatched.add(batch.key)
    warn(
      `the RPC at ${redactUrl(batch.url)} did not answer a batch of ${requests} JSON-RPC requests as one ` +
        `(${reason}); its requests are sent one at a time from now on, and this batch's were sent again so`,
    )
  }

  /** Batches of each URL in a row whose answer was too large: at `TOO_LARGE_IN_A_ROW` it is batched no more. */
  const tooLarge = new Map<string, number>()

  const send = async (batch: Batch, entries: ReadonlyArray<Entry>, callers: ReadonlyArray<Caller>) => {
    const controller = new AbortController()
    let waiting = callers.length
    for (const caller of callers) {
      caller.onSettled = () => {
        waiting -= 1
        if (waiting === 0) controller.abort(new Error("every caller of the batch is gone"))
      }
    }
    const body =
      entries.length === 1
        ? `{"jsonrpc":"2.0","id":0,${entries[0]!.rest}`
        : `[${entries.map((entry, i) => `{"jsonrpc":"2.0","id":${i},${entry.rest}`).join(",")}]`
    let response: Response
    let text: string
    try {
      response = await inner(batch.url, {
        method: "POST",
        headers: batch.headers,
        body,
        signal: controller.signal,
      })
      text = await textOf(response)
    } catch (error) {
      if (!(error instanceof ResponseBodyTooLargeError)) {
        for (const caller of callers) caller.reject(error)
        return
      }
      const inARow = (tooLarge.get(batch.key) ?? 0) + 1
      tooLarge.set(batch.key, inARow)
      if (inARow >= TOO_LARGE_IN_A_ROW)
        unbatch(batch, entries.length, `${inARow} answers in a row were too large`)
      for (const caller of callers) if (!caller.settled) alone(batch.url, caller)
      return
    }
    tooLarge.delete(batch.key)
    // Each caller's answer is its own text: the batch's length and coding do not describe it.
    const header = (name: string) => (OWN_HEADERS.has(name.toLowerCase()) ? null : response.headers.get(name))
    const reply = (caller: Caller, answer: string, status = response.status) =>
      caller.resolve(textResponse(status, response.statusText, header, answer))
    if (PASSED_ON.has(response.status) || response.status >= 500) {
      for (const caller of callers) reply(caller, text)
      return
    }
    const answers = response.ok ? answersOf(text, entries) : `it answered HTTP ${response.status}`
    if (typeof answers === "string") {
      if (entries.length === 1) {
        // One read asked for several callers is no batch: its answer, whatever it is, is everyone's.
        for (const caller of callers) reply(caller, text)
        return
      }
      unbatch(batch, entries.length, answers)
      for (const caller of callers) if (!caller.settled) alone(batch.url, caller)
      return
    }
    for (const [i, caller] of callers.entries()) reply(caller, answers[i]!, 200)
  }

  const flush = (batch: Batch): void => {
    if (batch.sent) return
    batch.sent = true
    if (open.get(batch.key) === batch) open.delete(batch.key)
    const entries = batch.entries.filter((entry) => entry.callers.some((caller) => !caller.settled))
    if (entries.length === 0) return
    const callers = entries.flatMap((entry) => entry.callers)
    if (callers.length === 1) {
      alone(batch.url, callers[0]!)
      return
    }
    send(batch, entries, callers).catch((error: unknown) => {
      for (const caller of callers) caller.reject(error)
    })
  }

  return (input, init = {}) => {
    if (input instanceof Request || typeof init.body !== "string" || (init.method ?? "GET") !== "POST") {
      return inner(input, init)
    }
    const body = init.body
    const head = VIEM_BODY.exec(body)
    const headers = init.headers
    // Requests are told apart by their headers too (credentials among them): only a plain object, as viem
    // passes them, can be compared.
    const plain = headers === undefined || Object.getPrototypeOf(headers) === Object.prototype
    if (head === null || !plain) return inner(input, init)
    const url = String(input)
    const key = `${url}\n${JSON.stringify(headers ?? null)}`
    if (unbatched.has(key)) return inner(input, init)
    const signal = init.signal ?? undefined
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => caller.reject(signal!.reason)
      /** Settles the caller once, whichever comes first: its answer, an error, or its signal. */
      const once =
        <T>(settle: (value: T) => void) =>
        (value: T) => {
          if (caller.settled) return
          caller.settled = true
          signal?.removeEventListener("abort", onAbort)
          settle(value)
          caller.onSettled?.()
        }
      const caller: Caller = {
        id: Number(head[1]),
        init,
        settled: false,
        resolve: once(resolve),
        reject: once(reject),
      }
      signal?.addEventListener("abort", onAbort, { once: true })
      let batch = open.get(key)
      if (batch === undefined) {
        const made: Batch = { url, key, headers, entries: [], reads: new Map(), sent: false }
        open.set(key, made)
        setImmediate(() => flush(made))
        batch = made
      }
      const method = head[2]!
      const rest = body.slice(head[0].length - `"method":"${method}"`.length)
      const shared = SHARED_READS.has(method) ? batch.reads.get(rest) : undefined
      if (shared !== undefined) {
        shared.callers.push(caller)
        return
      }
      const entry: Entry = { method, rest, callers: [caller] }
      batch.entries.push(entry)
      if (SHARED_READS.has(method)) batch.reads.set(rest, entry)
      if (batch.entries.length >= maxRequests) flush(batch)
    })
  }
}

/** The process's one batching `fetch` over `nodeFetch`: every chain client shares its batches. */
export const batchingFetch: Fetch = makeBatchingFetch(nodeFetch)
