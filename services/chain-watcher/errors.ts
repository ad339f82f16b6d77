/**
 * The chain-watcher's own error. Errors about reading a chain (an answer that
 * failed validation, a log range no RPC accepts, a wrong chain) are the chain
 * reader's, in `chains/`.
 *
 * @module
 */
import { ChorusError } from "../../errors/index.ts"
import type { ChainHalted } from "../../schemas/index.ts"

/**
 * The watcher saw its chain rewritten below its cursor and stopped. `done`
 * rejects with it, so `chorus run` exits non-zero.
 */
export class ChainHaltedError extends ChorusError {
  override readonly name = "ChainHaltedError"
  readonly chainId: number
  readonly blockNumber: number
  readonly expectedHash: string
  readonly observedHash: string
  readonly reason: string

  constructor(halt: ChainHalted) {
    super(
      `chain ${halt.chainId} halted at block ${halt.blockNumber}: expected hash ${halt.expectedHash}, observed ${halt.observedHash}. ${halt.reason}`,
      {
        details: {
          chainId: halt.chainId,
          blockNumber: halt.blockNumber,
          expectedHash: halt.expectedHash,
          observedHash: halt.observedHash,
        },
        hint:
          "Investigate the rewrite (which RPC served which chain, and why finality was violated), " +
          `then restart from a trusted cursor: publish a WatcherCursor for chain ${halt.chainId} at a block below the rewrite ` +
          "on chorus.watcher.cursors (the last one written wins) and start the watcher again.",
      },
    )
    this.chainId = halt.chainId
    this.blockNumber = halt.blockNumber
    this.expectedHash = halt.expectedHash
    this.observedHash = halt.observedHash
    this.reason = halt.reason
  }
}
