import { Schema } from "effect"
import { BlockRef } from "../lane.ts"
import { Address, ChainId, Uint } from "../primitives.ts"
import { OperatorWeight } from "./operator-set-read.ts"

/** The hub registry's whole set at one block: what the set-watcher records, and what an operator reads again. */
export const RegistrySetFields = {
  /** The hub chain. */
  chainId: ChainId,
  registry: Address,
  block: BlockRef,
  epoch: Uint,
  /** Ascending by address, as the registry holds them. */
  operators: Schema.Array(OperatorWeight),
  thresholdBps: Uint,
}

/**
 * The hub registry's whole operator set at a block its chain calls final, as the set-watcher read it: the one
 * source of the set, recorded each time the set-watcher finds it changed. What an operator signs to carry it to
 * every Inbox is read again on the operator's own RPC; this record is nobody's proof.
 */
export class OperatorSetObserved extends Schema.TaggedClass<OperatorSetObserved>()(
  "OperatorSetObserved",
  RegistrySetFields,
) {}
