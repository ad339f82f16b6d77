import { decodeRecord, type Envelope, type EventDecodeError } from "../../schemas/index.ts"
import { ownerMismatch, UnauthenticatedRecordError } from "../authentication/index.ts"
import type { BusPort, BusRecord } from "../port.ts"

/**
 * A record as a consumer on `bus` may use it: decoded, and, on an
 * authenticating bus, written by a producer the policy trusts and about that
 * producer's own instance. The signature is checked before anything is
 * decoded; the owner after, since it is part of the content.
 *
 * @example
 * ```ts
 * const decoded = decodeAuthenticated(bus, record)
 * if (!decoded.ok) console.warn(decoded.error.message)
 * ```
 */
export const decodeAuthenticated = (
  bus: BusPort,
  record: BusRecord,
):
  | { readonly ok: true; readonly value: Envelope }
  | { readonly ok: false; readonly error: EventDecodeError | UnauthenticatedRecordError } => {
  const authenticated = bus.authenticate?.(record)
  if (authenticated !== undefined && !authenticated.ok) {
    return { ok: false, error: new UnauthenticatedRecordError(authenticated) }
  }
  const decoded = decodeRecord(record)
  if (!decoded.ok || authenticated === undefined) return decoded
  const mismatch = ownerMismatch(decoded.value, authenticated.grant)
  return mismatch === undefined ? decoded : { ok: false, error: new UnauthenticatedRecordError(mismatch) }
}
