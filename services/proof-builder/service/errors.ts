/**
 * Why the proof-builder could not read a lane from its source chain. Each is
 * thrown from `observe`, so the bus redelivers the message and the read is
 * tried again; nothing is published for it meanwhile.
 *
 * @module
 */

/** The message's block is above the proof-builder's own finalized head. */
export class BlockNotFinalizedError extends Error {
  override readonly name = "BlockNotFinalizedError"
  readonly details: { readonly chainId: number; readonly block: number; readonly finalized: number }
  constructor(details: { readonly chainId: number; readonly block: number; readonly finalized: number }) {
    super(
      `chain ${details.chainId}: block ${details.block} is not final on the proof-builder's RPC yet (finalized head ${details.finalized}); ` +
        "the read is retried. If this persists, the proof-builder's RPC lags the chain-watcher's or their finality settings differ.",
    )
    this.details = details
  }
}

/** A configured RPC serves another chain than the one it is configured for. */
export class WrongChainError extends Error {
  override readonly name = "WrongChainError"
  readonly details: {
    readonly expected: number
    readonly actual: number
    readonly rpcUrls: ReadonlyArray<string>
  }
  constructor(details: {
    readonly expected: number
    readonly actual: number
    readonly rpcUrls: ReadonlyArray<string>
  }) {
    super(
      `the RPC configured for chain ${details.expected} (${details.rpcUrls.join(", ")}) serves chain ${details.actual}; ` +
        "fix proofBuilder.rpcUrls or the chain's rpcUrls in the configuration.",
    )
    this.details = details
  }
}
