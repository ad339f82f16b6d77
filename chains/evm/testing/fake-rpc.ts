/**
 * An in-memory chain behind a real EVM client (a viem `custom` transport),
 * for tests of what readers do with RPC answers: errors go through viem's
 * own error mapping and the client's chain-id check, and any answer can be
 * refused or tampered with.
 *
 * @module
 */
import {
  custom,
  encodeAbiParameters,
  encodeEventTopics,
  encodeFunctionResult,
  type Hex,
  keccak256,
  stringToHex,
} from "viem"
import { type ChorusMessage, getMessageId, messageAbiParameter, outboxAbi } from "../../../contracts/index.ts"
import type { ChainReader, Finality } from "../../chain-access.ts"
import { type EvmClient, makeEvmClient } from "../client.ts"
import { makeEvmReader } from "../reader.ts"

/** A JSON-RPC log as `eth_getLogs` returns it. */
export interface RpcLog {
  address: Hex
  blockHash: Hex | null
  blockNumber: Hex | null
  data: Hex
  logIndex: Hex | null
  removed: boolean
  topics: Hex[]
  transactionHash: Hex | null
  transactionIndex: Hex | null
}

export interface FakeChain {
  readonly chainId: number
  readonly outbox: Hex
  /** Block hashes by number (the canonical chain). */
  readonly hashes: Map<number, Hex>
  /** Every log, in chain order. */
  readonly logs: RpcLog[]
  latest: number
  /** What `Outbox.latestCheckpoint` answers; unset, there is no contract (every call returns no data). */
  latestCheckpoint?: {
    readonly srcChainId: number
    readonly outbox: Hex
    readonly dstChainId: number
    readonly root: Hex
    readonly count: number
  }
  /** What the `finalized` and `safe` tags answer; `latest` when unset. */
  finalized?: number
  safe?: number
}

const hex = (n: number) => `0x${n.toString(16)}` as Hex

/**
 * A chain of `blocks` blocks with `messages` sent at the given blocks.
 *
 * @example
 * ```ts
 * const chain = makeFakeChain({ chainId: 901, outbox, blocks: 100, sends: [{ block: 5 }, { block: 5 }, { block: 80 }] })
 * ```
 */
export const makeFakeChain = (options: {
  readonly chainId: number
  readonly outbox: Hex
  readonly blocks: number
  readonly sends: ReadonlyArray<{ readonly block: number; readonly dstChainId?: number }>
}): FakeChain => {
  const hashes = new Map<number, Hex>()
  for (let n = 0; n <= options.blocks; n++) hashes.set(n, keccak256(stringToHex(`block-${n}`)))
  const nonces = new Map<number, number>()
  const perBlock = new Map<number, number>()
  const logs = options.sends.map(({ block, dstChainId = 902 }) => {
    const nonce = nonces.get(dstChainId) ?? 0
    nonces.set(dstChainId, nonce + 1)
    const logIndex = perBlock.get(block) ?? 0
    perBlock.set(block, logIndex + 1)
    const message: ChorusMessage = {
      version: 1,
      nonce,
      srcChainId: BigInt(options.chainId),
      sender: "0x000000000000000000000000000000000000bEEF",
      dstChainId: BigInt(dstChainId),
      recipient: "0x000000000000000000000000000000000000dEaD",
      gasLimit: 100_000n,
      body: stringToHex(`ping ${block}-${logIndex}`),
    }
    return logOf(options.outbox, message, { block, logIndex, blockHash: hashes.get(block)! })
  })
  return { chainId: options.chainId, outbox: options.outbox, hashes, logs, latest: options.blocks }
}

/**
 * The `MessageSent` log of a message, as an RPC returns it.
 *
 * @example
 * ```ts
 * const log = logOf(outbox, message, { block: 5, logIndex: 0, blockHash })
 * ```
 */
export const logOf = (
  outbox: Hex,
  message: ChorusMessage,
  at: { readonly block: number; readonly logIndex: number; readonly blockHash: Hex },
): RpcLog => ({
  address: outbox,
  blockHash: at.blockHash,
  blockNumber: hex(at.block),
  data: encodeAbiParameters([messageAbiParameter], [message]),
  logIndex: hex(at.logIndex),
  removed: false,
  topics: encodeEventTopics({
    abi: outboxAbi,
    eventName: "MessageSent",
    args: { dstChainId: message.dstChainId, nonce: message.nonce, messageId: getMessageId(message) },
  }) as Hex[],
  transactionHash: keccak256(stringToHex(`tx-${at.block}-${at.logIndex}`)),
  transactionIndex: hex(at.logIndex),
})

export interface FakeRpcHooks {
  /** Called for every `eth_getLogs`; throw to refuse, return logs to override the answer. */
  readonly getLogs?: (range: { fromBlock: number; toBlock: number }, logs: RpcLog[]) => RpcLog[]
  /** Told of every request, before it is answered. */
  readonly onRequest?: (method: string) => void
  /** Called with every answer (`eth_chainId` too): throw to fail the request, return what to answer instead. */
  readonly answer?: (method: string, answer: unknown) => unknown
}

/**
 * A client of the fake chain, without retries (each refusal is seen once).
 * It expects `options.chainId` (the fake's own by default) and names
 * `options.url` in its errors.
 *
 * @example
 * ```ts
 * const client = fakeClient(chain, { getLogs: ({ fromBlock, toBlock }) => { if (toBlock - fromBlock > 99) throw tooMany; … } })
 * ```
 */
export const fakeClient = (
  chain: FakeChain,
  hooks: FakeRpcHooks = {},
  options: { readonly chainId?: number; readonly url?: string } = {},
): EvmClient => {
  const transport = custom(
    {
      request: async ({ method, params }: { method: string; params?: unknown }) => {
        hooks.onRequest?.(method)
        const answer = answerOf(method, (params ?? []) as unknown[])
        return hooks.answer === undefined ? answer : hooks.answer(method, answer)
      },
    },
    { retryCount: 0 },
  )
  /** What the chain answers to one call. */
  function answerOf(method: string, args: unknown[]): unknown {
    switch (method) {
      case "eth_chainId":
        return hex(chain.chainId)
      case "eth_blockNumber":
        return hex(chain.latest)
      case "eth_getBlockByNumber": {
        const tag = args[0] as string
        const n =
          tag === "latest"
            ? chain.latest
            : tag === "finalized"
              ? (chain.finalized ?? chain.latest)
              : tag === "safe"
                ? (chain.safe ?? chain.latest)
                : Number.parseInt(tag, 16)
        const hash = chain.hashes.get(n)
        if (hash === undefined || n > chain.latest) return null
        return { number: hex(n), hash, timestamp: hex(1_700_000_000 + n), transactions: [] }
      }
      case "eth_getLogs": {
        const filter = args[0] as { fromBlock: Hex; toBlock: Hex; address: Hex }
        const range = { fromBlock: Number(filter.fromBlock), toBlock: Number(filter.toBlock) }
        const logs = chain.logs.filter((log) => {
          const n = Number(log.blockNumber)
          return (
            n >= range.fromBlock &&
            n <= range.toBlock &&
            log.address.toLowerCase() === filter.address.toLowerCase()
          )
        })
        return hooks.getLogs === undefined
          ? logs
          : hooks.getLogs(
              range,
              logs.map((l) => ({ ...l })),
            )
      }
      case "eth_call": {
        const answer = chain.latestCheckpoint
        if (answer === undefined) return "0x"
        return encodeFunctionResult({
          abi: outboxAbi,
          functionName: "latestCheckpoint",
          result: {
            srcChainId: BigInt(answer.srcChainId),
            outbox: answer.outbox,
            dstChainId: BigInt(answer.dstChainId),
            root: answer.root,
            count: answer.count,
          },
        })
      }
      default:
        throw Object.assign(new Error(`the fake RPC does not serve ${method}`), { code: -32601 })
    }
  }
  return makeEvmClient({
    chainId: options.chainId ?? chain.chainId,
    rpcUrls: [options.url ?? `http://fake-rpc.invalid/${chain.chainId}`],
    transports: [transport],
    retryCount: 0,
  })
}

/**
 * A reader of the fake chain under `finality`.
 *
 * @example
 * ```ts
 * const head = await fakeReader(chain, { confirmations: 10 }).finalizedHead()
 * ```
 */
export const fakeReader = (
  chain: FakeChain,
  finality: Finality,
  options: { readonly chainId?: number; readonly url?: string; readonly hooks?: FakeRpcHooks } = {},
): ChainReader =>
  makeEvmReader(fakeClient(chain, options.hooks, options), {
    finality,
    logRange: { initial: 100, max: 100 },
  })

/**
 * A JSON-RPC error object as a provider sends it (viem maps it by code).
 *
 * @example
 * ```ts
 * throw rpcError(-32005, "query returned more than 10000 results")
 * ```
 */
export const rpcError = (code: number, message: string): Error => Object.assign(new Error(message), { code })
