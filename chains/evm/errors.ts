/**
 * What can go wrong reaching an EVM chain, as `ChorusError`s: a short
 * message, the details as fields, and what to do next. Every error about an
 * RPC names its URL through `redactUrl`, so a credential or an API key in a
 * configured URL never reaches a log line.
 *
 * @module
 */
import { ChorusError, detailLines } from "../../errors/index.ts"

const REDACTED = "***"
const UNREADABLE = "<an RPC URL that does not parse>"

/** Path segments at least this long are taken for keys (Alchemy, Infura, Ankr, QuickNode… all are). */
const KEY_SEGMENT_LENGTH = 16

/**
 * An RPC URL fit for a log line: user and password, every query value, and
 * every path segment long enough to be an API key replaced with `***`.
 * A URL that does not parse is not shown at all.
 *
 * @example
 * ```ts
 * redactUrl("https://user:pass@rpc.example.com/v2/AbC123dEf456GhI789jKl0?apikey=s3cret")
 * // "https://***:***@rpc.example.com/v2/***?apikey=***"
 * redactUrl("http://127.0.0.1:8545") // "http://127.0.0.1:8545" (nothing to hide)
 * ```
 */
export const redactUrl = (url: string): string => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return UNREADABLE
  }
  if (!/^(https?|wss?):$/.test(parsed.protocol)) return UNREADABLE
  let redacted = false
  const userinfo =
    parsed.username === "" && parsed.password === ""
      ? ""
      : `${REDACTED}${parsed.password === "" ? "" : `:${REDACTED}`}@`
  if (userinfo !== "") redacted = true
  const path = parsed.pathname
    .split("/")
    .map((segment) => {
      if (segment.length < KEY_SEGMENT_LENGTH) return segment
      redacted = true
      return REDACTED
    })
    .join("/")
  const query = [...parsed.searchParams.keys()].map((key) => `${key}=${REDACTED}`).join("&")
  if (query !== "") redacted = true
  if (!redacted && parsed.hash === "") return url
  return `${parsed.protocol}//${userinfo}${parsed.host}${path}${query === "" ? "" : `?${query}`}`
}

/**
 * An error and its causes, outermost first: viem wraps what a transport
 * throws, and what matters (a URL, a refusal's wording, a wrong chain) may
 * be several links down. At most 16, against a cycle.
 *
 * @example
 * ```ts
 * causesOf(new Error("outer", { cause: new Error("inner") })).length // 2
 * ```
 */
export const causesOf = (error: unknown): ReadonlyArray<object> => {
  const links: object[] = []
  for (let current = error; typeof current === "object" && current !== null && links.length < 16; ) {
    links.push(current)
    current = (current as { cause?: unknown }).cause
  }
  return links
}

/** The URL a client library's error names, anywhere in its cause chain. */
const urlIn = (error: unknown): string | undefined =>
  causesOf(error)
    .map((link) => (link as { url?: unknown }).url)
    .find((url): url is string => typeof url === "string")

/** A URL without its user and password, normalised: what viem keeps of a URL it names. */
const withoutUserinfo = (url: string): string => {
  try {
    const parsed = new URL(url)
    parsed.username = ""
    parsed.password = ""
    return parsed.toString()
  } catch {
    return url
  }
}

/**
 * Where an error happened, for a message: the configured URL the error names
 * (viem drops its user and password, so it is matched without them), or the
 * chain's only URL, or all of them (a fallback tried each); always redacted.
 */
export const rpcUrlOf = (error: unknown, urls: ReadonlyArray<string>): string => {
  const named = urlIn(error)
  if (named !== undefined) {
    const configured = urls.find((url) => withoutUserinfo(url) === withoutUserinfo(named))
    return redactUrl(configured ?? named)
  }
  if (urls.length === 1) return redactUrl(urls[0]!)
  return `one of ${urls.map(redactUrl).join(", ")}`
}

/** The short line of a client library's error (its `shortMessage`), else its message's first line. */
export const shortOf = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const short = (error as { shortMessage?: unknown }).shortMessage
    if (typeof short === "string") return short
    if (error instanceof Error) return error.message.split("\n")[0]!
  }
  return String(error).split("\n")[0]!
}

/**
 * An RPC call failed (unreachable, timed out, refused): the read or send is
 * tried again by whoever made it. The original error is the cause.
 */
export class RpcCallError extends ChorusError {
  override readonly name = "RpcCallError"
  readonly chainId: number
  readonly url: string
  /** What was being read or sent. */
  readonly what: string
  /** What went wrong, in the client library's words, with every configured URL redacted. */
  readonly reason: string

  constructor(details: { chainId: number; what: string; urls: ReadonlyArray<string>; cause: unknown }) {
    const url = rpcUrlOf(details.cause, details.urls)
    const reason = redactIn(shortOf(details.cause), details.urls)
    super(`chain ${details.chainId}: ${details.what} failed at ${url}: ${reason}`, {
      details: { chainId: details.chainId, what: details.what, url },
      hint: `Check that ${url} is reachable and serves chain ${details.chainId}; it is tried again.`,
      cause: details.cause,
    })
    this.chainId = details.chainId
    this.url = url
    this.what = details.what
    this.reason = reason
  }
}

/** Replaces every configured URL in `text` by its redacted form (a client library may quote it). */
export const redactIn = (text: string, urls: ReadonlyArray<string>): string =>
  urls.reduce((out, url) => out.split(url).join(redactUrl(url)), text)

/** A configured RPC URL serves another chain than the one it is configured for. */
export class WrongChainError extends ChorusError {
  override readonly name = "WrongChainError"
  readonly chainId: number
  readonly actual: number
  readonly url: string

  constructor(details: { chainId: number; actual: number; url: string }) {
    const url = redactUrl(details.url)
    super(`the RPC at ${url}, configured for chain ${details.chainId}, serves chain ${details.actual}`, {
      details: { chainId: details.chainId, actual: details.actual, url },
      metaMessages: detailLines({ expected: details.chainId, actual: details.actual, url }),
      hint:
        `Fix the URL in the configuration (the chain's rpcUrls, or the service's own rpcUrls["${details.chainId}"]); ` +
        "nothing is read from it until it serves the right chain.",
    })
    this.chainId = details.chainId
    this.actual = details.actual
    this.url = url
  }
}

/** At most this many problems are spelled out in an error's message; `problems` keeps every one. */
const MESSAGE_PROBLEMS = 5
/** At most this many characters of one problem in a message or a recorded fault. */
export const PROBLEM_TEXT_MAX = 300

/**
 * A string of at most `max` characters: cut, ending with an ellipsis and its full length, when it is
 * longer. Whatever an RPC answered is hostile input: it is bounded before it reaches a log line or an event.
 *
 * @example
 * ```ts
 * bounded("x".repeat(1_000), 20) // "xxxxx… (1000 chars)"
 * ```
 */
export const bounded = (text: string, max: number = PROBLEM_TEXT_MAX): string => {
  if (text.length <= max) return text
  const tail = `… (${text.length} chars)`
  return `${text.slice(0, Math.max(0, max - tail.length))}${tail}`
}

/**
 * A raw RPC answer as a short excerpt for a problem's text: its JSON, bounded; a hex string also says how
 * many bytes it holds.
 *
 * @example
 * ```ts
 * excerptOf(`0x${"11".repeat(32)}`) // '"0x111111…" (32 bytes)'
 * ```
 */
export const excerptOf = (answer: unknown, max = 80): string => {
  if (typeof answer === "string" && /^0x[0-9a-fA-F]*$/.test(answer)) {
    const bytes = Math.floor((answer.length - 2) / 2)
    return `${JSON.stringify(answer.length > max ? `${answer.slice(0, max)}…` : answer)} (${bytes} bytes)`
  }
  let json: string
  try {
    json = JSON.stringify(answer) ?? String(answer)
  } catch {
    json = String(answer)
  }
  return bounded(json, max)
}

/**
 * An RPC answer that failed the checks (a log outside the range, a block
 * hash that does not match its header, a message whose id does not match
 * its topic, an answer of the wrong shape, data that does not decode…).
 * Nothing of it is used; the read is made again. It names the RPC that
 * answered (`url`, redacted) once the client knows it.
 */
export class InvalidRpcResponseError extends ChorusError {
  override readonly name = "InvalidRpcResponseError"
  readonly chainId: number
  /** What was asked: a JSON-RPC method, or the read it served (`eth_getLogs 10..20`). */
  readonly what: string
  /** Every problem found, each naming the block, transaction and log it is about. */
  readonly problems: ReadonlyArray<string>
  /** The RPC that answered, redacted (`redactUrl`), or `one of …` behind a fallback; unset until known. */
  readonly url: string | undefined

  constructor(
    chainId: number,
    what: string,
    problems: ReadonlyArray<string>,
    options: { readonly url?: string } = {},
  ) {
    const shown = problems.slice(0, MESSAGE_PROBLEMS).map((problem) => bounded(problem))
    const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : ""
    const at = options.url === undefined ? "" : ` from ${options.url}`
    super(
      `chain ${chainId}: the answer${at} to ${what} failed validation (${problems.length} problem${problems.length === 1 ? "" : "s"}: ${shown.join("; ")}${more})`,
      {
        details: { chainId, what, problems, ...(options.url === undefined ? {} : { url: options.url }) },
        hint: "Nothing was used; the read is made again. If it persists, check the chain's rpcUrls.",
      },
    )
    this.chainId = chainId
    this.what = what
    this.problems = problems
    this.url = options.url
  }

  /** The same error, naming the RPC that answered (a check made above the client learns it here). */
  at(url: string): InvalidRpcResponseError {
    return new InvalidRpcResponseError(this.chainId, this.what, this.problems, { url })
  }
}

/**
 * `eth_getLogs` refused even a single block as too large: the range cannot
 * shrink further, so no progress is possible with this RPC.
 */
export class LogRangeExhaustedError extends ChorusError {
  override readonly name = "LogRangeExhaustedError"
  readonly block: number

  constructor(block: number, cause: unknown) {
    const url = urlIn(cause)
    super(
      `eth_getLogs refused block ${block} alone as too large (${redactIn(shortOf(cause), url === undefined ? [] : [url])})`,
      {
        details: { block, ...(url === undefined ? {} : { url: redactUrl(url) }) },
        hint: "Use an RPC with higher log limits for this chain.",
        cause,
      },
    )
    this.block = block
  }
}

/** No contract at the Outbox address at that block (another chain, or a block before its deployment). */
export class OutboxNotDeployedError extends ChorusError {
  override readonly name = "OutboxNotDeployedError"
  declare readonly details: { readonly chainId: number; readonly outbox: string; readonly block: number }

  constructor(details: { chainId: number; outbox: string; block: number }) {
    super(`chain ${details.chainId}: no Outbox contract at ${details.outbox} at block ${details.block}`, {
      details,
      hint: "Check the chain's outbox address and that the RPC serves the chain it is configured for.",
    })
  }
}
