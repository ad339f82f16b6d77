import { createPublicClient, defineChain, fallback, http, type PublicClient } from "viem"

export interface ChainClientOptions {
  readonly chainId: number
  readonly rpcUrls: ReadonlyArray<string>
  /** Retries per URL before the fallback moves on. Default 3. */
  readonly retryCount?: number
  /** First backoff delay in ms; viem doubles it per retry. Default 150. */
  readonly retryDelayMs?: number
  /** Per-request timeout in ms. Default 10 000. */
  readonly timeoutMs?: number
}

/**
 * A read client over several RPC URLs: viem's fallback transport moves to the
 * next URL when one fails, and each URL retries with exponential backoff.
 * viem does not retry reverts or invalid-params errors, only transport and
 * server failures.
 *
 * @example
 * ```ts
 * const client = makeChainClient({ chainId: 901, rpcUrls: ["http://127.0.0.1:8545", "http://backup:8545"] })
 * await client.getBlock({ blockTag: "finalized" })
 * ```
 */
export const makeChainClient = (options: ChainClientOptions): PublicClient => {
  if (options.rpcUrls.length === 0) throw new Error(`chain ${options.chainId}: no RPC URL configured`)
  const retryCount = options.retryCount ?? 3
  const retryDelay = options.retryDelayMs ?? 150
  const timeout = options.timeoutMs ?? 10_000
  return createPublicClient({
    chain: chainDefinition(options.chainId, options.rpcUrls),
    transport: fallback(
      options.rpcUrls.map((url) => http(url, { retryCount, retryDelay, timeout })),
      { retryCount, retryDelay },
    ),
    pollingInterval: 250,
  }) as PublicClient
}

/**
 * A minimal viem chain for a Chorus chain id (viem needs one for signing).
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
