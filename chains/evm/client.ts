/**
 * One viem client per chain: a fallback over the configured RPC URLs, each
 * retried with exponential backoff (viem's, the one backoff of an RPC
 * call), and each URL's chain id checked before it answers anything.
 *
 * Invariants:
 * - A URL is asked `eth_chainId` once, before its first request; a URL that
 *   serves another chain answers nothing but `WrongChainError` (the
 *   fallback does not quietly skip it: a misconfiguration is loud). A check
 *   that fails for any reason is made again with the URL's next request.
 * - viem retries transport and server failures only, never reverts or
 *   invalid params.
 * - Every answer a reader relies on has its shape checked as it comes off
 *   the wire (`answer-shapes.ts`), before viem formats it: one of the wrong
 *   shape throws `InvalidRpcResponseError` naming the URL, the method and an
 *   excerpt of the answer, and the fallback asks the next URL.
 * - viem's client stays inside `chains/evm/`: `rpcCall` turns its errors
 *   into `ChorusError`s naming the redacted URL before they leave. A
 *   failure to reach an RPC or to get an answer from it (unreachable, timed
 *   out, an error answer) is an `RpcCallError`; an answer that came but
 *   does not decode or fails a check is an `InvalidRpcResponseError`.
 *
 * @module
 */
import {
  BaseError,
  BlockNotFoundError,
  ContractFunctionRevertedError,
  createPublicClient,
  defineChain,
  fallback,
  HttpRequestError,
  http,
  type PublicClient,
  RpcError,
  RpcRequestError,
  SocketClosedError,
  shouldThrow,
  TimeoutError,
  type Transport,
  WebSocketRequestError,
} from "viem"
import { ChorusError } from "../../errors/index.ts"
import type { RpcOutcome } from "../../metrics/chorus-metrics.ts"
import { processMetrics } from "../../metrics/process-metrics.ts"
import { answerProblem } from "./answer-shapes.ts"
import { batchingFetch } from "./batching-fetch.ts"
import {
  causesOf,
  excerptOf,
  InvalidRpcResponseError,
  RpcCallError,
  redactIn,
  redactUrl,
  rpcUrlOf,
  shortOf,
  WrongChainError,
} from "./errors.ts"

export interface EvmClientOptions {
  readonly chainId: number
  readonly rpcUrls: ReadonlyArray<string>
  /** Retries per URL before the fallback moves on. Default 3. */
  readonly retryCount?: number
  /** First backoff delay in ms; viem doubles it per retry. Default 150. */
  readonly retryDelayMs?: number
  /** Per-request timeout in ms. Default 10 000. */
  readonly timeoutMs?: number
  /** One transport per URL instead of HTTP to it: tests put an in-memory chain behind `custom`. */
  readonly transports?: ReadonlyArray<Transport>
}

export interface EvmClient {
  readonly chainId: number
  /** The configured URLs, as given: only error messages see them, through `redactUrl`. */
  readonly rpcUrls: ReadonlyArray<string>
  readonly viem: PublicClient
}

/** The answer of one URL to one method, or `InvalidRpcResponseError` if its shape is not one a reader relies on. */
const shaped = (answer: unknown, method: string, url: string, chainId: number): unknown => {
  const problem = answerProblem(method, answer)
  if (problem === undefined) return answer
  throw new InvalidRpcResponseError(chainId, method, [`${problem}; it answered ${excerptOf(answer)}`], {
    url: redactUrl(url),
  })
}

/**
 * A transport that asks its URL for the chain id before the first request it forwards, and checks the
 * shape of every answer it passes on.
 */
const checkedTransport = (inner: Transport, url: string, chainId: number): Transport => {
  let verified: Promise<void> | undefined
  return (config) => {
    const transport = inner(config)
    const verify = (): Promise<void> => {
      if (verified === undefined) {
        const check = (transport.request({ method: "eth_chainId" }) as Promise<unknown>).then((answer) => {
          const actual = Number(shaped(answer, "eth_chainId", url, chainId))
          if (actual !== chainId) {
            processMetrics()?.rpc(chainId, "eth_chainId", "wrong-chain", 0)
            throw new WrongChainError({ chainId, actual, url })
          }
        })
        verified = check
        check.catch(() => {
          if (verified === check) verified = undefined
        })
      }
      return verified
    }
    const request = (async (args, options) => {
      await verify()
      const started = performance.now()
      let outcome: RpcOutcome = "error"
      try {
        const answer = shaped(await transport.request(args, options), args.method, url, chainId)
        outcome = "ok"
        return answer
      } catch (error) {
        if (error instanceof InvalidRpcResponseError) outcome = "invalid"
        throw error
      } finally {
        processMetrics()?.rpc(chainId, args.method, outcome, (performance.now() - started) / 1_000)
      }
    }) as typeof transport.request
    return { ...transport, request }
  }
}

/**
 * The client of one chain.
 *
 * @example
 * ```ts
 * const client = makeEvmClient({ chainId: 901, rpcUrls: ["http://127.0.0.1:8545", "http://backup:8545"] })
 * const block = await rpcCall(client, "reading the latest block", () => client.viem.getBlock())
 * ```
 */
export const makeEvmClient = (options: EvmClientOptions): EvmClient => {
  const { chainId, rpcUrls } = options
  if (rpcUrls.length === 0) throw new Error(`chain ${chainId}: no RPC URL configured`)
  const retryCount = options.retryCount ?? 3
  const retryDelay = options.retryDelayMs ?? 150
  const timeout = options.timeoutMs ?? 10_000
  const transports = rpcUrls.map((url, i) =>
    checkedTransport(
      options.transports?.[i] ?? http(url, { retryCount, retryDelay, timeout, fetchFn: batchingFetch }),
      url,
      chainId,
    ),
  )
  const viem = createPublicClient({
    chain: chainDefinition(chainId, rpcUrls),
    transport: fallback(transports, {
      retryCount,
      retryDelay,
      shouldThrow: (error) => error instanceof WrongChainError || shouldThrow(error),
    }),
    pollingInterval: 250,
  }) as PublicClient
  return { chainId, rpcUrls, viem }
}

/** The `WrongChainError` in an error's cause chain (viem wraps what a transport throws). */
const wrongChainIn = (error: unknown): WrongChainError | undefined =>
  causesOf(error).find((link): link is WrongChainError => link instanceof WrongChainError)

/** The `InvalidRpcResponseError` a check threw, anywhere in an error's cause chain. */
const invalidAnswerIn = (error: unknown): InvalidRpcResponseError | undefined =>
  causesOf(error).find((link): link is InvalidRpcResponseError => link instanceof InvalidRpcResponseError)

/**
 * Did the request fail on its way, or did the node answer with an error (unreachable, timed out, refused,
 * rate-limited, reverted, no such block)? Otherwise a client library's error came from the answer itself:
 * it did not decode.
 */
const failedToAnswer = (error: BaseError): boolean =>
  error.walk(
    (e) =>
      e instanceof HttpRequestError ||
      e instanceof TimeoutError ||
      e instanceof SocketClosedError ||
      e instanceof WebSocketRequestError ||
      e instanceof RpcRequestError ||
      e instanceof RpcError ||
      e instanceof BlockNotFoundError ||
      e instanceof ContractFunctionRevertedError,
  ) !== null

/**
 * Runs RPC calls; what leaves is a `ChorusError`: a wrong chain as
 * `WrongChainError`, an answer that came but does not decode or failed a
 * check as `InvalidRpcResponseError`, any other viem error as
 * `RpcCallError`; each names the redacted URL. Errors that are no RPC's (a
 * bug, an argument refused) leave as they are.
 *
 * @example
 * ```ts
 * const count = await rpcCall(client, "reading the nonce", () => client.viem.getTransactionCount({ address }))
 * ```
 */
export const rpcCall = async <T>(client: EvmClient, what: string, run: () => Promise<T>): Promise<T> => {
  try {
    return await run()
  } catch (error) {
    throw asChainError(client, what, error)
  }
}

/**
 * An error of an RPC call as it leaves `chains/evm/` (see `rpcCall`).
 *
 * @example
 * ```ts
 * try { … } catch (error) { throw asChainError(client, "eth_sendRawTransaction", error) }
 * ```
 */
export const asChainError = (client: EvmClient, what: string, error: unknown): unknown => {
  const wrong = wrongChainIn(error)
  if (wrong !== undefined) return wrong
  const invalid = invalidAnswerIn(error)
  if (invalid !== undefined)
    return invalid.url === undefined ? invalid.at(rpcUrlOf(error, client.rpcUrls)) : invalid
  if (error instanceof ChorusError || !(error instanceof BaseError)) return error
  if (!failedToAnswer(error)) {
    const problem = `its answer does not decode: ${redactIn(shortOf(error), client.rpcUrls)}`
    return new InvalidRpcResponseError(client.chainId, what, [problem], {
      url: rpcUrlOf(error, client.rpcUrls),
    })
  }
  return new RpcCallError({ chainId: client.chainId, what, urls: client.rpcUrls, cause: error })
}

/**
 * A minimal viem chain for a Chorus chain id (viem needs one for signing).
 * The devnet's deployer (`cli/devnet/`) uses it too.
 *
 * @example
 * ```ts
 * chainDefinition(902, ["http://127.0.0.1:8546"]).id // 902
 * ```
 */
export const chainDefinition = (chainId: number, rpcUrls: ReadonlyArray<string>) =>
  defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [...rpcUrls] } },
  })
