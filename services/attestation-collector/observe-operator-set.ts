/**
 * The collector's only look at the world: the destination Inbox's operator
 * set, recorded as an `OperatorSetRead` whenever the collector has none for
 * that destination or the Inbox's epoch moved.
 *
 * Per input about destination D that may need D's set now: read the latest
 * block, the Inbox's `epoch()` at it and, only if that epoch is not the one
 * the state holds for D, `operatorSet()` at the same block. That is
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
 * @module
 */
import type { ChainReader } from "../../chains/index.ts"
import type { CheckpointDomain } from "../../contracts/index.ts"
import { type ChorusEvent, type Envelope, Lane, OperatorSetRead, toAddress } from "../../schemas/index.ts"
import type { ChainConfig } from "../config/index.ts"
import type { ServiceLogger } from "../runtime/index.ts"
import type { CollectorState } from "./core.ts"
import { checkpointDigest } from "./verify-signature.ts"

export interface OperatorSetObserverOptions {
  readonly chains: ReadonlyArray<ChainConfig>
  /** The reader of a destination chain. */
  readonly readerFor: (chainId: number) => ChainReader
  /** The network's EIP-712 domain: a proposal's checkpoint is found in the state by its digest. */
  readonly domain: CheckpointDomain
  readonly logger: ServiceLogger
}

/**
 * Makes the collector's `observe`.
 *
 * @example
 * ```ts
 * const chains = makeChainAccess(config)
 * const observe = makeOperatorSetObserver({ chains: config.chains, readerFor: chains.reader, domain, logger })
 * const reads = await observe(state, signatureEnvelope) // [OperatorSetRead] or []
 * ```
 */
export const makeOperatorSetObserver =
  (options: OperatorSetObserverOptions) =>
  async (state: CollectorState, input: Envelope): Promise<ReadonlyArray<ChorusEvent>> => {
    const event = input.event
    if (event._tag !== "CheckpointProposed" && event._tag !== "AttestationSigned") return []
    const { checkpoint } = event
    const dstChainId = checkpoint.dstChainId
    if (event._tag === "CheckpointProposed" && state.sets.has(dstChainId)) {
      const record = state.records.get(checkpointDigest(options.domain, checkpoint))
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
    const inbox = options.readerFor(dstChainId).inbox(chain.inbox)
    const { block, epoch } = await inbox.epoch()
    if (epoch === 0) {
      options.logger.warn("the destination Inbox has no operator set yet (epoch 0); nothing can be counted", {
        lane: input.key,
        dstChainId,
        inbox: chain.inbox,
      })
      return []
    }
    if (state.sets.get(dstChainId)?.epoch === epoch) return []
    const set = await inbox.operatorSet(block)
    return [
      new OperatorSetRead({
        lane: new Lane({ srcChainId: checkpoint.srcChainId, outbox: checkpoint.outbox, dstChainId }),
        inbox: toAddress(chain.inbox),
        epoch: set.epoch,
        block,
        operators: set.operators,
        thresholdBps: set.thresholdBps,
      }),
    ]
  }
