/**
 * The collector's look at a source chain, for a contested checkpoint only: the lane at the proposal's block on the
 * collector's own RPC, recorded as an `OutboxLaneRead` (reader `attestation-collector`) the core checks signatures
 * against (`invalidAttestations` in `core.ts`). A replay feeds the same record back.
 *
 * A checkpoint is contested when, with the input, it holds a valid signature and a peer's refusal that names
 * another lane state on that peer's own RPC (`root-mismatch`, `count-mismatch`), or another root that peer
 * verified and signed for the count (`conflicting-signature`). Only then is the source read,
 * once per checkpoint in this process: an honest lane costs no read, and a flood of forged proposals costs one
 * read each only when an operator signs them, which is the signer's evidence.
 *
 * The read is at the proposal's block number. It is recorded only when that block is final on the collector's RPC
 * and is the block the proposal named (same hash): a lane's tree only grows, so the root a final block shows at a
 * count is that count's root for good. A read of a block not final yet is dropped and made again on the next input
 * about the checkpoint. A read that fails is made again (`steadyRead`) for at most `rpc.unreachableAfterMs`, then
 * passed over (the evidence waits for the next input): an RPC holds the lane no longer than that.
 *
 * @module
 */
import {
  type ChainReader,
  makeFaultTrackers,
  OutboxNotDeployedError,
  RpcAnswerInvalidError,
  steadyRead,
} from "../../chains/index.ts"
import type { CheckpointDomain } from "../../contracts/index.ts"
import {
  ChainId,
  type ChorusEvent,
  type Envelope,
  OutboxLaneRead,
  type RefusalReason,
} from "../../schemas/index.ts"
import type { ChainConfig } from "../config/index.ts"
import type { ChainObserverOptions } from "../runtime/chain-observer-options.ts"
import { checkpointKey } from "./checkpoint-record.ts"
import type { CollectorState } from "./core.ts"
import { CollectorStoppedError } from "./observe-operator-set.ts"
import { checkSignature } from "./verify-signature.ts"

/**
 * The refusals that say the refusing operator's own RPC shows another lane state: another root or count at the
 * block, or another root it already verified and signed for that count.
 */
export const CONTRADICTING: ReadonlySet<RefusalReason> = new Set([
  "root-mismatch",
  "count-mismatch",
  "conflicting-signature",
])

/** The reader of the collector's own source reads. */
export const COLLECTOR_READER = "attestation-collector"

export interface SourceObserverOptions extends ChainObserverOptions {
  readonly chains: ReadonlyArray<Pick<ChainConfig, "chainId">>
  readonly readerFor: (chainId: number) => ChainReader
  readonly domain: CheckpointDomain
}

/**
 * Makes the collector's observer of contested checkpoints' source lanes.
 *
 * @example
 * ```ts
 * const observe = makeSourceObserver({ chains: config.chains, readerFor, domain, logger, rpcFaults, signal })
 * const reads = await observe(state, signatureEnvelope) // [OutboxLaneRead] for a contested checkpoint, else []
 * ```
 */
export const makeSourceObserver = (options: SourceObserverOptions) => {
  const trackerOf = makeFaultTrackers({ ...options.rpcFaults, logger: options.logger })
  const read = new Set<string>()
  return async (state: CollectorState, input: Envelope): Promise<ReadonlyArray<ChorusEvent>> => {
    const event = input.event
    if (event._tag !== "AttestationSigned" && event._tag !== "AttestationRefused") return []
    const { checkpoint } = event
    const key = checkpointKey(checkpoint)
    const record = state.records.get(key)
    if (record?.proposal === undefined || record.source !== undefined || read.has(key)) return []
    const signed =
      record.signatures.size > 0 ||
      (event._tag === "AttestationSigned" && checkSignature(options.domain, event).result === "valid")
    const refused =
      [...record.refusals.values()].some((r) => CONTRADICTING.has(r.reason)) ||
      (event._tag === "AttestationRefused" && CONTRADICTING.has(event.reason))
    if (!signed || !refused) return []
    if (!options.chains.some((c) => c.chainId === checkpoint.srcChainId)) return []
    const { block } = record.proposal
    const steadily = {
      tracker: trackerOf(checkpoint.srcChainId),
      logger: options.logger,
      pollIntervalMs: options.pollIntervalMs ?? 250,
      invalidAttempts: 3,
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.rpcFaults.unreachableAfterMs)]),
      stopped: () => new CollectorStoppedError(checkpoint.srcChainId),
      // The tracker logs the streak with the RPC's redacted URL; the evidence waits for the next input.
      recordStall: async () => {},
      recordRecovery: async () => {},
    }
    try {
      const lane = await steadyRead(steadily, () =>
        options.readerFor(checkpoint.srcChainId).outboxLane(checkpoint, block.number),
      )
      const finalized = lane.finalized
      if (lane.block.hash !== block.hash || finalized === null || finalized.number < block.number) return []
      read.add(key)
      return [
        new OutboxLaneRead({
          reader: COLLECTOR_READER,
          srcChainId: ChainId.make(checkpoint.srcChainId),
          outbox: checkpoint.outbox,
          dstChainId: checkpoint.dstChainId,
          block: lane.block,
          finalized,
          root: lane.root,
          count: lane.count,
        }),
      ]
    } catch (error) {
      if (options.signal.aborted) throw error
      if (
        !(error instanceof CollectorStoppedError) &&
        !(error instanceof RpcAnswerInvalidError) &&
        !(error instanceof OutboxNotDeployedError)
      )
        throw error
      options.logger.warn("a contested checkpoint's source lane could not be read; its evidence waits", {
        srcChainId: checkpoint.srcChainId,
        count: checkpoint.count,
        error: error.message,
      })
      return []
    }
  }
}
