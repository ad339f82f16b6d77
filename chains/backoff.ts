/**
 * The one backoff of a service that asks its chain again after failures
 * (the chain-watcher's tick loop, the submitter's next transaction): the
 * poll interval doubled per failure, capped. Retries inside one RPC call are
 * the client's own (`evm/client.ts`), not this.
 *
 * @module
 */

/** The longest wait, unless the poll interval itself is longer. */
const MAX_BACKOFF_MS = 30_000

/**
 * How long to wait after `failures` failures in a row (0: the first).
 *
 * @example
 * ```ts
 * backoffMs(1_000, 0) // 1 000
 * backoffMs(1_000, 3) // 8 000
 * backoffMs(1_000, 9) // 30 000
 * ```
 */
export const backoffMs = (pollIntervalMs: number, failures: number): number =>
  Math.min(pollIntervalMs * 2 ** failures, Math.max(pollIntervalMs, MAX_BACKOFF_MS))
