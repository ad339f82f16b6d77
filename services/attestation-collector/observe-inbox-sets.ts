/**
 * The collector's look at the world for an operator-set update: the set each destination Inbox trusts now,
 * recorded as an `InboxSetRead` per destination whose epoch is not the one the state holds.
 *
 * Per `OperatorSetSigned`: for every configured chain (every one has an Inbox), in parallel, the latest block
 * and the Inbox's `epoch()` at it, and, only if that epoch is not the one held, `operatorSet()` at the same
 * block. An Inbox with no set yet (epoch 0) gets no read: nothing can be counted for it. A read that fails is
 * made again until the chain's RPC answers what decodes (`steadyRead`), logged with the RPC's redacted URL; the
 * signature waits meanwhile, so no destination is judged on a set it could not read, and a destination whose
 * RPC is down delays the update everywhere until it answers rather than being passed over for good.
 *
 * @module
 */
import { type ChainReader, makeFaultTrackers, steadyRead } from "../../chains/index.ts"
import { ChainId, type ChorusEvent, type Envelope, InboxSetRead, toAddress } from "../../schemas/index.ts"
import type { ChainConfig } from "../config/index.ts"
import type { ServiceLogger } from "../runtime/index.ts"
import { CollectorStoppedError } from "./observe-operator-set.ts"
import type { SetUpdates } from "./set-updates.ts"

export interface InboxSetsObserverOptions {
  readonly chains: ReadonlyArray<ChainConfig>
  readonly readerFor: (chainId: number) => ChainReader
  readonly logger: ServiceLogger
  readonly rpcFaults: { readonly unreachableAfterMs: number; readonly logEveryMs: number }
  readonly signal: AbortSignal
  /** The first pause after a failed read. Default 250 ms. */
  readonly pollIntervalMs?: number
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
    const reads = await Promise.all(
      options.chains.map(async (chain): Promise<InboxSetRead | undefined> => {
        const steadily = {
          tracker: trackerOf(chain.chainId),
          logger: options.logger,
          pollIntervalMs: options.pollIntervalMs ?? 250,
          invalidAttempts: Number.POSITIVE_INFINITY,
          signal: options.signal,
          stopped: () => new CollectorStoppedError(chain.chainId),
          // The tracker logs the streak with the RPC's redacted URL; the update waits for the answer.
          recordStall: async () => {},
          recordRecovery: async () => {},
        }
        const inbox = options.readerFor(chain.chainId).inbox(chain.inbox)
        const { block, epoch } = await steadyRead(steadily, () => inbox.epoch())
        if (epoch === 0 || updates.inboxes.get(chain.chainId)?.epoch === epoch) return undefined
        const set = await steadyRead(steadily, () => inbox.operatorSet(block))
        return new InboxSetRead({
          chainId: event.chainId,
          destination: ChainId.make(chain.chainId),
          inbox: toAddress(chain.inbox),
          epoch: set.epoch,
          block,
          operators: set.operators,
          thresholdBps: set.thresholdBps,
        })
      }),
    )
    return reads.filter((r) => r !== undefined)
  }
}
