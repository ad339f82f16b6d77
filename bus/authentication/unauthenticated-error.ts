import { ChorusError } from "../../errors/index.ts"
import type { AuthenticationFailure } from "./producer-policy.ts"
import { SIGNATURE_HEADERS } from "./record-signature.ts"

/**
 * A record that no producer the deployment trusts wrote: unsigned, signed
 * wrongly, or signed by a key not allowed to say what it says. Its bytes may
 * well decode; it is refused before they are read.
 */
export class UnauthenticatedRecordError extends ChorusError {
  override readonly name = "UnauthenticatedRecordError"
  readonly reason = "unauthenticated" as const
  readonly failure: AuthenticationFailure["reason"]
  readonly issues: ReadonlyArray<{ readonly path: string; readonly message: string }>

  constructor(failure: AuthenticationFailure) {
    super(`unauthenticated (${failure.reason}): ${failure.detail}`, {
      details: { reason: failure.reason },
      hint: "Only keys listed in bus.authentication (and the operators' and submitters' derived keys) may write; `chorus verify-log` lists every such record.",
    })
    this.failure = failure.reason
    this.issues = [
      { path: `headers.${SIGNATURE_HEADERS.signature}`, message: `${failure.reason}: ${failure.detail}` },
    ]
  }
}
