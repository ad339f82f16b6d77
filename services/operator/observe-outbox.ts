/**
 * The operator's only look at the world: its own RPC's view of the source
 * Outbox at the proposal's block, recorded as an `OutboxLaneRead`.
 *
 * Pipeline, per proposal it could sign:
 *   1. wait, polling, until its own finalized head (the chain's finality
 *      rule, `chains/`; nothing is final while the chain is shallower than
 *      a confirmation depth) reaches the proposal's block, for at most
 *      `finalityWaitMs`;
 *   2. read the lane there (`outboxLane`: the block's header, root and
 *      count).
 *
 * The bus is never trusted for a chain fact: every field of the read comes
 * from the operator's RPC. Nothing read means the core refuses with
 * `not-finalized`. A proposal the core refuses without a read (lane outside
 * the network, conflicting root) is not read for.
 *
 * @module
 */
import {
  type ChainReader,
  type OutboxLaneRef,
  type OutboxLaneState,
  OutboxNotDeployedError,
} from "../../chains/index.ts"
import {
  type BlockRef,
  Bytes32,
  ChainId,
  type ChorusEvent,
  type Envelope,
  OutboxLaneRead,
} from "../../schemas/index.ts"
import type { ChainConfig } from "../config/index.ts"
import type { ServiceLogger } from "../runtime/index.ts"
import { type OperatorState, signedKey } from "./core.ts"
import { OperatorStoppedError } from "./errors.ts"
import { laneProblem } from "./verify-proposal.ts"

export interface OutboxObserverOptions {
  /** The operator's wire-form address: the `reader` of its reads. */
  readonly operator: string
  /** The configured chains: where each Outbox is. */
  readonly chains: ReadonlyArray<Pick<ChainConfig, "chainId" | "outbox">>
  /** The operator's own reader of a source chain (its RPCs, the chain's finality rule). */
  readonly readerFor: (chainId: number) => ChainReader
  readonly finalityWaitMs: number
  readonly logger: ServiceLogger
  /** Aborted when the operator stops: a wait in progress ends and the proposal is retried later. */
  readonly signal: AbortSignal
  /** Between finality polls. Default 250 ms. */
  readonly pollIntervalMs?: number
}

const ZERO_ROOT = Bytes32.make(`0x${"00".repeat(32)}`)

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
 * The lane at `blockNumber`. No Outbox code there means the operator's chain has no such Outbox: it
 * reads as an empty lane (zero root, count 0), so the core refuses with what the chain showed.
 */
const laneAt = async (
  reader: ChainReader,
  lane: OutboxLaneRef,
  blockNumber: number,
): Promise<OutboxLaneState> => {
  try {
    return await reader.outboxLane(lane, blockNumber)
  } catch (error) {
    if (!(error instanceof OutboxNotDeployedError)) throw error
    return { block: (await reader.header(blockNumber)).ref, root: ZERO_ROOT, count: 0, finalized: null }
  }
}

/** The later of two finalized heads: finality never goes back, though a fallback RPC may lag the one waited on. */
const later = (waited: BlockRef, read: BlockRef | null): BlockRef =>
  read !== null && read.number >= waited.number ? read : waited

/**
 * Makes the operator's `observe`: its own finalized read of the Outbox for
 * each proposal it could sign.
 *
 * @example
 * ```ts
 * const chains = makeChainAccess(config, { rpcUrlsOverride: operator.rpcUrls })
 * const observe = makeOutboxObserver({ operator, chains: config.chains, readerFor: chains.reader, finalityWaitMs: 60_000, logger, signal })
 * const reads = await observe(state, proposalEnvelope) // [OutboxLaneRead] or []
 * ```
 */
export const makeOutboxObserver = (options: OutboxObserverOptions) => {
  const { operator, chains, readerFor, logger, signal } = options
  const pollIntervalMs = options.pollIntervalMs ?? 250

  return async (state: OperatorState, input: Envelope): Promise<ReadonlyArray<ChorusEvent>> => {
    const event = input.event
    if (event._tag !== "CheckpointProposed") return []
    const { checkpoint, block } = event
    if (laneProblem(chains, checkpoint) !== undefined) return []
    const earlier = state.signed.get(signedKey(checkpoint))
    if (earlier !== undefined && earlier.root !== checkpoint.root) return []

    const chain = chains.find((c) => c.chainId === checkpoint.srcChainId)!
    const reader = readerFor(chain.chainId)

    const deadline = Date.now() + options.finalityWaitMs
    let finalized = await reader.finalizedHead()
    while (finalized === null || finalized.number < block.number) {
      if (signal.aborted) throw new OperatorStoppedError(operator)
      if (Date.now() >= deadline) {
        logger.warn("own RPC did not finalize the proposal's block in time; refusing", {
          lane: input.key,
          count: checkpoint.count,
          block: block.number,
          finalized: finalized?.number ?? null,
          finalityWaitMs: options.finalityWaitMs,
        })
        return []
      }
      await sleep(pollIntervalMs, signal)
      finalized = await reader.finalizedHead()
    }

    const lane = await laneAt(reader, checkpoint, block.number)
    return [
      new OutboxLaneRead({
        reader: operator,
        srcChainId: ChainId.make(chain.chainId),
        outbox: checkpoint.outbox,
        dstChainId: checkpoint.dstChainId,
        block: lane.block,
        finalized: later(finalized, lane.finalized),
        root: lane.root,
        count: lane.count,
      }),
    ]
  }
}
