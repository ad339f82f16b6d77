import { Schema } from "effect"
import { BlockRef, Lane } from "../lane.ts"
import { ChainId, EventId, IsoTime, Uint } from "../primitives.ts"

/** The `ChainHalted` a reader saw in force (or lifted) on the log. */
export class HaltSeen extends Schema.Class<HaltSeen>("HaltSeen")({
  /** The `ChainHalted` record. */
  eventId: EventId,
  /** The block its watcher found rewritten. */
  blockNumber: Uint,
  reason: Schema.String,
}) {}

/** The `ChainResumed` that lifted it, as the reader saw it on the log. */
export class ResumeSeen extends Schema.Class<ResumeSeen>("ResumeSeen")({
  /** The `ChainResumed` record. */
  eventId: EventId,
  /** The trusted block the chain is read again from. */
  block: BlockRef,
  /** Who ran `chorus chain resume`. */
  by: Schema.String,
  /** When it was written. */
  at: IsoTime,
}) {}

/**
 * What `chorus.chain.halts` said of a proposal's source chain when an
 * operator handled the proposal: halted (`resumed` null), or halted and
 * lifted since. Recorded on `chorus.lane.reads` beside the proposal's
 * other reads, caused by it, so the operator's core decides from it (it
 * refuses `chain-halted` while `resumed` is null) and a replay decides the
 * same without reading the topic again.
 *
 * Absent for a chain never halted, and in logs older than it: no record
 * means no halt was seen.
 */
export class ChainHaltRead extends Schema.TaggedClass<ChainHaltRead>()("ChainHaltRead", {
  /** The operator's address (wire form), as in `OutboxLaneRead.reader`. */
  reader: Schema.NonEmptyString,
  /** The lane of the proposal it was read for (it keys the event, so it lands beside that input). */
  lane: Lane,
  /** The chain the halt is of: the lane's source chain. */
  chainId: ChainId,
  halt: HaltSeen,
  /** The resume that lifted the halt; null while the chain is halted. */
  resumed: Schema.NullOr(ResumeSeen),
}) {}
