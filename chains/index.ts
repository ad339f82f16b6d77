/**
 * Chain access for the services: the interface (`chain-access.ts`), one
 * implementation per chain kind (`evm/`), and `makeChainAccess`, which
 * builds it from the config. Services import from here, never a kind's
 * folder, and never a client library.
 *
 * `makeChainAccess` connects each chain once, on first use: one connection
 * (and so one client, one chain-id check per URL) serves the chain's reader
 * and every writer to it.
 *
 * @module
 */
import { type ChorusConfig, chainOf } from "../services/config/index.ts"
import type {
  ChainAccess,
  ChainAccessOptions,
  ChainConnection,
  ChainKind,
  ChainWriter,
} from "./chain-access.ts"
import { evmChainKind } from "./evm/index.ts"

/** The kind of every configured chain. A second kind adds a `kind` field to `ChainConfig` and picks here. */
const kindOf = (): ChainKind => evmChainKind

/** Defaults of a service that names none (the chain-watcher's config has its own). */
const DEFAULT_RETRY_COUNT = 3
const DEFAULT_LOG_RANGE = { initial: 500, max: 2_000 }

/**
 * The chains of `config` as one service reaches them: its own RPC URLs where
 * it has some (`rpcUrlsOverride`, by chain id), the chain's `rpcUrls` elsewhere.
 *
 * @example
 * ```ts
 * const chains = makeChainAccess(config, { rpcUrlsOverride: config.proofBuilder.rpcUrls })
 * const head = await chains.reader(901).finalizedHead() // BlockRef, or null while nothing is final
 * const writer = chains.writer(902, privateKey)
 * ```
 */
export const makeChainAccess = (config: ChorusConfig, options: ChainAccessOptions = {}): ChainAccess => {
  const connections = new Map<number, ChainConnection>()
  const writers = new Map<string, ChainWriter>()

  const connect = (chainId: number): ChainConnection => {
    let connection = connections.get(chainId)
    if (connection === undefined) {
      const chain = chainOf(config, chainId)
      connection = kindOf().connect({
        chainId,
        rpcUrls: options.rpcUrlsOverride?.[String(chainId)] ?? chain.rpcUrls,
        finality: chain.finality,
        retryCount: options.retryCount ?? DEFAULT_RETRY_COUNT,
        logRange: options.logRange ?? DEFAULT_LOG_RANGE,
      })
      connections.set(chainId, connection)
    }
    return connection
  }

  return {
    reader: (chainId) => connect(chainId).reader,
    writer: (chainId, signer) => {
      const key = `${chainId}/${typeof signer === "string" ? signer : `${signer.url}/${signer.publicKey}`}`
      let writer = writers.get(key)
      if (writer === undefined) {
        writer = connect(chainId).writer(chainOf(config, chainId).inbox, signer)
        writers.set(key, writer)
      }
      return writer
    },
  }
}

export * from "./backoff.ts"
export * from "./chain-access.ts"
export {
  InvalidRpcResponseError,
  LogRangeExhaustedError,
  OutboxNotDeployedError,
  RpcCallError,
  redactUrl,
  WrongChainError,
} from "./evm/errors.ts"
export { RemoteSignerError, remoteDigestSignature, remoteSignerProblem } from "./evm/remote-signer.ts"
export { describeRevertsIn, describeSolidityRevert } from "./evm/solidity-revert.ts"
export * from "./rpc-faults.ts"
