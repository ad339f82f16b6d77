import { Schema } from "effect"
import { Address, Bytes32, ChainId, U256, Uint } from "../primitives.ts"
import { Signature } from "./checkpoint-attested.ts"
import { OperatorWeight } from "./operator-set-read.ts"

/**
 * An operator-set update ready for one destination: the hub registry's set at `epoch`, signed by operators of
 * the set that destination's Inbox trusts now (its epoch `fromEpoch`) holding at least its threshold of stake.
 * What the destination's submitter sends as `Inbox.updateOperatorSet`.
 */
export class OperatorSetAttested extends Schema.TaggedClass<OperatorSetAttested>()("OperatorSetAttested", {
  /** The hub chain. */
  chainId: ChainId,
  registry: Address,
  destination: ChainId,
  inbox: Address,
  /** The Inbox's epoch the signatures were counted against. */
  fromEpoch: Uint,
  epoch: Uint,
  operators: Schema.Array(OperatorWeight),
  thresholdBps: Uint,
  digest: Bytes32,
  /** Ascending by signer, as the Inbox requires. */
  signatures: Schema.Array(Signature),
  signedStake: U256,
  totalStake: U256,
}) {}
