/**
 * The collector's look at the world for an operator-set update: the set each destination Inbox trusts now,
 * recorded as an `InboxSetRead` per destination whose epoch is not the one the state holds.
 *
 * Per `OperatorSetSigned` that the core could count (this network's registry, its digest recomputed, its
 * signature recovering to its operator; anything else is read for nothing, so a flood of junk signatures costs
 * no RPC call): for every configured chain (every one has an Inbox), in parallel, the latest block and the
 * Inbox's `epoch()` at it, and, only if that epoch is not the one held, `operatorSet()` at the same block. An
 * Inbox with no set yet (epoch 0) gets no read: nothing can be counted for it.
 *
 * A read that fails is made again (`steadyRead`, each failure logged with the RPC's redacted URL) for at most
 * `rpc.unreachableAfterMs`; a destination still unread then is passed over for this signature, so one chain's
 * RPC never holds the others (nor the lanes that share the hub's partition). It is read again on the next
 * signature: the set-watcher re-announces the hub's set while an Inbox lags it, and operators sign it again.
 *
 * @module
 */
import { type ChainReader, makeFaultTrackers, steadyRead } from "../../chains/index.ts"
import type { CheckpointDomain } from "../../contracts/index.ts"
import {
  type BlockRef,
  ChainId,
  type ChorusEvent,
  type Envelope,
  InboxSetRead,
  toAddress,
} from "../../schemas/index.ts"
import type { ChainConfig } from "../config/index.ts"
import type { ChainObserverOptions } from "../runtime/chain-observer-options.ts"
import { CollectorStoppedError } from "./observe-operator-set.ts"
import { type SetUpdates, setSignatureProblem } from "./set-updates.ts"

export interface InboxSetsObserverOptions extends ChainObserverOptions {
  readonly chains: ReadonlyArray<ChainConfig>
  readonly readerFor: (chainId: number) => ChainReader
  /** The network's EIP-712 domain: a signature the core could not count is read for nothing. */
  readonly domain: CheckpointDomain
}

/**
 * Makes the observer of every destination Inbox's set, for the collector's operator-set updates.
 *
 * @example
 * ```ts
 * const observe = makeInboxSetsObserver({ chains: config.chains, readerFor, logger, rpcFaults, signal })
 * const reads = await observe(state.updates, signedEnvelope) // [InboxSetRead, …]
 * ```
 */
export const makeInboxSetsObserver = (options: InboxSetsObserverOptions) => {
  const trackerOf = makeFaultTrackers({ ...options.rpcFaults, logger: options.logger })
  return async (updates: SetUpdates, input: Envelope): Promise<ReadonlyArray<ChorusEvent>> => {
    const event = input.event
    if (event._tag !== "OperatorSetSigned") return []
    if (setSignatureProblem(options.domain, event) !== undefined) return []
    const reads = await Promise.all(
      options.chains.map(async (chain): Promise<InboxSetRead | undefined> => {
        const bound = AbortSignal.any([
          options.signal,
          AbortSignal.timeout(options.rpcFaults.unreachableAfterMs),
        ])
        const steadily = {
          tracker: trackerOf(chain.chainId),
          logger: options.logger,
          pollIntervalMs: options.pollIntervalMs ?? 250,
          invalidAttempts: Number.POSITIVE_INFINITY,
          signal: bound,
          stopped: () => new CollectorStoppedError(chain.chainId),
          // The tracker logs the streak with the RPC's redacted URL; the update waits for the answer.
          recordStall: async () => {},
          recordRecovery: async () => {},
        }
        const inbox = options.readerFor(chain.chainId).inbox(chain.inbox)
        try {
          const { block, epoch } = await steadyRead(steadily, () => inbox.epoch())
          if (epoch === 0 || updates.inboxes.get(chain.chainId)?.epoch === epoch) return undefined
          const set = await steadyRead(steadily, () => inbox.operatorSet(block))
          if (!Number.isSafeInteger(set.epoch) || set.epoch !== epoch) {
            options.logger.warn("the destination's Inbox answered an epoch that does not hold; passed over", {
              dstChainId: chain.chainId,
              epoch,
              setEpoch: set.epoch,
            })
            return undefined
          }
          return inboxSetRead(event.chainId, chain, block, set)
        } catch (error) {
          // Stopped: the input is handled again at the next start. Timed out: passed over for this signature.
          if (options.signal.aborted || !(error instanceof CollectorStoppedError)) throw error
          options.logger.warn(
            "a destination's Inbox could not be read in time; its update waits for the next signature",
            {
              dstChainId: chain.chainId,
              waitedMs: options.rpcFaults.unreachableAfterMs,
            },
          )
          return undefined
        }
      }),
    )
    return reads.filter((r) => r !== undefined)
  }
}

const inboxSetRead = (
  hub: number,
  chain: ChainConfig,
  block: BlockRef,
  set: {
    readonly epoch: number
    readonly operators: InboxSetRead["operators"]
    readonly thresholdBps: number
  },
) =>
  new InboxSetRead({
    chainId: ChainId.make(hub),
    destination: ChainId.make(chain.chainId),
    inbox: toAddress(chain.inbox),
    epoch: set.epoch,
    block,
    operators: set.operators,
    thresholdBps: set.thresholdBps,
  })
