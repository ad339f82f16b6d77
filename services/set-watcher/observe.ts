/**
 * The set-watcher's one decision, pure: a read of the hub registry's set at a final block is recorded when it
 * is not the set last recorded. Not "when its epoch is higher": a hub RPC that once answered a lie (an epoch
 * far ahead, say) must not keep the true set off the log; operators verify every record on their own RPCs.
 * The same set is recorded again (re-announced, at the new block) when an Inbox still lags it
 * `reannounceAfterMs` after the last record: the relay then carries it again.
 *
 * @module
 */
import type { InboxOperatorSet } from "../../chains/chain-access.ts"
import {
  type Address,
  type BlockRef,
  ChainId,
  OperatorSetObserved,
  sameOperatorSet,
} from "../../schemas/index.ts"

/**
 * The record of `read`, or undefined when it is the set `last` recorded (and, when `reannounce` says an Inbox
 * lags it and it is time, not even then).
 *
 * @example
 * ```ts
 * const observed = observation(last, { chainId: 901, registry, block, set })
 * if (observed !== undefined) await publish(observed)
 * ```
 */
export const observation = (
  last: OperatorSetObserved | undefined,
  read: {
    readonly chainId: number
    readonly registry: Address
    readonly block: BlockRef
    readonly set: InboxOperatorSet
  },
  reannounce: { readonly lagging: boolean; readonly dueNow: boolean } = { lagging: false, dueNow: false },
): OperatorSetObserved | undefined =>
  last !== undefined && sameOperatorSet(read.set, last) && !(reannounce.lagging && reannounce.dueNow)
    ? undefined
    : new OperatorSetObserved({
        chainId: ChainId.make(read.chainId),
        registry: read.registry,
        block: read.block,
        epoch: read.set.epoch,
        operators: read.set.operators,
        thresholdBps: read.set.thresholdBps,
      })
