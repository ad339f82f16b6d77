/**
 * The operator's only look at the world: its own RPC's view of the source
 * chain for a proposal, recorded as events the core decides on. A replay
 * feeds the same records back, so it decides the same way with no RPC call.
 *
 * Pipeline, per proposal it could sign:
 *   1. a block at or below a finalized head this RPC already showed is final
 *      (finality never goes back): read the lane there at once;
 *   2. otherwise look at the chain's `latest` block, recorded as a
 *      `ChainHeadRead`. A proposal more than `maxBlocksAhead` blocks past it
 *      names a block this chain has not reached: nothing more is read, and
 *      the core refuses at once. Measured from `latest`, never from the
 *      finalized head, which on some chains moves in jumps (an honest
 *      proposal can be far past an operator's finalized head, never far past
 *      its latest one);
 *   3. otherwise wait, polling, until its own finalized head (the chain's
 *      finality rule, `chains/`; nothing is final while the chain is
 *      shallower than a confirmation depth) reaches the block, for at most
 *      `finalityWaitMs`, then read the lane there (`outboxLane`: the
 *      block's header, root and count) as an `OutboxLaneRead`;
 *   4. while it waits, as soon as the block exists on its RPC, read the lane
 *      there once, before it is final: a read that refutes the proposal
 *      (another count, root or block hash) is recorded and ends the wait,
 *      and the core refuses on it. One that agrees is dropped: only a final
 *      read can make the operator sign.
 *
 * Invariants:
 * - The bus is never trusted for a chain fact: every field of every read
 *   comes from the operator's RPC. Nothing read at the block means the core
 *   refuses with `not-finalized`. A proposal the core refuses without a read
 *   (lane outside the network, conflicting root) is not read for.
 * - A block past `latest + maxBlocksAhead` never waits. A forged proposal
 *   within the margin waits only until its block exists here (its hash
 *   cannot be known in advance), at most `maxBlocksAhead` block times; one
 *   naming an existing block refutes itself on the first read. What can
 *   still hold a partition for up to `finalityWaitMs` is a proposal whose
 *   count, root and block hash are all true of a block not final yet: a
 *   true checkpoint proposed early, signed once final. A shard handles one
 *   input at a time, so every lane of the partition waits meanwhile.
 * - Cost of a junk proposal: at most one RPC call (its head; none while a
 *   head younger than one poll interval already puts it out of reach). A
 *   head read may thus be reused for `pollIntervalMs`: it can only make the
 *   operator refuse, never sign, so a slightly old one is safe.
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
  ChainHeadRead,
  ChainId,
  type ChorusEvent,
  type Envelope,
  Lane,
  OutboxLaneRead,
} from "../../schemas/index.ts"
import type { ChainConfig } from "../config/index.ts"
import type { ServiceLogger } from "../runtime/index.ts"
import { type OperatorState, signedKey } from "./core.ts"
import { OperatorStoppedError } from "./errors.ts"
import { laneProblem, verifyProposal } from "./verify-proposal.ts"

export interface OutboxObserverOptions {
  /** The operator's wire-form address: the `reader` of its reads. */
  readonly operator: string
  /** The configured chains: where each Outbox is. */
  readonly chains: ReadonlyArray<Pick<ChainConfig, "chainId" | "outbox">>
  /** The operator's own reader of a source chain (its RPCs, the chain's finality rule). */
  readonly readerFor: (chainId: number) => ChainReader
  readonly finalityWaitMs: number
  /** How far past its own latest block a proposal's block may be for it to wait at all. */
  readonly maxBlocksAhead: number
  readonly logger: ServiceLogger
  /** Aborted when the operator stops: a wait in progress ends and the proposal is retried later. */
  readonly signal: AbortSignal
  /** Between finality polls, and how long a head read is reused. Default 250 ms. */
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

/** What this operator's RPC last showed of one chain. */
interface ChainView {
  /** The highest finalized head seen: a block at or below it is final for good. */
  finalized: BlockRef | null
  /** The last latest head read, and when (ms). */
  latest: { readonly ref: BlockRef; readonly at: number } | null
}

/**
 * Makes the operator's `observe`: its own reads of the source chain for
 * each proposal it could sign.
 *
 * @example
 * ```ts
 * const chains = makeChainAccess(config, { rpcUrlsOverride: operator.rpcUrls })
 * const observe = makeOutboxObserver({ operator, chains: config.chains, readerFor: chains.reader, finalityWaitMs: 60_000, maxBlocksAhead: 64, logger, signal })
 * const reads = await observe(state, proposalEnvelope) // [OutboxLaneRead], [ChainHeadRead, OutboxLaneRead], [ChainHeadRead] or []
 * ```
 */
export const makeOutboxObserver = (options: OutboxObserverOptions) => {
  const { operator, chains, readerFor, maxBlocksAhead, logger, signal } = options
  const pollIntervalMs = options.pollIntervalMs ?? 250
  const views = new Map<number, ChainView>()
  const viewOf = (chainId: number): ChainView => {
    let view = views.get(chainId)
    if (view === undefined) {
      view = { finalized: null, latest: null }
      views.set(chainId, view)
    }
    return view
  }

  return async (state: OperatorState, input: Envelope): Promise<ReadonlyArray<ChorusEvent>> => {
    const event = input.event
    if (event._tag !== "CheckpointProposed") return []
    const { checkpoint, block } = event
    if (laneProblem(chains, checkpoint) !== undefined) return []
    const earlier = state.signed.get(signedKey(checkpoint))
    if (earlier !== undefined && earlier.root !== checkpoint.root) return []

    const chain = chains.find((c) => c.chainId === checkpoint.srcChainId)!
    const reader = readerFor(chain.chainId)
    const view = viewOf(chain.chainId)
    const beyond = (latest: BlockRef) => block.number > latest.number + maxBlocksAhead

    const readFinalized = async (): Promise<BlockRef | null> => {
      const read = await reader.finalizedHead()
      if (read !== null && (view.finalized === null || read.number > view.finalized.number)) {
        view.finalized = read
      }
      return read
    }
    const readLatest = async (): Promise<BlockRef> => {
      const ref = await reader.latestHead()
      view.latest = { ref, at: Date.now() }
      return ref
    }
    const freshLatest = (): BlockRef | undefined =>
      view.latest !== null && Date.now() - view.latest.at <= pollIntervalMs ? view.latest.ref : undefined
    const headRead = (latest: BlockRef) =>
      new ChainHeadRead({
        reader: operator,
        lane: new Lane({
          srcChainId: checkpoint.srcChainId,
          outbox: checkpoint.outbox,
          dstChainId: checkpoint.dstChainId,
        }),
        chainId: ChainId.make(chain.chainId),
        latest,
      })
    const outOfReach = (latest: BlockRef): ReadonlyArray<ChorusEvent> => {
      logger.warn(
        "the proposal's block is past its own latest block by more than maxBlocksAhead; refusing at once",
        {
          lane: input.key,
          count: checkpoint.count,
          block: block.number,
          latest: latest.number,
          maxBlocksAhead,
        },
      )
      return [headRead(latest)]
    }
    /** The lane at the block with `finalized` the finalized head read with it (below the block: an early read). */
    const laneRead = async (finalized: BlockRef): Promise<OutboxLaneRead> => {
      const lane = await laneAt(reader, checkpoint, block.number)
      return new OutboxLaneRead({
        reader: operator,
        srcChainId: ChainId.make(chain.chainId),
        outbox: checkpoint.outbox,
        dstChainId: checkpoint.dstChainId,
        block: lane.block,
        finalized: later(finalized, lane.finalized),
        root: lane.root,
        count: lane.count,
      })
    }

    // 1. Already final on this RPC: no head to look at, nothing to wait for.
    if (view.finalized !== null && view.finalized.number >= block.number) {
      return [await laneRead(view.finalized)]
    }
    // 2. A block past the last head seen is most likely not there yet: the head first, one call (or none).
    let latest = freshLatest()
    if (latest === undefined && view.latest !== null && beyond(view.latest.ref)) latest = await readLatest()
    if (latest !== undefined && beyond(latest)) return outOfReach(latest)

    // 3. An honest proposal is usually final here already: one finalized read decides.
    let finalized = await readFinalized()
    if (finalized !== null && finalized.number >= block.number) return [await laneRead(finalized)]
    latest ??= freshLatest() ?? (await readLatest())
    if (beyond(latest)) return outOfReach(latest)
    const head = headRead(latest)

    // 4. Once the block exists here, one early read: what it refutes needs no wait.
    let exists = latest.number >= block.number
    let checkedEarly = false
    /** The early read, if it decides the proposal: it refutes it (or is already final); undefined to go on waiting. */
    const refutedEarly = async (): Promise<OutboxLaneRead | undefined> => {
      if (checkedEarly || finalized === null) return undefined
      if (!exists) exists = (await readLatest()).number >= block.number
      if (!exists) return undefined
      checkedEarly = true
      const early = await laneRead(finalized)
      // Agreeing but not final: dropped, the wait goes on (only a final read may make it sign).
      return verifyProposal(event, [early], operator).result === "not-finalized" ? undefined : early
    }

    const deadline = Date.now() + options.finalityWaitMs
    while (finalized === null || finalized.number < block.number) {
      if (signal.aborted) throw new OperatorStoppedError(operator)
      const early = await refutedEarly()
      if (early !== undefined) {
        // Final by the time it was read (its finalized head moved meanwhile), or refuting: either way decided.
        if (early.finalized.number < block.number) {
          logger.warn(
            "the proposal's block, not final yet, refutes it on its own RPC; refusing without waiting",
            {
              lane: input.key,
              count: checkpoint.count,
              block: block.number,
              finalized: early.finalized.number,
            },
          )
        }
        return [head, early]
      }
      if (Date.now() >= deadline) {
        logger.warn("own RPC did not finalize the proposal's block in time; refusing", {
          lane: input.key,
          count: checkpoint.count,
          block: block.number,
          finalized: finalized?.number ?? null,
          latest: latest.number,
          finalityWaitMs: options.finalityWaitMs,
        })
        return [head]
      }
      await sleep(pollIntervalMs, signal)
      finalized = await readFinalized()
    }
    return [head, await laneRead(finalized)]
  }
}
