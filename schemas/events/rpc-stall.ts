import { Schema } from "effect"
import { Lane } from "../lane.ts"
import { ChainId, IsoTime, Uint } from "../primitives.ts"

/**
 * Why a service could not get on with a chain:
 * - `rpc-unreachable`: its RPC gave no usable answer (unreachable, timed
 *   out, an error answer, a wrong chain);
 * - `rpc-invalid`: its RPC answered, but what it answered does not decode
 *   or fails the reader's checks (a bare word where a struct belongs,
 *   garbage where a block or logs belong).
 */
export const RpcFaultReason = Schema.Literals(["rpc-unreachable", "rpc-invalid"])
export type RpcFaultReason = typeof RpcFaultReason.Type

/** The most characters a recorded URL or problem keeps: whatever an RPC answered is bounded before it is. */
export const RPC_TEXT_MAX = 512

const Text = Schema.String.check(Schema.isMaxLength(RPC_TEXT_MAX))

/** What every RPC fault record says: which chain, why, at which RPC, what was asked, and since when. */
const faultFields = {
  /** The chain whose RPC failed. */
  chainId: ChainId,
  reason: RpcFaultReason,
  /** The RPC URL (or `one of …` behind a fallback), redacted: no credential, no API key. */
  rpc: Text,
  /** What was asked (`reading the finalized head`, `eth_call`, `Inbox.epoch()`…). */
  what: Text,
  /** The last failure in words, bounded (an excerpt of what the RPC answered, for `rpc-invalid`). */
  problem: Text,
  /** When the failures began: the first failed attempt of this streak. */
  since: IsoTime,
  /** Failed attempts so far. */
  attempts: Uint,
}

/** What a recovery says: which stall it ends (the same chain, reason, RPC and `since`). */
const recoveryFields = {
  chainId: ChainId,
  reason: RpcFaultReason,
  rpc: Text,
  since: IsoTime,
  /** Failed attempts in all, before the RPC answered again. */
  attempts: Uint,
}

/**
 * A chain-watcher got no usable answer from its chain's RPC for longer than
 * `rpc.unreachableAfterMs` (`rpc-unreachable`), or only answers it could not
 * use (`rpc-invalid`). It keeps trying; nothing is observed on that chain
 * meanwhile. Recorded once per outage (its `since` makes it one), on the
 * chain topic; `WatcherRecovered` ends it.
 */
export class WatcherStalled extends Schema.TaggedClass<WatcherStalled>()("WatcherStalled", faultFields) {}

/** The chain-watcher's RPC answered again after a `WatcherStalled` with the same `since`. */
export class WatcherRecovered extends Schema.TaggedClass<WatcherRecovered>()(
  "WatcherRecovered",
  recoveryFields,
) {}

/**
 * A lane service's reads of a chain failed while it handled an input (its
 * cause), recorded beside its other reads. Two kinds, by `outage`:
 * - an outage (`outage: true`): the service's RPC for that chain gave no
 *   usable answer (`rpc-unreachable`), or only answers that do not decode
 *   (`rpc-invalid`), for longer than `rpc.unreachableAfterMs`. The service
 *   keeps trying (an operator holds the proposal). Recorded once per
 *   outage, whichever input it held then; `ChainReadRecovered` ends it.
 * - a read given up on (`outage: false`, `rpc-invalid`): the RPC answered
 *   what does not decode every time it was asked for this input. The
 *   service's core decides on this record (an operator refuses with
 *   `rpc-invalid`), so a replay decides the same without an RPC call; a
 *   later input is read afresh.
 */
export class ChainReadFailed extends Schema.TaggedClass<ChainReadFailed>()("ChainReadFailed", {
  /** Who read: an operator's address (wire form), as in `OutboxLaneRead.reader`, or the service's name. */
  reader: Schema.NonEmptyString,
  /** The lane of the input it was reading for (it keys the event, so it lands beside that input). */
  lane: Lane,
  /** True: an outage of the service's RPC, recorded once; false: this input's read, given up on. */
  outage: Schema.Boolean,
  ...faultFields,
}) {}

/** A lane service's RPC for a chain answered again after an outage (`ChainReadFailed`, `outage`) with the same `since`. */
export class ChainReadRecovered extends Schema.TaggedClass<ChainReadRecovered>()("ChainReadRecovered", {
  reader: Schema.NonEmptyString,
  lane: Lane,
  ...recoveryFields,
}) {}
