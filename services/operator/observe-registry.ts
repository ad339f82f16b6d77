/**
 * The operator's look at the hub before it signs an operator-set update: its own hub RPC's view of the registry,
 * recorded as a `RegistrySetRead` the core decides on (`sign-operator-set.ts`). A replay feeds the same record
 * back, so it decides the same way with no RPC call.
 *
 * Pipeline, per `OperatorSetObserved` of the network's registry:
 *   1. its own hub RPC's finalized head (the hub chain's finality rule, `chains/`);
 *   2. the registry's whole set there (`RegistryReader`, an answer breaking the registry's bounds refused);
 *   3. a set at an epoch below the record's is not final on its RPC yet: it polls again until it is, for at
 *      most `finalityWaitMs`, then records what it last read (the core refuses `not-final`).
 *
 * A record of another hub or registry gets no read (the core refuses it as `wrong-registry`). Each read goes
 * through the hub chain's fault tracker: an answer that does not decode is asked again three times, an RPC
 * that gives no answer is asked again with backoff, each failure logged with the RPC's redacted URL — for at
 * most `finalityWaitMs` in all: then the observer gives up and records nothing, and the core refuses
 * (`rpc-invalid`). The update never holds the operator's other inputs longer than that; the set-watcher
 * re-announces a set an Inbox still lags, and the operator reads again then.
 *
 * @module
 */
import {
  abortableSleep,
  type ChainReader,
  makeFaultTrackers,
  RpcAnswerInvalidError,
  type SteadyReadOptions,
  steadyRead,
} from "../../chains/index.ts"
import {
  type Address,
  ChainId,
  type ChorusEvent,
  type Envelope,
  RegistrySetRead,
} from "../../schemas/index.ts"
import type { ChainObserverOptions } from "../runtime/chain-observer-options.ts"
import { OperatorStoppedError } from "./errors.ts"

export interface RegistryObserverOptions extends ChainObserverOptions {
  /** The operator that reads (lowercase): it owns the reads. */
  readonly operator: Address
  /** The network's hub chain and registry (lowercase). */
  readonly hub: { readonly chainId: number; readonly registry: Address }
  /** The operator's own reader of the hub chain. */
  readonly reader: ChainReader
  readonly finalityWaitMs: number
}

/**
 * Makes the registry observer of one operator.
 *
 * @example
 * ```ts
 * const observe = makeRegistryObserver({ operator, hub, reader, finalityWaitMs: 60_000, rpcFaults, logger, signal })
 * const reads = await observe(input) // [RegistrySetRead] or [] when its RPC answered nothing that decodes
 * ```
 */
export const makeRegistryObserver = (options: RegistryObserverOptions) => {
  const { operator, hub, reader, logger, signal } = options
  const pollIntervalMs = options.pollIntervalMs ?? 250
  const tracker = makeFaultTrackers({ ...options.rpcFaults, logger })(hub.chainId)
  const steadilyOf: SteadyReadOptions = {
    tracker,
    logger,
    pollIntervalMs,
    invalidAttempts: 3,
    signal,
    stopped: () => new OperatorStoppedError(operator),
    // The tracker logs every streak with the RPC's redacted URL; the update waits meanwhile.
    recordStall: async () => {},
    recordRecovery: async () => {},
  }
  const registry = reader.registry(hub.registry)

  return async (input: Envelope): Promise<ReadonlyArray<ChorusEvent>> => {
    const observed = input.event
    if (observed._tag !== "OperatorSetObserved") return []
    if (observed.chainId !== hub.chainId || observed.registry !== hub.registry) return []
    const deadline = Date.now() + options.finalityWaitMs
    const bound = AbortSignal.any([signal, AbortSignal.timeout(options.finalityWaitMs)])
    const steadily = { ...steadilyOf, signal: bound }
    /** The last set its RPC showed at a final block: what is recorded when the record's epoch never comes. */
    let last: RegistrySetRead | undefined
    try {
      for (;;) {
        const head = await steadyRead(steadily, () => reader.finalizedHead())
        if (head !== null) {
          const set = await steadyRead(steadily, () => registry.operatorSet(head))
          last = new RegistrySetRead({
            reader: operator,
            chainId: ChainId.make(hub.chainId),
            registry: hub.registry,
            block: head,
            epoch: set.epoch,
            operators: set.operators,
            thresholdBps: set.thresholdBps,
          })
          if (set.epoch >= observed.epoch) return [last]
        }
        if (Date.now() >= deadline) return last === undefined ? [] : [last]
        await abortableSleep(pollIntervalMs, signal)
      }
    } catch (error) {
      if (error instanceof OperatorStoppedError && !signal.aborted) {
        if (last !== undefined) return [last]
        logger.warn("its own hub RPC gave no answer in time for the registry; refusing the update", {
          epoch: observed.epoch,
          waitedMs: options.finalityWaitMs,
        })
        return []
      }
      if (!(error instanceof RpcAnswerInvalidError)) throw error
      logger.warn("its own hub RPC answered nothing that decodes for the registry; refusing the update", {
        epoch: observed.epoch,
        error: error.message,
      })
      return []
    }
  }
}
