import { Schema } from "effect"
import { BlockRef, Lane } from "../lane.ts"
import { Address, U256, Uint } from "../primitives.ts"

/** One operator of a set, with its stake weight. */
export class OperatorWeight extends Schema.Class<OperatorWeight>("OperatorWeight")({
  address: Address,
  weight: U256,
}) {}

/**
 * The operator set a destination Inbox checks signatures against, read from
 * that chain. The attestation-collector reads it when it first needs a
 * destination and again whenever the Inbox's epoch changes.
 */
export class OperatorSetRead extends Schema.TaggedClass<OperatorSetRead>()("OperatorSetRead", {
  /** The lane whose proposal prompted the read (it keys the event). */
  lane: Lane,
  inbox: Address,
  epoch: Uint,
  block: BlockRef,
  operators: Schema.Array(OperatorWeight),
  thresholdBps: Uint,
}) {}

/** An operator set's fields, in any event that carries one (what the registry holds, what an Inbox trusts). */
export interface OperatorSetFields {
  readonly epoch: number
  readonly operators: ReadonlyArray<OperatorWeight>
  readonly thresholdBps: number
}

/**
 * Two sets compared field by field (addresses are lowercase on the wire).
 *
 * @example
 * ```ts
 * if (!sameOperatorSet(read, observed)) refuse("set-mismatch")
 * ```
 */
export const sameOperatorSet = (a: OperatorSetFields, b: OperatorSetFields): boolean =>
  a.epoch === b.epoch &&
  a.thresholdBps === b.thresholdBps &&
  a.operators.length === b.operators.length &&
  a.operators.every((o, i) => o.address === b.operators[i]!.address && o.weight === b.operators[i]!.weight)
