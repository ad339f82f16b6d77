import { Schema } from "effect"
import { BlockRef } from "../lane.ts"
import { Address, ChainId, Uint } from "../primitives.ts"
import { OperatorWeight } from "./operator-set-read.ts"

/**
 * The operator set a destination Inbox trusts now, read by the attestation-collector for an operator-set update
 * of the hub `chainId`: what the update's signatures are counted against for that destination. The lane flow's
 * `OperatorSetRead` is the same read keyed by a lane; this one travels with the hub's updates.
 */
export class InboxSetRead extends Schema.TaggedClass<InboxSetRead>()("InboxSetRead", {
  /** The hub chain whose update prompted the read (it keys the event). */
  chainId: ChainId,
  destination: ChainId,
  inbox: Address,
  epoch: Uint,
  block: BlockRef,
  operators: Schema.Array(OperatorWeight),
  thresholdBps: Uint,
}) {}
