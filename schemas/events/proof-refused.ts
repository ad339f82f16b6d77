import { Schema } from "effect"
import { Checkpoint } from "../lane.ts"
import { Bytes32, MessageId, Uint } from "../primitives.ts"

/**
 * Why a destination's submitter refused a proof chunk. Each is decided from
 * the `MessageProven` alone, never from what the submitter holds, so a
 * replay refuses exactly the same chunks:
 * - `ids-not-messages`: a message id is not `keccak256(abi.encode(message))`
 *   of the message beside it, or the chunk has more ids than messages or
 *   fewer (`index` names the first that does not match);
 * - `root-mismatch`: its ids and siblings hash to another root than its
 *   checkpoint's (`computedRoot` is the one they give);
 * - `unverifiable`: it cannot be checked at all: no messages, a message the
 *   ABI cannot encode, a range outside its checkpoint's tree, the wrong
 *   number of siblings.
 */
export const ProofRefusalReason = Schema.Literals(["ids-not-messages", "root-mismatch", "unverifiable"])
export type ProofRefusalReason = typeof ProofRefusalReason.Type

/** At most this many of a refused chunk's message ids are listed; `messageCount` counts them all. */
export const PROOF_REFUSED_MAX_IDS = 64

/**
 * A range proof chunk (a `MessageProven` of kind `range`, its cause) that
 * the destination's submitter discarded because it does not verify against
 * its own checkpoint. The chunk takes no slot, is never retried, and holds
 * nothing up; the real chunk of the same range is delivered when it comes.
 */
export class ProofRefused extends Schema.TaggedClass<ProofRefused>()("ProofRefused", {
  /** The checkpoint the chunk claims to be proven against: its lane, root and count. */
  checkpoint: Checkpoint,
  /** The nonce of the chunk's first message. */
  start: Uint,
  /** How many messages the chunk carried. */
  messageCount: Uint,
  /** The chunk's message ids as it claimed them, the first `PROOF_REFUSED_MAX_IDS` only. */
  messageIds: Schema.Array(MessageId),
  reason: ProofRefusalReason,
  /** `ids-not-messages`: the position of the first id that is not its message's; null otherwise. */
  index: Schema.NullOr(Uint),
  /** `root-mismatch`: the root the chunk's ids and siblings give; null otherwise. */
  computedRoot: Schema.NullOr(Bytes32),
  /** Human-readable: what the chunk claimed, and what checking it showed. */
  detail: Schema.String,
}) {}
