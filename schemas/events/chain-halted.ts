import { Schema } from "effect"
import { Bytes32, ChainId, Uint } from "../primitives.ts"

/** The watcher saw the chain rewritten below its cursor and stopped. */
export class ChainHalted extends Schema.TaggedClass<ChainHalted>()("ChainHalted", {
  chainId: ChainId,
  blockNumber: Uint,
  expectedHash: Bytes32,
  observedHash: Bytes32,
  reason: Schema.String,
}) {}
