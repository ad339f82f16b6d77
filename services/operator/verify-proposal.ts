/**
 * What an operator checks before it signs a proposal, as pure functions: the
 * lane belongs to its network, and its own read of the Outbox shows what the
 * proposal claims.
 *
 * Each check ends in a closed set of named results; a refusal carries a
 * human-readable detail naming both sides, so whoever reads the refusal on
 * the bus can see what the operator's RPC showed.
 *
 * @module
 */
import type { CheckpointProposed, OutboxLaneRead, RefusalReason } from "../../schemas/index.ts"

/** A configured chain, as far as the operator's checks need it. */
export interface OperatorChain {
  readonly chainId: number
  readonly outbox: string
}

/** The outcome of checking a proposal against the operator's own read. */
export type Verification =
  | { readonly result: "verified"; readonly read: OutboxLaneRead }
  | { readonly result: RefusalReason; readonly detail: string }

const ZERO_ROOT = `0x${"00".repeat(32)}`

/**
 * Why a checkpoint's lane is not one of this operator's network, or undefined
 * when both chains are configured and the outbox is the source chain's.
 *
 * @example
 * ```ts
 * laneProblem(config.chains, proposal.checkpoint) // undefined, or "chain 905 is not configured …"
 * ```
 */
export const laneProblem = (
  chains: ReadonlyArray<OperatorChain>,
  lane: { readonly srcChainId: number; readonly outbox: string; readonly dstChainId: number },
): string | undefined => {
  const configured = chains.map((c) => c.chainId).join(", ")
  const source = chains.find((c) => c.chainId === lane.srcChainId)
  if (source === undefined) {
    return `source chain ${lane.srcChainId} is not one of this operator's configured chains (${configured})`
  }
  if (source.outbox.toLowerCase() !== lane.outbox.toLowerCase()) {
    return `the checkpoint names outbox ${lane.outbox}, but chain ${lane.srcChainId}'s configured Outbox is ${source.outbox.toLowerCase()}`
  }
  if (!chains.some((c) => c.chainId === lane.dstChainId)) {
    return `destination chain ${lane.dstChainId} is not one of this operator's configured chains (${configured})`
  }
  return undefined
}

/**
 * Compares a proposal with the operator's own Outbox read at the proposal's
 * block. Count is checked before root, and both before the block hash: a
 * different Outbox history (another fork, a lying RPC) shows as the
 * different lane state it is, not only as a different block.
 *
 * @example
 * ```ts
 * const verification = verifyProposal(proposal, reads, "0xf39f…2266")
 * if (verification.result === "verified") sign()
 * ```
 */
export const verifyProposal = (
  proposal: CheckpointProposed,
  reads: ReadonlyArray<OutboxLaneRead>,
  reader: string,
): Verification => {
  const { checkpoint, block } = proposal
  const lane = `lane ${checkpoint.srcChainId}-${checkpoint.dstChainId} (outbox ${checkpoint.outbox})`
  const read = reads.find((r) => r.reader === reader && r.block.number === block.number)
  if (read === undefined) {
    return {
      result: "not-finalized",
      detail: `its own RPC for chain ${checkpoint.srcChainId} had not finalized block ${block.number} (the proposal's block) when it stopped waiting, so it read nothing to sign against`,
    }
  }
  if (read.srcChainId !== checkpoint.srcChainId || read.dstChainId !== checkpoint.dstChainId) {
    return {
      result: "wrong-network",
      detail: `its read is of lane ${read.srcChainId}-${read.dstChainId}, not of ${lane}`,
    }
  }
  if (read.outbox !== checkpoint.outbox) {
    return { result: "wrong-network", detail: `its read is of outbox ${read.outbox}, not of ${lane}` }
  }
  if (read.finalized.number < read.block.number) {
    return {
      result: "not-finalized",
      detail: `its own RPC's finalized head ${read.finalized.number} is below the proposal's block ${block.number}`,
    }
  }
  const seen = `its own RPC shows count ${read.count} and root ${read.root} at block ${read.block.number} (${read.block.hash})`
  const claimed = `the proposal says count ${checkpoint.count} and root ${checkpoint.root} at block ${block.number} (${block.hash})`
  const noOutbox =
    read.root === ZERO_ROOT && read.count === 0 ? " (no Outbox contract at that address there)" : ""
  if (read.count !== checkpoint.count) {
    return { result: "count-mismatch", detail: `${seen}${noOutbox}; ${claimed}` }
  }
  if (read.root !== checkpoint.root) {
    return { result: "root-mismatch", detail: `${seen}${noOutbox}; ${claimed}` }
  }
  if (read.block.hash !== block.hash) {
    return {
      result: "block-mismatch",
      detail: `same count and root, but its own RPC's block ${block.number} is ${read.block.hash}, not ${block.hash}: the proposer saw another chain`,
    }
  }
  return { result: "verified", read }
}
