/**
 * The operator's errors. Each says what happened, with the details to act on,
 * and what to do next.
 *
 * @module
 */

/** The operator's RPC for a chain answers as another chain: its reads would be about the wrong chain. */
export class OperatorRpcChainError extends Error {
  override readonly name = "OperatorRpcChainError"
  readonly details: { readonly operator: string; readonly expected: number; readonly actual: number }

  constructor(details: { readonly operator: string; readonly expected: number; readonly actual: number }) {
    super(
      `operator ${details.operator}: its RPC for chain ${details.expected} answers chain id ${details.actual}. ` +
        `Fix operators[].rpcUrls["${details.expected}"] (or the chain's rpcUrls) and restart; the proposal is retried.`,
    )
    this.details = details
  }
}

/** The operator was stopped while it waited for its RPC; the proposal is handled again on the next start. */
export class OperatorStoppedError extends Error {
  override readonly name = "OperatorStoppedError"

  constructor(operator: string) {
    super(
      `operator ${operator} stopped while it waited for finality; the proposal was not committed and is handled again when it starts`,
    )
  }
}

/** The operator's configuration names a chain that is not configured. */
export class OperatorConfigError extends Error {
  override readonly name = "OperatorConfigError"
  readonly details: { readonly path: string; readonly chainId: string }

  constructor(details: { readonly path: string; readonly chainId: string; readonly configured: string }) {
    super(
      `${details.path}: chain ${details.chainId} has RPC URLs but is not in chains (configured: ${details.configured}). ` +
        "Add the chain to chains or remove its entry.",
    )
    this.details = { path: details.path, chainId: details.chainId }
  }
}
