/**
 * The operator's only look at the world: its own RPC's view of the source
 * Outbox at the proposal's block, recorded as an `OutboxLaneRead`.
 *
 * Pipeline, per proposal it could sign:
 *   1. wait, polling, until its own finalized head (the chain's `finality`:
 *      the `finalized` tag, or `latest` minus a confirmation depth) reaches
 *      the proposal's block, for at most `finalityWaitMs`;
 *   2. read that block's header and `Outbox.latestCheckpoint(dst)` at it.
 *
 * The bus is never trusted for a chain fact: every field of the read comes
 * from the operator's RPC. Nothing read means the core refuses with
 * `not-finalized`. A proposal the core refuses without a read (lane outside
 * the network, conflicting root) is not read for.
 *
 * @module
 */
import { BaseError, ContractFunctionZeroDataError, type PublicClient } from "viem"
import { outboxAbi } from "../../contracts/index.ts"
import {
  BlockRef,
  Bytes32,
  ChainId,
  type ChorusEvent,
  type Envelope,
  OutboxLaneRead,
} from "../../schemas/index.ts"
import type { ChainConfig, Finality } from "../config/index.ts"
import type { ServiceLogger } from "../runtime/index.ts"
import { OperatorRpcChainError, OperatorStoppedError } from "./errors.ts"
import { type OperatorState, signedKey } from "./operator-core.ts"
import { asViemHex } from "./sign-checkpoint.ts"
import { laneProblem } from "./verify-proposal.ts"

export interface OutboxObserverOptions {
  /** The operator's wire-form address: the `reader` of its reads. */
  readonly operator: string
  /** The configured chains: where each Outbox is and how its finality is read. */
  readonly chains: ReadonlyArray<Pick<ChainConfig, "chainId" | "outbox" | "finality">>
  /** The operator's own client for a source chain. */
  readonly clientFor: (chainId: number) => PublicClient
  readonly finalityWaitMs: number
  readonly logger: ServiceLogger
  /** Aborted when the operator stops: a wait in progress ends and the proposal is retried later. */
  readonly signal: AbortSignal
  /** Between finality polls. Default 250 ms. */
  readonly pollIntervalMs?: number
}

const ZERO_ROOT = Bytes32.make(`0x${"00".repeat(32)}`)

/**
 * The block a chain's finality rule calls final, per the operator's RPC.
 *
 * @example
 * ```ts
 * const head = await finalizedHead(client, { confirmations: 2 }) // { number, hash }
 * ```
 */
export const finalizedHead = async (client: PublicClient, finality: Finality): Promise<BlockRef> => {
  const block = await finalizedBlock(client, finality)
  return new BlockRef({ number: Number(block.number), hash: Bytes32.make(block.hash.toLowerCase()) })
}

const finalizedBlock = async (client: PublicClient, finality: Finality) => {
  if ("tag" in finality) return client.getBlock({ blockTag: "finalized" })
  const latest = await client.getBlockNumber({ cacheTime: 0 })
  const depth = BigInt(finality.confirmations)
  return client.getBlock({ blockNumber: latest > depth ? latest - depth : 0n })
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    signal.addEventListener("abort", done, { once: true })
  })

/**
 * Makes the operator's `observe`: its own finalized read of the Outbox for
 * each proposal it could sign.
 *
 * @example
 * ```ts
 * const observe = makeOutboxObserver({ operator, chains: config.chains, clientFor, finalityWaitMs: 60_000, logger, signal })
 * const reads = await observe(state, proposalEnvelope) // [OutboxLaneRead] or []
 * ```
 */
export const makeOutboxObserver = (options: OutboxObserverOptions) => {
  const { operator, chains, clientFor, logger, signal } = options
  const pollIntervalMs = options.pollIntervalMs ?? 250
  const checkedChains = new Set<number>()

  const checkChainId = async (client: PublicClient, expected: number) => {
    if (checkedChains.has(expected)) return
    const actual = await client.getChainId()
    if (actual !== expected) throw new OperatorRpcChainError({ operator, expected, actual })
    checkedChains.add(expected)
  }

  return async (state: OperatorState, input: Envelope): Promise<ReadonlyArray<ChorusEvent>> => {
    const event = input.event
    if (event._tag !== "CheckpointProposed") return []
    const { checkpoint, block } = event
    if (laneProblem(chains, checkpoint) !== undefined) return []
    const earlier = state.signed.get(signedKey(checkpoint))
    if (earlier !== undefined && earlier.root !== checkpoint.root) return []

    const chain = chains.find((c) => c.chainId === checkpoint.srcChainId)!
    const client = clientFor(chain.chainId)
    await checkChainId(client, chain.chainId)

    const deadline = Date.now() + options.finalityWaitMs
    let finalized = await finalizedHead(client, chain.finality)
    while (finalized.number < block.number) {
      if (signal.aborted) throw new OperatorStoppedError(operator)
      if (Date.now() >= deadline) {
        logger.warn("own RPC did not finalize the proposal's block in time; refusing", {
          lane: input.key,
          count: checkpoint.count,
          block: block.number,
          finalized: finalized.number,
          finalityWaitMs: options.finalityWaitMs,
        })
        return []
      }
      await sleep(pollIntervalMs, signal)
      finalized = await finalizedHead(client, chain.finality)
    }

    const blockNumber = BigInt(block.number)
    const header = await client.getBlock({ blockNumber })
    let root = ZERO_ROOT
    let count = 0
    try {
      const latest = await client.readContract({
        address: asViemHex(checkpoint.outbox),
        abi: outboxAbi,
        functionName: "latestCheckpoint",
        args: [BigInt(checkpoint.dstChainId)],
        blockNumber,
      })
      root = Bytes32.make(latest.root.toLowerCase())
      count = latest.count
    } catch (error) {
      // No code at the outbox address at that block: the operator's chain has no such Outbox. It records
      // an empty lane (zero root, count 0) so the core refuses with what the chain showed.
      const noCode =
        error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionZeroDataError) !== null
      if (!noCode) throw error
    }
    return [
      new OutboxLaneRead({
        reader: operator,
        srcChainId: ChainId.make(chain.chainId),
        outbox: checkpoint.outbox,
        dstChainId: checkpoint.dstChainId,
        block: new BlockRef({ number: block.number, hash: Bytes32.make(header.hash.toLowerCase()) }),
        finalized,
        root,
        count,
      }),
    ]
  }
}
