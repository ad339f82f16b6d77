/**
 * Whether a proof chunk (a `MessageProven` of kind `range`) is what it
 * says, and when it is not, the `ProofRefused` that says why.
 *
 * Pipeline, first failure wins: the chunk carries messages → as many ids as
 * messages → each message fits the ABI (`uint32` nonce, `uint64` gas
 * limit) and hashes to the id beside it → its range lies inside its
 * checkpoint's tree → its proof has the number of siblings that range needs
 * → its ids and siblings hash to its checkpoint's root.
 *
 * Invariants:
 * - Decided from the event alone, never from what the submitter holds: a
 *   chunk refused once is refused on every fold, in any order, so a rebuild
 *   or a replay reproduces every refusal, with the same id.
 * - Total: it never throws, whatever a decodable record holds. A throw in
 *   the core would discard the shard and redeliver the record forever,
 *   stalling every lane of the partition.
 * - Every refusal's `detail` is built from the event's own fields (never
 *   from a library's error text), so it does not change with a dependency.
 * - A refusal is bounded: at most `PROOF_REFUSED_MAX_IDS` ids, whatever the
 *   size of the chunk.
 *
 * @module
 */
import type { Hex } from "viem"
import {
  Bytes32,
  type Message,
  type MessageProven,
  PROOF_REFUSED_MAX_IDS,
  ProofRefused,
} from "../../../schemas/index.ts"
import { computeRangeRoot, MAX_LEAVES } from "../../proof-builder/merkle/index.ts"
import { messageIdOf } from "../../runtime/index.ts"
import { rangeProofLength } from "./proofs.ts"

/** What checking a chunk showed: it verifies, or the reason it does not, in `ProofRefused`'s terms. */
export type ChunkVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false
      readonly reason: "ids-not-messages"
      readonly index: number
      readonly detail: string
    }
  | {
      readonly ok: false
      readonly reason: "root-mismatch"
      readonly computedRoot: Bytes32
      readonly detail: string
    }
  | { readonly ok: false; readonly reason: "unverifiable"; readonly detail: string }

const MAX_UINT32 = 2 ** 32 - 1
const MAX_UINT64 = 2n ** 64n - 1n

const unverifiable = (detail: string): ChunkVerdict => ({ ok: false, reason: "unverifiable", detail })
const siblings = (n: number) => `${n} sibling${n === 1 ? "" : "s"}`

/** Why message `i` cannot be ABI-encoded, or null when it can. */
const unencodable = (message: Message, i: number): string | null => {
  if (message.nonce > MAX_UINT32)
    return `message ${i} cannot be ABI-encoded: its nonce ${message.nonce} does not fit a uint32`
  if (BigInt(message.gasLimit) > MAX_UINT64)
    return `message ${i} (nonce ${message.nonce}) cannot be ABI-encoded: its gas limit ${message.gasLimit} does not fit a uint64`
  return null
}

/** The id message `i` hashes to, or why it has none. */
const idOf = (message: Message, i: number): { readonly id: string } | { readonly why: string } => {
  const why = unencodable(message, i)
  if (why !== null) return { why }
  try {
    return { id: messageIdOf(message).toLowerCase() }
  } catch (error) {
    // Named only by the error's class: its text is the encoder's and may change with its version.
    const name = error instanceof Error ? error.name : typeof error
    return { why: `message ${i} (nonce ${message.nonce}) cannot be ABI-encoded (${name})` }
  }
}

/**
 * Checks a range chunk against its own checkpoint.
 *
 * @example
 * ```ts
 * const verdict = verifyChunk(proven.event)
 * if (!verdict.ok) console.log(verdict.reason, verdict.detail) // "root-mismatch", "its ids and siblings give 0x…"
 * ```
 */
export const verifyChunk = (event: MessageProven): ChunkVerdict => {
  const { start, messages, messageIds, proof, checkpoint } = event
  if (messages.length === 0) return unverifiable("the chunk carries no messages")
  if (messageIds.length !== messages.length) {
    const index = Math.min(messageIds.length, messages.length)
    const missing =
      messageIds.length < messages.length ? `message ${index} has no id` : `id ${index} has no message`
    return {
      ok: false,
      reason: "ids-not-messages",
      index,
      detail: `${messageIds.length} message ids for ${messages.length} messages: ${missing}`,
    }
  }
  for (const [i, message] of messages.entries()) {
    const hashed = idOf(message, i)
    if ("why" in hashed) return unverifiable(hashed.why)
    const claimed = messageIds[i]!
    if (hashed.id !== claimed.toLowerCase()) {
      return {
        ok: false,
        reason: "ids-not-messages",
        index: i,
        detail: `message id ${i} is ${claimed}, but message ${i} (nonce ${message.nonce}) hashes to ${hashed.id}`,
      }
    }
  }
  const end = start + messages.length
  if (end > checkpoint.count || checkpoint.count > MAX_LEAVES)
    return unverifiable(
      `the range [${start}, ${end}) is not inside its checkpoint's tree of ${checkpoint.count} messages`,
    )
  const expected = rangeProofLength(start, end, checkpoint.count)
  if (proof.length !== expected)
    return unverifiable(
      `the proof has ${siblings(proof.length)}; the range [${start}, ${end}) of a tree of ${checkpoint.count} messages needs ${expected}`,
    )
  let root: string
  try {
    root = computeRangeRoot({
      start,
      count: checkpoint.count,
      leaves: messageIds as ReadonlyArray<Hex>,
      siblings: proof as ReadonlyArray<Hex>,
    }).toLowerCase()
  } catch (error) {
    // Not reached after the checks above; kept so that no record can ever make the core throw.
    const name = error instanceof Error ? error.name : typeof error
    return unverifiable(`the range [${start}, ${end}) cannot be hashed to a root (${name})`)
  }
  if (root === checkpoint.root.toLowerCase()) return { ok: true }
  return {
    ok: false,
    reason: "root-mismatch",
    computedRoot: Bytes32.make(root),
    detail: `its ids and siblings give ${root}, not the checkpoint's root ${checkpoint.root} (count ${checkpoint.count})`,
  }
}

/**
 * The refusal of a chunk that does not verify.
 *
 * @example
 * ```ts
 * const verdict = verifyChunk(event)
 * if (!verdict.ok) outputs.push(proofRefusedOf(event, verdict))
 * ```
 */
export const proofRefusedOf = (
  event: MessageProven,
  verdict: Exclude<ChunkVerdict, { readonly ok: true }>,
): ProofRefused =>
  new ProofRefused({
    checkpoint: event.checkpoint,
    start: event.start,
    messageCount: event.messages.length,
    messageIds: event.messageIds.slice(0, PROOF_REFUSED_MAX_IDS),
    reason: verdict.reason,
    index: verdict.reason === "ids-not-messages" ? verdict.index : null,
    computedRoot: verdict.reason === "root-mismatch" ? verdict.computedRoot : null,
    detail: verdict.detail,
  })
