/**
 * The operator's errors. Each says what happened, with the details to act on,
 * and what to do next. Errors of its chains (an RPC that serves another
 * chain, one that is down) are the chain reader's, in `chains/`.
 *
 * @module
 */
import { ChorusError } from "../../errors/index.ts"

/** The operator was stopped while it waited for its RPC; the proposal is handled again on the next start. */
export class OperatorStoppedError extends ChorusError {
  override readonly name = "OperatorStoppedError"

  constructor(operator: string) {
    super(`operator ${operator} stopped while it waited for finality`, {
      details: { operator },
      hint: "Nothing was committed for the proposal; it is handled again when the operator starts.",
    })
  }
}

/** The operator's configuration names a chain that is not configured. */
export class OperatorConfigError extends ChorusError {
  override readonly name = "OperatorConfigError"
  declare readonly details: { readonly path: string; readonly chainId: string }

  constructor(details: { readonly path: string; readonly chainId: string; readonly configured: string }) {
    super(
      `${details.path}: chain ${details.chainId} has RPC URLs but is not in chains (configured: ${details.configured})`,
      {
        details: { path: details.path, chainId: details.chainId },
        hint: "Add the chain to chains or remove its entry.",
      },
    )
  }
}
