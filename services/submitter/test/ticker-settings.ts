import type { TickerSettings } from "../service/index.ts"

/**
 * The writer's settings for tests that fake the chain: chain 902, batches of 64, no batch window.
 *
 * @example
 * ```ts
 * makeTicker({ settings: tickerSettings({ stopDrainMs: 0 }), chain, reader, views, publish, stamp, logger })
 * ```
 */
export const tickerSettings = (overrides: Partial<TickerSettings> = {}): TickerSettings => ({
  chainId: 902,
  batchSize: 64,
  windowMs: 0,
  maxBatchGas: 10_000_000,
  confirmations: 1,
  maxInFlight: 4,
  gasMarginBps: 2_000,
  stuckAfterMs: 30_000,
  feeBumpBps: 1_250,
  pollIntervalMs: 50,
  stopDrainMs: 1_000,
  ...overrides,
})
