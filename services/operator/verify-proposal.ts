/**
 * What an operator checks before it signs a proposal, as pure functions: the
 * lane belongs to its network, the proposal's block is within reach of its
 * own chain's latest block, and its own read of the Outbox shows what the
 * proposal claims.
 *
 * An RPC that answered what does not decode is a refusal of its own
 * (`rpc-invalid`), naming the RPC, what was asked and what it answered;
 * a source chain halted on the log is one too (`chain-halted`), naming the
 * chain, the block its watcher found rewritten and why.
 *
 * Each check ends in a closed set of named results; a refusal carries a
 * human-readable detail naming both sides, so whoever reads the refusal on
 * the bus can see what the operator's RPC showed.
 *
 * @module
 */
import type {
  ChainHaltRead,
  ChainHeadRead,
  ChainReadFailed,
  CheckpointProposed,
  CheckpointResignRequested,
  OutboxLaneRead,
  RefusalReason,
} from "../../schemas/index.ts"

/**
 * What an operator is asked to sign: a proposal, or the collector's request to sign one again after its
 * destination moved epochs. Both are read and checked the same way, on the operator's own RPC.
 */
export type ToSign = CheckpointProposed | CheckpointResignRequested

/**
 * The input as something to sign, if it is one.
 *
 * @example
 * ```ts
 * const toSign = asToSign(input.event) // undefined for a stall, a rejection or a set record
 * ```
 */
export const asToSign = (event: { readonly _tag: string }): ToSign | undefined =>
  event._tag === "CheckpointProposed" || event._tag === "CheckpointResignRequested"
    ? (event as ToSign)
    : undefined

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
 * Why a proposal's block is out of reach of the operator's own chain, or
 * undefined: it is more than `maxBlocksAhead` blocks past the latest block
 * the operator's own RPC showed (its `ChainHeadRead` of the source chain).
 * Reads by another reader or of another chain are not its own and count for
 * nothing; with no head read of its own (it found the block already final,
 * or the log predates head reads) nothing is out of reach.
 *
 * @example
 * ```ts
 * blockAheadProblem(proposal, heads, "0xf39f…2266", 64) // undefined, or "the proposal's block 1000000 …"
 * ```
 */
export const blockAheadProblem = (
  proposal: ToSign,
  heads: ReadonlyArray<ChainHeadRead>,
  reader: string,
  maxBlocksAhead: number,
): string | undefined => {
  const { checkpoint, block } = proposal
  const own = heads.filter((h) => h.reader === reader && h.chainId === checkpoint.srcChainId)
  if (own.length === 0) return undefined
  // The furthest head it saw: the benefit of any doubt goes to the proposal.
  const latest = own.reduce((a, b) => (b.latest.number > a.latest.number ? b : a)).latest
  const ahead = block.number - latest.number
  if (ahead <= maxBlocksAhead) return undefined
  return `the proposal's block ${block.number} is ${ahead} blocks past it: its own RPC's latest block is ${latest.number} (${latest.hash}) on chain ${checkpoint.srcChainId}, and it waits only for a block at most maxBlocksAhead ${maxBlocksAhead} past it; that block does not exist there yet, so it refused at once rather than hold every lane of its partition waiting for finality`
}

/**
 * Why the operator has nothing to sign against because its own RPC for the proposal's source chain
 * answered what does not decode (its observer gave up and recorded a `ChainReadFailed` of reason
 * `rpc-invalid`, not an outage), or undefined. Failures by another reader or of another chain, and
 * outages (the observer held the proposal through them), count for nothing.
 *
 * @example
 * ```ts
 * rpcInvalidProblem(proposal, failures, "0xf39f…2266") // undefined, or "its own RPC for chain 901 (http://…) …"
 * ```
 */
export const rpcInvalidProblem = (
  proposal: ToSign,
  failures: ReadonlyArray<ChainReadFailed>,
  reader: string,
): string | undefined => {
  const { checkpoint } = proposal
  const own = failures.find(
    (f) =>
      f.reader === reader && f.chainId === checkpoint.srcChainId && !f.outage && f.reason === "rpc-invalid",
  )
  if (own === undefined) return undefined
  return `its own RPC for chain ${own.chainId} (${own.rpc}) gave no answer it could use (${own.what}), ${own.attempts} time(s) since ${own.since}: ${own.problem}; it read nothing to sign against`
}

/**
 * Why the operator signs nothing of the proposal's source chain, because the
 * log shows that chain halted (its `ChainHaltRead` of that chain with no
 * resume), or undefined. Reads by another reader or of another chain, and
 * one showing the halt lifted, count for nothing; with none (a chain never
 * halted, or a log older than halt reads) nothing is halted.
 *
 * @example
 * ```ts
 * chainHaltedProblem(proposal, haltReads, "0xf39f…2266") // undefined, or "source chain 901 is halted on the log …"
 * ```
 */
export const chainHaltedProblem = (
  proposal: ToSign,
  reads: ReadonlyArray<ChainHaltRead>,
  reader: string,
): string | undefined => {
  const { checkpoint } = proposal
  const own = reads.find(
    (r) => r.reader === reader && r.chainId === checkpoint.srcChainId && r.resumed === null,
  )
  if (own === undefined) return undefined
  const { halt } = own
  return `source chain ${own.chainId} is halted on the log: its watcher found block ${halt.blockNumber} rewritten below finality (ChainHalted ${halt.eventId}: ${halt.reason}); it signs nothing of chain ${own.chainId} until \`chorus chain resume ${own.chainId}\` lifts the halt from a trusted block`
}

/**
 * Compares a proposal with the operator's own Outbox read at the proposal's
 * block. Count is checked before root, and both before the block hash: a
 * different Outbox history (another fork, a lying RPC) shows as the
 * different lane state it is, not only as a different block. Finality is
 * checked last: a read of a block its RPC had not finalized yet refutes a
 * proposal that differs from it, and confirms nothing (`not-finalized`).
 *
 * @example
 * ```ts
 * const verification = verifyProposal(proposal, reads, "0xf39f…2266")
 * if (verification.result === "verified") sign()
 * ```
 */
export const verifyProposal = (
  proposal: ToSign,
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
  const early = read.finalized.number < read.block.number
  const notFinalYet = early
    ? `, a block it had not finalized yet (finalized head ${read.finalized.number})`
    : ""
  const seen = `its own RPC shows count ${read.count} and root ${read.root} at block ${read.block.number} (${read.block.hash})${notFinalYet}`
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
      detail: `same count and root, but its own RPC's block ${block.number} is ${read.block.hash}${notFinalYet}, not ${block.hash}: the proposer saw another chain`,
    }
  }
  // Finality last: a read made before the block was final can refute a proposal (the observer stops waiting
  // once it does), but only a final one can confirm it.
  if (early) {
    return {
      result: "not-finalized",
      detail: `its own RPC's finalized head ${read.finalized.number} is below the proposal's block ${block.number}`,
    }
  }
  return { result: "verified", read }
}
