/**
 * The chain-watcher's errors: each has a short message, its details as
 * fields, and what to do next.
 *
 * @module
 */
import type { ChainHalted } from "../../schemas/index.ts"

/**
 * The watcher saw its chain rewritten below its cursor and stopped. `done`
 * rejects with it, so `chorus run` exits non-zero.
 */
export class ChainHaltedError extends Error {
  readonly _tag = "ChainHaltedError"
  override readonly name = "ChainHaltedError"
  readonly chainId: number
  readonly blockNumber: number
  readonly expectedHash: string
  readonly observedHash: string
  readonly reason: string

  constructor(halt: ChainHalted) {
    super(
      `chain ${halt.chainId} halted at block ${halt.blockNumber}: expected hash ${halt.expectedHash}, observed ${halt.observedHash}. ` +
        `${halt.reason}. Investigate the rewrite (which RPC served which chain, and why finality was violated), ` +
        `then restart from a trusted cursor: publish a WatcherCursor for chain ${halt.chainId} at a block below the rewrite ` +
        `on chorus.watcher.cursors (the last one written wins) and start the watcher again.`,
    )
    this.chainId = halt.chainId
    this.blockNumber = halt.blockNumber
    this.expectedHash = halt.expectedHash
    this.observedHash = halt.observedHash
    this.reason = halt.reason
  }
}

/**
 * An RPC answer that failed the watcher's checks (a log outside the range,
 * a block hash that does not match its header, a message whose id does not
 * match its topic…). Nothing of the read is emitted; the next tick reads again.
 */
export class InvalidRpcResponseError extends Error {
  readonly _tag = "InvalidRpcResponseError"
  override readonly name = "InvalidRpcResponseError"
  readonly chainId: number
  /** Every problem found, each naming the block, transaction and log it is about. */
  readonly problems: ReadonlyArray<string>

  constructor(chainId: number, what: string, problems: ReadonlyArray<string>) {
    super(
      `chain ${chainId}: the RPC's answer to ${what} failed validation (${problems.length} problem${problems.length === 1 ? "" : "s"}: ${problems.join("; ")}). ` +
        "Nothing was emitted; the range is read again next tick. If it persists, check the chain's rpcUrls.",
    )
    this.chainId = chainId
    this.problems = problems
  }
}

/**
 * `eth_getLogs` refused even a single block as too large: the range cannot
 * shrink further, so the watcher cannot make progress with this RPC.
 */
export class LogRangeExhaustedError extends Error {
  readonly _tag = "LogRangeExhaustedError"
  override readonly name = "LogRangeExhaustedError"
  readonly block: number

  constructor(block: number, cause: unknown) {
    super(
      `eth_getLogs refused block ${block} alone as too large (${cause instanceof Error ? cause.message.split("\n")[0] : String(cause)}). ` +
        "Use an RPC with higher log limits for this chain.",
      { cause },
    )
    this.block = block
  }
}
