/**
 * The collector's only look at the world: the destination Inbox's operator
 * set, recorded as an `OperatorSetRead` whenever the collector has none for
 * that destination or the Inbox's epoch moved.
 *
 * Per input about destination D that may need D's set now: read the latest
 * block, the Inbox's `epoch()` at it and, only if that epoch is not the one
 * the state holds for D, `operatorSet()` at the same block. An epoch check
 * that found the state's own epoch less than `epochCheckEveryMs` ago stands
 * for the inputs after it: a checkpoint's signatures, and a busy
 * destination's every input, would otherwise each pay two RPC round trips,
 * which on a slow RPC is the whole pipeline's pace. A rotation is then seen
 * at most that late; a signature judged against the set it replaced is
 * counted by a set the Inbox no longer holds, and the Inbox refuses the
 * commit, so the staleness costs a retry, never a forged commit. Inputs
 * that may need D's set now are
 *   - every signature (it is judged against the set at once);
 *   - a proposal only if no set is known for D yet, or if signatures are
 *     already held for its checkpoint (they are counted when it arrives).
 * A proposal nobody signed yet can attest nothing, so it asks the chain
 * nothing: a flood of junk proposals costs no RPC call once D's set is known
 * (at most one bounded read per record before that). Refusals and other
 * inputs need no read. A destination that is not configured, or whose Inbox
 * has no set yet (epoch 0), gets no read: the core then judges signatures for
 * it `unknown-signer` and its proposals expire, saying why.
 *
 * A commit the Inbox refused for its epoch or signer set (`DeliveryFailed`,
 * `EpochLeft`, `EpochNotReached`, `UnknownSigner` or `InsufficientStake`: a
 * rotation reached the Inbox after the attestation) is an input that needs
 * D's set now too, and so is a signature under another epoch than the one
 * held: its epoch is read whatever the last check found, and the core counts
 * the lane's checkpoints again against the set read for it.
 *
 * A read that fails is made again until the destination's RPC answers what
 * decodes (`steadyRead`, `chains/rpc-faults.ts`): the collector holds the
 * input meanwhile, logs the failures with the RPC's redacted URL (the first
 * at once, then a summary per `rpc.logEveryMs`), and records an outage
 * older than `rpc.unreachableAfterMs` once (`ChainReadFailed`, `outage`),
 * and its end (`ChainReadRecovered`). It never counts signatures against a
 * set it could not read.
 *
 * @module
 */
import {
  type ChainReader,
  type FaultStreak,
  makeFaultTrackers,
  recoveryFieldsOf,
  stallFieldsOf,
  steadyRead,
} from "../../chains/index.ts"
import type { CheckpointDomain } from "../../contracts/index.ts"
import { ChorusError } from "../../errors/index.ts"
import {
  ChainId,
  ChainReadFailed,
  ChainReadRecovered,
  type ChorusEvent,
  type Envelope,
  Lane,
  OperatorSetRead,
  toAddress,
} from "../../schemas/index.ts"
import type { ChainConfig } from "../config/index.ts"
import type { ServiceLogger } from "../runtime/index.ts"
import { checkpointKey } from "./checkpoint-record.ts"
import type { CollectorState } from "./core.ts"
import { isSignerSetRefusal } from "./signer-set-refusal.ts"

export interface OperatorSetObserverOptions {
  readonly chains: ReadonlyArray<ChainConfig>
  /** The reader of a destination chain. */
  readonly readerFor: (chainId: number) => ChainReader
  /** The network's EIP-712 domain: a proposal's checkpoint is found in the state by its digest. */
  readonly domain: CheckpointDomain
  readonly logger: ServiceLogger
  /** When a failing RPC is recorded as stalled, and how often its failures are logged (`config.rpc`). */
  readonly rpcFaults: { readonly unreachableAfterMs: number; readonly logEveryMs: number }
  /** Puts an outage of a destination's RPC (and its end) on the log at once, caused by the input held. */
  readonly record: (event: ChorusEvent, input: Envelope) => Promise<void>
  /** Aborted when the collector stops: a read being retried ends, and the input is handled again later. */
  readonly signal: AbortSignal
  /** The first pause after a failed read. Default 250 ms. */
  readonly pollIntervalMs?: number
  /** How long a check that found the state's epoch stands for later inputs (0: check every input). Default 0. */
  readonly epochCheckEveryMs?: number
  /** The clock of those checks. Default `Date.now`. */
  readonly now?: () => number
}

/** The reader name of the collector's own reads. */
const READER = "attestation-collector"

/** The collector was stopped while it waited for a destination's RPC; the input is handled again on restart. */
export class CollectorStoppedError extends ChorusError {
  override readonly name = "CollectorStoppedError"

  constructor(dstChainId: number) {
    super(`the attestation-collector stopped while it waited for chain ${dstChainId}'s RPC`, {
      details: { dstChainId },
      hint: "Nothing was committed for the input; it is handled again when the collector starts.",
    })
  }
}

/**
 * Makes the collector's `observe`.
 *
 * @example
 * ```ts
 * const chains = makeChainAccess(config)
 * const observe = makeOperatorSetObserver({
 *   chains: config.chains, readerFor: chains.reader, domain, logger,
 *   rpcFaults: config.rpc, record: (event, input) => publishRead(event, input), signal,
 * })
 * const reads = await observe(state, signatureEnvelope) // [OperatorSetRead] or []
 * ```
 */
export const makeOperatorSetObserver = (options: OperatorSetObserverOptions) => {
  /** One tracker per destination, shared by every input held: an outage is recorded once. */
  const trackerOf = makeFaultTrackers({ ...options.rpcFaults, logger: options.logger })
  const now = options.now ?? Date.now
  const checkEveryMs = options.epochCheckEveryMs ?? 0
  /** Per destination, the last epoch check that found the state's own epoch, and when it was made. */
  const checked = new Map<number, { readonly epoch: number; readonly at: number }>()
  return async (state: CollectorState, input: Envelope): Promise<ReadonlyArray<ChorusEvent>> => {
    const event = input.event
    // A commit the Inbox refused for its signer set: its epoch is read now, whatever an earlier check said.
    const refused = event._tag === "DeliveryFailed" && isSignerSetRefusal(event)
    if (event._tag !== "CheckpointProposed" && event._tag !== "AttestationSigned" && !refused) return []
    const about = event._tag === "DeliveryFailed" ? event.lane : event.checkpoint
    const dstChainId = about.dstChainId
    if (event._tag === "CheckpointProposed" && state.sets.has(dstChainId)) {
      const record = state.records.get(checkpointKey(event.checkpoint))
      if (record === undefined || record.signatures.size === 0) return []
    }
    const chain = options.chains.find((c) => c.chainId === dstChainId)
    if (chain === undefined) {
      options.logger.warn("destination chain is not configured; its signatures cannot be counted", {
        lane: input.key,
        dstChainId,
        configured: options.chains.map((c) => c.chainId),
      })
      return []
    }
    const held = state.sets.get(dstChainId)?.epoch
    const last = checked.get(dstChainId)
    // A signature under another epoch than the one held says the Inbox moved (or will): read it now.
    const otherEpoch = event._tag === "AttestationSigned" && event.epoch !== held
    if (
      !refused &&
      !otherEpoch &&
      held !== undefined &&
      last?.epoch === held &&
      now() - last.at < checkEveryMs
    )
      return []
    const inbox = options.readerFor(dstChainId).inbox(chain.inbox)
    const lane = new Lane({ srcChainId: about.srcChainId, outbox: about.outbox, dstChainId })
    const chainId = ChainId.make(dstChainId)
    const steadily = {
      tracker: trackerOf(dstChainId),
      logger: options.logger,
      pollIntervalMs: options.pollIntervalMs ?? 250,
      // It cannot decide without the set: it waits for an answer that decodes, however long.
      invalidAttempts: Number.POSITIVE_INFINITY,
      signal: options.signal,
      stopped: () => new CollectorStoppedError(dstChainId),
      recordStall: (streak: FaultStreak) =>
        options.record(
          new ChainReadFailed({ reader: READER, lane, chainId, outage: true, ...stallFieldsOf(streak) }),
          input,
        ),
      recordRecovery: (streak: FaultStreak) =>
        options.record(
          new ChainReadRecovered({ reader: READER, lane, chainId, ...recoveryFieldsOf(streak) }),
          input,
        ),
    }
    const askedAt = now()
    const { block, epoch } = await steadyRead(steadily, () => inbox.epoch())
    if (epoch === 0) {
      options.logger.warn("the destination Inbox has no operator set yet (epoch 0); nothing can be counted", {
        lane: input.key,
        dstChainId,
        inbox: chain.inbox,
      })
      return []
    }
    if (held === epoch) {
      checked.set(dstChainId, { epoch, at: askedAt })
      return []
    }
    const set = await steadyRead(steadily, () => inbox.operatorSet(block))
    return [
      new OperatorSetRead({
        lane,
        inbox: toAddress(chain.inbox),
        epoch: set.epoch,
        block,
        operators: set.operators,
        thresholdBps: set.thresholdBps,
      }),
    ]
  }
}
