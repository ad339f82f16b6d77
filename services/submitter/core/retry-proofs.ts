/**
 * Single-message proofs for retries, from the range proofs the submitter
 * holds. `Inbox.retry` (and a one-message `deliver`) needs a proof against
 * a root the Inbox has committed. The proof-builder proves each message
 * against the checkpoint that first included it, but the planner often
 * delivers a batch against a later checkpoint, and only that one is stored.
 * So the submitter narrows the batch's joined range proof to the message
 * (`narrowRangeProof`): the proof of exactly the root the Inbox committed
 * when the message failed.
 *
 * @module
 */
import type { Hex } from "viem"
import type { Bytes32, MessageId } from "../../../schemas/index.ts"
import { mergeRangeProofs, narrowRangeProof, ProofShapeError } from "./proofs.ts"
import type { Chunk, LaneState, SingleProof } from "./state.ts"

/**
 * The held chunk holding message `id`, and where in it.
 *
 * @example
 * ```ts
 * const held = chunkHolding(lane, id) // { chunk, index } or undefined
 * ```
 */
export const chunkHolding = (
  lane: LaneState,
  id: MessageId,
): { readonly chunk: Chunk; readonly index: number } | undefined => {
  for (const chunk of lane.chunks.values()) {
    const index = chunk.messageIds.indexOf(id)
    if (index >= 0) return { chunk, index }
  }
  return undefined
}

const narrowed = (
  checkpoint: Chunk["checkpoint"],
  start: number,
  leaves: ReadonlyArray<MessageId>,
  siblings: ReadonlyArray<Hex>,
  nonce: number,
): SingleProof | null => {
  try {
    const proof = narrowRangeProof(
      { start, count: checkpoint.count, leaves: leaves as ReadonlyArray<Hex>, siblings },
      nonce,
    )
    return { checkpoint, proof: proof as ReadonlyArray<Bytes32> }
  } catch (error) {
    // A malformed upstream proof yields no retry proof: the fold never fails on it, and a retry says so.
    if (error instanceof ProofShapeError || error instanceof RangeError) return null
    throw error
  }
}

/**
 * The proof of message `index` of `chunk` against the chunk's own checkpoint,
 * or null if the chunk's proof is malformed.
 *
 * @example
 * ```ts
 * chunkProofOf(chunk, 2)?.checkpoint.root // chunk.checkpoint.root
 * ```
 */
export const chunkProofOf = (chunk: Chunk, index: number): SingleProof | null =>
  narrowed(
    chunk.checkpoint,
    chunk.start,
    chunk.messageIds,
    chunk.proof as ReadonlyArray<Hex>,
    chunk.start + index,
  )

/**
 * Single-message proofs of message `id` from the chunks held, best first:
 * against the root the batch that carried it was proven against
 * (`proofRoot`: the root the Inbox stores when a message of the batch fails
 * — its chunks joined as the planner sent them, through the chunk whose
 * checkpoint that is, even when the batch was a part of its chunks), then
 * against its own chunk's checkpoint. Empty if no held chunk has it.
 *
 * @example
 * ```ts
 * const proofs = retryProofsOf(lane, failedId, flight.messageIds, flight.proofRoot)
 * proofs[0]?.checkpoint.root // the root the batch was delivered against
 * ```
 */
export const retryProofsOf = (
  lane: LaneState,
  id: MessageId,
  batch: ReadonlyArray<MessageId>,
  proofRoot: Bytes32 | null = null,
): SingleProof[] => {
  const own = chunkHolding(lane, id)
  if (own === undefined) return []
  const nonce = own.chunk.start + own.index
  const proofs: SingleProof[] = []
  const wanted = new Set<string>(batch)
  const held = [...lane.chunks.values()].sort((a, b) => a.start - b.start)
  const chunks = held.filter((c) => c.messageIds.some((m) => wanted.has(m)))
  // A batch sent as a part of its chunks is proven against a later chunk's checkpoint: join through it.
  const last = chunks[chunks.length - 1]
  if (proofRoot !== null && last !== undefined && last.checkpoint.root !== proofRoot) {
    const through: Chunk[] = []
    for (const chunk of held.slice(held.indexOf(last) + 1)) {
      if (chunk.start !== (through[through.length - 1] ?? last).end) break
      through.push(chunk)
      if (chunk.checkpoint.root === proofRoot) {
        chunks.push(...through)
        break
      }
    }
  }
  const contiguous = chunks.every((c, i) => i === 0 || c.start === chunks[i - 1]!.end)
  if (contiguous && chunks.includes(own.chunk)) {
    const first = chunks[0]!
    const last = chunks[chunks.length - 1]!
    const part = (c: Chunk) => ({
      start: c.start,
      end: c.end,
      count: c.checkpoint.count,
      siblings: c.proof as ReadonlyArray<Hex>,
    })
    try {
      const joined = mergeRangeProofs(part(first), part(last))
      const proof = narrowed(
        last.checkpoint,
        first.start,
        chunks.flatMap((c) => c.messageIds),
        joined,
        nonce,
      )
      if (proof !== null) proofs.push(proof)
    } catch (error) {
      if (!(error instanceof ProofShapeError)) throw error
    }
  }
  if (!proofs.some((p) => p.checkpoint.root === own.chunk.checkpoint.root)) {
    const proof = chunkProofOf(own.chunk, own.index)
    if (proof !== null) proofs.push(proof)
  }
  return proofs
}
