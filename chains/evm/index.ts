/**
 * The EVM chain kind: a `ChainReader` and `ChainWriter` over one viem client
 * per chain (fallback over its RPC URLs, retry with backoff, each URL's
 * chain id checked once). viem stays inside this folder.
 *
 * One read per file: `finalized-head.ts` (the finality rule, headers),
 * `outbox-lane.ts`, `outbox-logs.ts` (with `check-logs.ts`,
 * `adaptive-range.ts`, `range-limit.ts`), `inbox.ts`; the writer in
 * `writer.ts` (with `inbox-calls.ts`, `inbox-receipt.ts`, `revert.ts`);
 * the client in `client.ts`; the errors in `errors.ts`.
 *
 * @module
 */
import type { ChainKind } from "../chain-access.ts"
import { makeEvmClient } from "./client.ts"
import { makeEvmReader } from "./reader.ts"
import { makeEvmWriter } from "./writer.ts"

/**
 * The EVM kind, as `makeChainAccess` connects a chain of it.
 *
 * @example
 * ```ts
 * const { reader } = evmChainKind.connect({ chainId: 901, rpcUrls, finality, retryCount: 3, logRange })
 * ```
 */
export const evmChainKind: ChainKind = {
  name: "evm",
  connect: (endpoint) => {
    const client = makeEvmClient({
      chainId: endpoint.chainId,
      rpcUrls: endpoint.rpcUrls,
      retryCount: endpoint.retryCount,
    })
    return {
      reader: makeEvmReader(client, { finality: endpoint.finality, logRange: endpoint.logRange }),
      writer: (inbox, key) => makeEvmWriter(client, { inbox, key }),
    }
  },
}

export { getLogsAdaptive, makeRangeSizer, type RangeSizer } from "./adaptive-range.ts"
export { checkLogs, MESSAGE_SENT_TOPIC } from "./check-logs.ts"
export { chainDefinition, type EvmClient, type EvmClientOptions, makeEvmClient, rpcCall } from "./client.ts"
export {
  InvalidRpcResponseError,
  LogRangeExhaustedError,
  OutboxNotDeployedError,
  RpcCallError,
  redactUrl,
  WrongChainError,
} from "./errors.ts"
export { readFinalizedHead, readHeader } from "./finalized-head.ts"
export { makeInboxReader } from "./inbox.ts"
export { abiCallOf, calldataOf } from "./inbox-calls.ts"
export { inboxReceiptOf } from "./inbox-receipt.ts"
export { nodeFetch } from "./node-fetch.ts"
export { readOutboxLane } from "./outbox-lane.ts"
export { readOutboxRange } from "./outbox-logs.ts"
export { isRangeLimitError } from "./range-limit.ts"
export { makeEvmReader } from "./reader.ts"
export { classifySendError, describeRevert, describeRevertData } from "./revert.ts"
export { makeEvmWriter } from "./writer.ts"
