/**
 * The operator's look at the destination before it signs a checkpoint: the epoch of the operator set the
 * destination Inbox trusts, on its own RPC of that chain at its latest block, recorded as an `InboxEpochRead` the
 * core signs under. A replay feeds the same record back, so it signs under the same epoch with no RPC call.
 *
 * Pipeline, per proposal (or request to sign again) whose source-chain reads verify it, so that a junk proposal
 * costs no read here:
 *   1. the Inbox's `epoch()` at the latest block of its own destination RPC;
 *   2. for a `CheckpointResignRequested` naming epoch E, a read below E is not the Inbox's news yet on this RPC:
 *      it polls again until it shows E or later, for at most `finalityWaitMs`, then records what it last read
 *      (the collector counts a signature only under the epoch the Inbox trusts, and asks again when it moves).
 *
 * A read that fails is made again, as the operator's source reads are (`steadyRead`, each failure logged with the
 * RPC's redacted URL): an answer that does not decode is asked again three times, then nothing is recorded and the
 * core refuses (`rpc-invalid`); an RPC that gives no answer holds the checkpoint, asked again with backoff, until
 * it answers. A refusal would be final for the checkpoint (nothing asks again once traffic stops), while a held
 * checkpoint is signed as soon as the destination's RPC is back.
 *
 * Invariants:
 * - The epoch signed under is always this operator's own read, never a record's: a request naming an epoch can
 *   make it wait for that epoch, never sign under it unread.
 * - Signing a verified root under any epoch is safe: the root is true; the epoch only says which set's stake
 *   stands behind the signature, and the Inbox counts it against that set alone.
 *
 * @module
 */
import {
  abortableSleep,
  type ChainReader,
  makeFaultTrackers,
  RpcAnswerInvalidError,
  steadyRead,
} from "../../chains/index.ts"
import { type Address, type ChorusEvent, InboxEpochRead, Lane, toAddress } from "../../schemas/index.ts"
import type { ChainConfig } from "../config/index.ts"
import type { ChainObserverOptions } from "../runtime/chain-observer-options.ts"
import { OperatorStoppedError } from "./errors.ts"
import type { ToSign } from "./verify-proposal.ts"

export interface InboxEpochObserverOptions extends ChainObserverOptions {
  /** The operator that reads (lowercase): it owns the reads. */
  readonly operator: Address
  /** The configured chains: where each Inbox is. */
  readonly chains: ReadonlyArray<Pick<ChainConfig, "chainId" | "inbox">>
  /** The operator's own reader of a chain. */
  readonly readerFor: (chainId: number) => ChainReader
  readonly finalityWaitMs: number
}

/**
 * Makes the Inbox-epoch observer of one operator.
 *
 * @example
 * ```ts
 * const observe = makeInboxEpochObserver({ operator, chains: config.chains, readerFor, finalityWaitMs, rpcFaults, logger, signal })
 * const reads = await observe(proposal) // [InboxEpochRead], or [] when its RPC gave nothing in time
 * ```
 */
export const makeInboxEpochObserver = (options: InboxEpochObserverOptions) => {
  const { operator, logger, signal } = options
  const pollIntervalMs = options.pollIntervalMs ?? 250
  const trackerOf = makeFaultTrackers({ ...options.rpcFaults, logger })

  return async (toSign: ToSign): Promise<ReadonlyArray<ChorusEvent>> => {
    const { checkpoint } = toSign
    const chain = options.chains.find((c) => c.chainId === checkpoint.dstChainId)
    if (chain === undefined) return []
    const wanted = toSign._tag === "CheckpointResignRequested" ? toSign.epoch : 0
    const steadily = {
      tracker: trackerOf(chain.chainId),
      logger,
      pollIntervalMs,
      invalidAttempts: 3,
      signal,
      stopped: () => new OperatorStoppedError(operator),
      // The tracker logs every streak with the RPC's redacted URL; the checkpoint waits meanwhile.
      recordStall: async () => {},
      recordRecovery: async () => {},
    }
    const inbox = options.readerFor(chain.chainId).inbox(toAddress(chain.inbox))
    const lane = new Lane({
      srcChainId: checkpoint.srcChainId,
      outbox: checkpoint.outbox,
      dstChainId: checkpoint.dstChainId,
    })
    const deadline = Date.now() + options.finalityWaitMs
    try {
      for (;;) {
        const { block, epoch } = await steadyRead(steadily, () => inbox.epoch())
        const read = new InboxEpochRead({ reader: operator, lane, block, epoch })
        if (epoch >= wanted || Date.now() >= deadline) return [read]
        await abortableSleep(pollIntervalMs, signal)
      }
    } catch (error) {
      // Stopped: the input is handled again at the next start.
      if (!(error instanceof RpcAnswerInvalidError)) throw error
      logger.warn("its own destination RPC answered no Inbox epoch that decodes; refusing to sign", {
        dstChainId: checkpoint.dstChainId,
        count: checkpoint.count,
        error: error.message,
      })
      return []
    }
  }
}
