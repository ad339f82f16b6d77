import type { ServiceLogger } from "./logger.ts"

/**
 * What every observer that reads a chain until it answers takes (an operator's Outbox, Inbox and registry
 * reads, the collector's source and Inbox reads): how its RPC faults are logged and recorded, and when to stop.
 */
export interface ChainObserverOptions {
  /** When a failing RPC is recorded as stalled, and how often its failures are logged (`config.rpc`). */
  readonly rpcFaults: { readonly unreachableAfterMs: number; readonly logEveryMs: number }
  readonly logger: ServiceLogger
  /** Aborted when the service stops: a wait in progress ends, and its input is taken again later. */
  readonly signal: AbortSignal
  /** The first pause after a failed read, and between polls where the observer polls (the Outbox observer also reuses a head read this long). Default 250 ms. */
  readonly pollIntervalMs?: number
}
