/**
 * The operator's only look at the world: its own RPC's view of the source
 * chain for a proposal, recorded as events the core decides on. A replay
 * feeds the same records back, so it decides the same way with no RPC call.
 *
 * Pipeline, per proposal it could sign (or request to sign one again, read
 * the same way):
 *   0. its source chain's halt, as `chorus.chain.halts` says (`halts`,
 *      refreshed for every proposal): a chain halted on the log is recorded
 *      as a `ChainHaltRead` and nothing else is read, so the core refuses
 *      (`chain-halted`) with no RPC call; a chain whose halt was lifted by
 *      `chorus chain resume` is read as below, and the first proposal of each
 *      of its lanes this observer handles after the resume carries a
 *      `ChainHaltRead` naming the resume too, so the log shows why the
 *      operator signs a chain that was halted;
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
 * Every one of these reads goes through its chain's fault tracker
 * (`chains/rpc-faults.ts`), and a read that fails is made again:
 *   - an answer that does not decode (or fails a check, or comes from an RPC
 *     of another chain) is asked again `invalidAttempts` times (3), then the
 *     observer gives up on the proposal and records what its RPC answered as
 *     a `ChainReadFailed` (`rpc-invalid`, not an outage): the core refuses on it
 *     (`rpc-invalid`), so the fault is on the log once per proposal, and the
 *     next proposal is read afresh;
 *   - an RPC that gives no answer holds the proposal, and is asked again
 *     with backoff (at most every 5 s) until it answers: once the outage is
 *     older than `rpc.unreachableAfterMs`, it is recorded once as a
 *     `ChainReadFailed` (an `outage`, caused by the proposal it held then),
 *     and its end as a `ChainReadRecovered`; the time spent waiting for the
 *     RPC does not count against `finalityWaitMs`.
 *   Every failure is logged with the RPC's redacted URL: the first of a
 *   streak at once, then a summary per `rpc.logEveryMs`.
 *
 * Invariants:
 * - A halt is a fact of the log, not of the chain: the halts topic is read
 *   through the bus's decode edge, a halt taken only from a chain-watcher
 *   and its lifting only from the `chain-resume` tool
 *   (`services/runtime/chain-halts.ts`), and what was seen is recorded, so
 *   a replay refuses the same proposals without reading the topic again.
 * - The bus is never trusted for a chain fact: every field of every read
 *   comes from the operator's RPC. Nothing read at the block means the core
 *   refuses with `not-finalized`. A proposal the core refuses without a read
 *   (lane outside the network, conflicting root) is not read for.
 * - An RPC fault never makes it sign: a failed read is no read, and only a
 *   final `OutboxLaneRead` of its own can. Nor does one poison a later
 *   proposal: nothing of it is kept in the state.
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
  abortableSleep,
  type ChainReader,
  makeFaultTrackers,
  type OutboxLaneRef,
  type OutboxLaneState,
  OutboxNotDeployedError,
  RpcAnswerInvalidError,
  recoveryFieldsOf,
  type SteadyReadOptions,
  stallFieldsOf,
  steadyRead,
} from "../../chains/index.ts"
import {
  type BlockRef,
  Bytes32,
  ChainHaltRead,
  ChainHeadRead,
  ChainId,
  ChainReadFailed,
  ChainReadRecovered,
  type Checkpoint,
  type ChorusEvent,
  type Envelope,
  HaltSeen,
  IsoTime,
  Lane,
  OutboxLaneRead,
  ResumeSeen,
} from "../../schemas/index.ts"
import type { ChainConfig } from "../config/index.ts"
import type { ChainObserverOptions } from "../runtime/chain-observer-options.ts"
import type { ChainHaltsView } from "../runtime/index.ts"
import type { OperatorState } from "./core.ts"
import { OperatorStoppedError } from "./errors.ts"
import { asToSign, laneProblem, type ToSign, verifyProposal } from "./verify-proposal.ts"

export interface OutboxObserverOptions extends ChainObserverOptions {
  /** The operator's wire-form address: the `reader` of its reads. */
  readonly operator: string
  /** The configured chains: where each Outbox is. */
  readonly chains: ReadonlyArray<Pick<ChainConfig, "chainId" | "outbox">>
  /** The operator's own reader of a source chain (its RPCs, the chain's finality rule). */
  readonly readerFor: (chainId: number) => ChainReader
  readonly finalityWaitMs: number
  /** How far past its own latest block a proposal's block may be for it to wait at all. */
  readonly maxBlocksAhead: number
  /**
   * Puts a read of its own on the log at once, caused by `input`: the stall of an RPC (and its recovery),
   * which happens while the proposal is held, before its reads are returned.
   */
  readonly record: (event: ChorusEvent, input: Envelope) => Promise<void>
  /** Answers that do not decode before it gives up on a proposal. Default 3. */
  readonly invalidAttempts?: number
  /**
   * Which source chains are halted on the log (`chainHaltsView`), refreshed for every proposal; absent, no
   * chain is ever seen halted (tests of the chain reads alone).
   */
  readonly halts?: Pick<ChainHaltsView, "refresh" | "statusOf">
}

const ZERO_ROOT = Bytes32.make(`0x${"00".repeat(32)}`)

/** The lane of a checkpoint: what the operator's reads for its proposal are keyed by. */
const laneOf = (checkpoint: Checkpoint) =>
  new Lane({
    srcChainId: checkpoint.srcChainId,
    outbox: checkpoint.outbox,
    dstChainId: checkpoint.dstChainId,
  })

/**
 * The lane at `blockNumber`. No Outbox code there means the operator's chain has no such Outbox: it
 * reads as an empty lane (zero root, count 0), so the core refuses with what the chain showed.
 */
const laneAt = async (
  reader: Pick<ChainReader, "outboxLane" | "header">,
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
 * const observe = makeOutboxObserver({
 *   operator, chains: config.chains, readerFor: chains.reader, finalityWaitMs: 60_000, maxBlocksAhead: 64,
 *   rpcFaults: config.rpc, record: (event, input) => publishRead(event, input), logger, signal,
 * })
 * const reads = await observe(state, proposalEnvelope) // [OutboxLaneRead], [ChainHeadRead, OutboxLaneRead], [ChainHeadRead] or []
 * ```
 */
export const makeOutboxObserver = (options: OutboxObserverOptions) => {
  const { operator, chains, readerFor, maxBlocksAhead, logger, signal } = options
  const pollIntervalMs = options.pollIntervalMs ?? 250
  const invalidAttempts = options.invalidAttempts ?? 3
  /** One tracker per chain, shared by every proposal held: an outage is recorded once, whichever holds it. */
  const trackerOf = makeFaultTrackers({ ...options.rpcFaults, logger })
  const views = new Map<number, ChainView>()
  const viewOf = (chainId: number): ChainView => {
    let view = views.get(chainId)
    if (view === undefined) {
      view = { finalized: null, latest: null }
      views.set(chainId, view)
    }
    return view
  }

  /** The proposal, if it is one the core would read for: not outside the network, no conflicting root. */
  const toRead = (state: Pick<OperatorState, "signed">, input: Envelope): ToSign | undefined => {
    const event = asToSign(input.event)
    if (event === undefined) return undefined
    const { checkpoint } = event
    if (laneProblem(chains, checkpoint) !== undefined) return undefined
    if (state.signed.conflict(checkpoint) !== undefined) return undefined
    return event
  }

  /** Resumes already recorded, by lane and resume: one `ChainHaltRead` of a resume per lane is enough. */
  const resumesRecorded = new Set<string>()
  /** What the log says of the proposal's source chain, when there is something to record (see step 0). */
  const haltRead = async (proposal: ToSign, input: Envelope): Promise<ChainHaltRead | null> => {
    if (options.halts === undefined) return null
    await options.halts.refresh()
    const { checkpoint } = proposal
    const status = options.halts.statusOf(checkpoint.srcChainId)
    if (status === null) return null
    const lane = laneOf(checkpoint)
    const seen = (halt: { eventId: HaltSeen["eventId"]; blockNumber: number; reason: string }) =>
      new HaltSeen({ eventId: halt.eventId, blockNumber: halt.blockNumber, reason: halt.reason })
    if (status.kind === "halted") {
      logger.warn("the proposal's source chain is halted on the log; refusing without reading it", {
        lane: input.key,
        count: checkpoint.count,
        chainId: checkpoint.srcChainId,
        haltedAt: status.halt.blockNumber,
      })
      return new ChainHaltRead({
        reader: operator,
        lane,
        chainId: checkpoint.srcChainId,
        halt: seen(status.halt),
        resumed: null,
      })
    }
    const { resume } = status
    const key = `${input.key}:${resume.eventId}`
    if (resumesRecorded.has(key)) return null
    resumesRecorded.add(key)
    return new ChainHaltRead({
      reader: operator,
      lane,
      chainId: checkpoint.srcChainId,
      halt: seen(resume.halt),
      resumed: new ResumeSeen({
        eventId: resume.eventId,
        block: resume.block,
        by: resume.by,
        at: IsoTime.make(new Date(resume.at).toISOString()),
      }),
    })
  }

  const observe = async (event: ToSign, input: Envelope): Promise<ReadonlyArray<ChorusEvent>> => {
    const { checkpoint, block } = event

    const chain = chains.find((c) => c.chainId === checkpoint.srcChainId)!
    const view = viewOf(chain.chainId)
    const lane = laneOf(checkpoint)
    const chainId = ChainId.make(chain.chainId)
    const tracker = trackerOf(chain.chainId)
    /** Time spent waiting for an RPC that did not answer: it does not count against `finalityWaitMs`. */
    let outageMs = 0

    const steadily: SteadyReadOptions = {
      tracker,
      logger,
      pollIntervalMs,
      invalidAttempts,
      signal,
      stopped: () => new OperatorStoppedError(operator),
      recordStall: (streak) =>
        options.record(
          new ChainReadFailed({ reader: operator, lane, chainId, outage: true, ...stallFieldsOf(streak) }),
          input,
        ),
      recordRecovery: (streak) =>
        options.record(
          new ChainReadRecovered({ reader: operator, lane, chainId, ...recoveryFieldsOf(streak) }),
          input,
        ),
      onOutage: (ms) => {
        outageMs += ms
      },
    }
    /** One read of the chain, made again until its RPC answers (`steadyRead`); a bug is thrown as it is. */
    const steady = <T>(read: () => Promise<T>): Promise<T> => steadyRead(steadily, read)
    const raw = readerFor(chain.chainId)
    /** The operator's reader of the source chain, every read made steady. */
    const reader: Pick<ChainReader, "finalizedHead" | "latestHead" | "header" | "outboxLane"> = {
      finalizedHead: () => steady(() => raw.finalizedHead()),
      latestHead: () => steady(() => raw.latestHead()),
      header: (number) => steady(() => raw.header(number)),
      outboxLane: (ref, blockNumber) => steady(() => raw.outboxLane(ref, blockNumber)),
    }
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
    const headRead = (latest: BlockRef) => new ChainHeadRead({ reader: operator, lane, chainId, latest })
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
      if (Date.now() - outageMs >= deadline) {
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
      await abortableSleep(pollIntervalMs, signal)
      finalized = await readFinalized()
    }
    return [head, await laneRead(finalized)]
  }

  /** The proposal's chain reads; a read given up on (its answers did not decode) is what the core refuses on. */
  const observeChain = async (proposal: ToSign, input: Envelope): Promise<ReadonlyArray<ChorusEvent>> => {
    try {
      return await observe(proposal, input)
    } catch (error) {
      if (!(error instanceof RpcAnswerInvalidError)) throw error
      const { checkpoint } = proposal
      logger.warn(
        "its own RPC answered what does not decode, every time it was asked; refusing the proposal",
        {
          lane: input.key,
          count: checkpoint.count,
          rpc: error.fault.rpc,
          what: error.fault.what,
          problem: error.fault.problem,
          attempts: error.attempts,
        },
      )
      return [
        new ChainReadFailed({
          reader: operator,
          lane: laneOf(checkpoint),
          chainId: checkpoint.srcChainId,
          outage: false,
          ...stallFieldsOf({ since: error.since, attempts: error.attempts, last: error.fault }),
        }),
      ]
    }
  }

  return async (
    state: Pick<OperatorState, "signed">,
    input: Envelope,
  ): Promise<ReadonlyArray<ChorusEvent>> => {
    const proposal = toRead(state, input)
    if (proposal === undefined) return []
    const halt = await haltRead(proposal, input)
    // Halted on the log: nothing of the chain is read, the core refuses on the halt alone.
    if (halt !== null && halt.resumed === null) return [halt]
    const reads = await observeChain(proposal, input)
    return halt === null ? reads : [halt, ...reads]
  }
}
