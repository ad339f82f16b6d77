/**
 * Why the proof-builder could not read a lane from its source chain. Each is
 * thrown from `observe`, so the bus redelivers the message and the read is
 * tried again; nothing is published for it meanwhile (a block that stays
 * past the finalized head is, after a while, read at that head instead). Errors of the chain
 * itself (a wrong chain behind the RPC, an unreachable RPC) are the chain
 * reader's, in `chains/`.
 *
 * @module
 */
import { ChorusError } from "../../../errors/index.ts"

/** The message's block is above the proof-builder's own finalized head. */
export class BlockNotFinalizedError extends ChorusError {
  override readonly name = "BlockNotFinalizedError"
  declare readonly details: {
    readonly chainId: number
    readonly block: number
    /** Null while no block is final under the chain's finality rule. */
    readonly finalized: number | null
  }

  constructor(
    details: {
      readonly chainId: number
      readonly block: number
      readonly finalized: number | null
    },
    cause?: unknown,
  ) {
    const head =
      details.finalized === null
        ? "no block is final yet under its finality rule"
        : `finalized head ${details.finalized}`
    super(
      `chain ${details.chainId}: block ${details.block} is not final on the proof-builder's RPC yet (${head})`,
      {
        details,
        hint:
          "The read is retried for a while, then the message waits, deferred, until a later read shows its " +
          "block final. If this persists, the proof-builder's RPC lags the chain-watcher's, their finality " +
          "settings differ, or the observation names a block the chain has not reached.",
        ...(cause === undefined ? {} : { cause }),
      },
    )
  }
}

/** A configured RPC serves another chain than the one it is configured for (the chain reader's error). */
export { WrongChainError } from "../../../chains/index.ts"
