import { Schema } from "effect"
import { Address } from "../primitives.ts"
import { RegistrySetFields } from "./operator-set-observed.ts"

/**
 * An operator's own read of the hub registry, made before it signs an operator-set update: the registry's whole
 * set at the highest block the operator's hub RPC calls final (`block`). The operator signs only what this read
 * shows, so a forged or stale `OperatorSetObserved` on the bus can make it sign nothing the registry does not
 * hold now.
 */
export class RegistrySetRead extends Schema.TaggedClass<RegistrySetRead>()("RegistrySetRead", {
  /** The operator that read (it owns the read). */
  reader: Address,
  ...RegistrySetFields,
}) {}
