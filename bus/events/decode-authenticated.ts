import { decodeRecord, type Envelope, type EventDecodeError } from "../../schemas/index.ts"
import { ownerMismatch, UnauthenticatedRecordError } from "../authentication/index.ts"
import type { BusPort, BusRecord } from "../port.ts"
import { RecordMemo } from "../record-memo.ts"

/**
 * A record as a consumer on `bus` may use it: decoded, and, on an
 * authenticating bus, written by a producer the policy trusts and about that
 * producer's own instance. The signature is checked before anything is
 * decoded; the owner after, since it is part of the content. A record is
 * checked and decoded once per producer policy (once in all when there is
 * none), however many consumers of the process read it: the answer depends
 * on nothing else.
 *
 * @example
 * ```ts
 * const decoded = decodeAuthenticated(bus, record)
 * if (!decoded.ok) console.warn(decoded.error.message)
 * ```
 */
export const decodeAuthenticated = (bus: BusPort, record: BusRecord): Authenticated => {
  const by = bus.authenticate ?? UNAUTHENTICATED
  let memo = memos.get(by)
  if (memo === undefined) {
    memo = new RecordMemo()
    memos.set(by, memo)
  }
  return memo.answer(record, (fresh) => check(bus, fresh))
}

/** Answers by the bus's `authenticate` (one per producer policy, see `authenticated-bus.ts`). */
const memos = new WeakMap<object, RecordMemo<Authenticated>>()
const UNAUTHENTICATED = {}

type Authenticated =
  | { readonly ok: true; readonly value: Envelope }
  | { readonly ok: false; readonly error: EventDecodeError | UnauthenticatedRecordError }

const check = (bus: BusPort, record: BusRecord): Authenticated => {
  const authenticated = bus.authenticate?.(record)
  if (authenticated !== undefined && !authenticated.ok) {
    return { ok: false, error: new UnauthenticatedRecordError(authenticated) }
  }
  const decoded = decodeRecord(record)
  if (!decoded.ok || authenticated === undefined) return decoded
  const mismatch = ownerMismatch(decoded.value, authenticated.grant)
  return mismatch === undefined ? decoded : { ok: false, error: new UnauthenticatedRecordError(mismatch) }
}
