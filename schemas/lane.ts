/**
 * Lanes and checkpoints: what operators sign and what topics are keyed by.
 *
 * @module
 */
import { Schema } from "effect"
import { Address, Bytes32, ChainId, Uint } from "./primitives.ts"

/** A lane: one source outbox towards one destination chain. */
export class Lane extends Schema.Class<Lane>("Lane")({
  srcChainId: ChainId,
  outbox: Address,
  dstChainId: ChainId,
}) {}

/** The checkpoint operators sign with EIP-712: a lane's root after `count` messages. */
export class Checkpoint extends Schema.Class<Checkpoint>("Checkpoint")({
  srcChainId: ChainId,
  outbox: Address,
  dstChainId: ChainId,
  root: Bytes32,
  count: Uint,
}) {}

/**
 * The partition key of everything that belongs to a lane, so one lane's
 * events keep their order on every topic.
 *
 * @example
 * ```ts
 * laneKey({ srcChainId: 901, dstChainId: 902 }) // "901-902"
 * ```
 */
export const laneKey = (lane: { readonly srcChainId: number; readonly dstChainId: number }): string =>
  `${lane.srcChainId}-${lane.dstChainId}`

/** A block as Chorus refers to it: number and hash, so a rewrite is detectable. */
export class BlockRef extends Schema.Class<BlockRef>("BlockRef")({
  number: Uint,
  hash: Bytes32,
}) {}
