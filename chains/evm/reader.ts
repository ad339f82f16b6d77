/**
 * The `ChainReader` of an EVM chain: each read of `chains/evm/` over the
 * chain's one client, its errors turned into `ChorusError`s that name the
 * redacted URL (`rpcCall`).
 *
 * The reader owns the chain's `eth_getLogs` range size, so the size the RPC
 * accepted last is where the next log read starts.
 *
 * @module
 */
import { type Address, ChainId } from "../../schemas/index.ts"
import type { ChainReader, Finality, InboxReader } from "../chain-access.ts"
import { makeRangeSizer } from "./adaptive-range.ts"
import { type EvmClient, rpcCall } from "./client.ts"
import { readFinalizedHead, readHeader, readLatestHead } from "./finalized-head.ts"
import { makeInboxReader } from "./inbox.ts"
import { readOutboxLane } from "./outbox-lane.ts"
import { readOutboxRange } from "./outbox-logs.ts"
import { readOutboxMessage } from "./outbox-nonce.ts"
import { makeRegistryReader } from "./registry.ts"

export interface EvmReaderSettings {
  readonly finality: Finality
  /** Blocks per `eth_getLogs`: the first size, and the most it grows to. */
  readonly logRange: { readonly initial: number; readonly max: number }
}

/**
 * The reader of the chain behind `client`.
 *
 * @example
 * ```ts
 * const reader = makeEvmReader(makeEvmClient({ chainId: 901, rpcUrls }), { finality: { tag: "finalized" }, logRange: { initial: 500, max: 2_000 } })
 * const head = await reader.finalizedHead()
 * ```
 */
export const makeEvmReader = (client: EvmClient, settings: EvmReaderSettings): ChainReader => {
  const { finality } = settings
  const chainId = ChainId.make(client.chainId)
  const sizer = makeRangeSizer(settings.logRange)
  const inboxes = new Map<Address, InboxReader>()
  return {
    chainId,
    finality,
    finalizedHead: () =>
      rpcCall(client, "reading the finalized head", () => readFinalizedHead(client, finality)),
    latestHead: () => rpcCall(client, "reading the latest head", () => readLatestHead(client)),
    header: (number) => rpcCall(client, `reading block ${number}`, () => readHeader(client, number)),
    outboxLane: (lane, blockNumber) =>
      rpcCall(client, `reading the Outbox lane to ${lane.dstChainId} at block ${blockNumber}`, () =>
        readOutboxLane(client, finality, lane, blockNumber),
      ),
    outboxLogs: ({ onShrink, ...request }) =>
      rpcCall(client, `reading Outbox logs from block ${request.fromBlock}`, () =>
        readOutboxRange(client, {
          ...request,
          chainId,
          sizer,
          ...(onShrink === undefined
            ? {}
            : { onShrink: (refused) => onShrink({ ...refused, nextSize: sizer.size() }) }),
        }),
      ),
    outboxMessage: (request) =>
      rpcCall(
        client,
        `reading the Outbox message of lane ${chainId} → ${request.dstChainId}, nonce ${request.nonce}`,
        () => readOutboxMessage(client, { ...request, chainId }),
      ),
    hasCode: (address) =>
      rpcCall(client, `reading the code at ${address}`, async () => {
        const code = await client.viem.getCode({ address: address as `0x${string}` })
        return code !== undefined && code !== "0x"
      }),
    registry: (address) => makeRegistryReader(client, address),
    inbox: (address) => {
      let inbox = inboxes.get(address)
      if (inbox === undefined) {
        inbox = makeInboxReader(client, address)
        inboxes.set(address, inbox)
      }
      return inbox
    },
  }
}
