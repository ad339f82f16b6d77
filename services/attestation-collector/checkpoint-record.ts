/**
 * What the collector remembers about one checkpoint (one lane, count and
 * root, whatever epoch it is signed under): whether and when it was
 * proposed, the valid signatures (each under its epoch) and the refusals it
 * received, and where it stands.
 *
 * @module
 */
import type {
  Address,
  BlockRef,
  Checkpoint,
  Hex,
  RefusalReason,
  SourceLaneSeen,
} from "../../schemas/index.ts"
import type { OperatorSetView } from "./operator-set.ts"

/** pending: waiting for stake; attested: emitted once; expired: given up on (a re-proposal revives it). */
export type RecordStatus = "pending" | "attested" | "expired"

/** A signature and the epoch it was signed under (part of its digest). */
export interface EpochSignature {
  readonly signature: Hex
  readonly epoch: number
}

/**
 * A checkpoint's identity in the collector: its lane, count and root. Its digest depends on the epoch it is signed
 * under, so one checkpoint has one digest per epoch.
 *
 * @example
 * ```ts
 * checkpointKey(proposal.checkpoint) // "901:0xe7f1…:902:5:0xaa…"
 * ```
 */
export const checkpointKey = (checkpoint: Checkpoint): string =>
  `${checkpoint.srcChainId}:${checkpoint.outbox.toLowerCase()}:${checkpoint.dstChainId}:${checkpoint.count}:${checkpoint.root.toLowerCase()}`

export interface CheckpointRecord {
  readonly checkpoint: Checkpoint
  /** `checkpointKey(checkpoint)`. */
  readonly key: string
  /**
   * Its rank in first-heard order among the records a collector ever held: what orders the records that
   * settle on one input, so outputs come out in the order the checkpoints were first heard of.
   */
  readonly heard: number
  /** The proposal's envelope time (ms), once a proposal arrived. */
  proposedAt: number | undefined
  /** The proposal's block and previous count, once it arrived: what a request to sign again repeats. */
  proposal: { readonly block: BlockRef; readonly previousCount: number } | undefined
  /** The epoch the operators were last asked to sign it again under (`CheckpointResignRequested`), if ever. */
  resignedFor: number | undefined
  /** When the collector first heard of the checkpoint (a proposal, a signature or a refusal). */
  readonly firstSeenAt: number
  /** A pending record expires when an input arrives later than this (ms). */
  deadline: number
  status: RecordStatus
  /** When it was attested or expired; it is forgotten one TTL later. */
  settledAt: number | undefined
  /** The attestation, once emitted: what late verdicts refer to. */
  attested: { readonly epoch: number; readonly signedStake: bigint } | undefined
  /** The destination committed its root (a `RootCommitted` read back): nothing is attested for it again. */
  committed: boolean
  /**
   * Valid signatures, by signer, in arrival order: each signer's under the latest epoch it signed under (a member
   * of the destination's set when it arrived, if under that set's epoch).
   */
  readonly signatures: Map<Address, EpochSignature>
  readonly refusals: Map<Address, { readonly reason: RefusalReason; readonly detail: string }>
  /** The lane at the proposal's block, final, as the collector's own RPC showed it once the checkpoint was contested. */
  source: SourceLaneSeen | undefined
  /** The signers already reported for a root the source contradicts (`OperatorAttestedInvalid`). */
  readonly reportedInvalid: Set<Address>
}

/** A signature that counts against a set, with the signer's weight in it. */
export interface CountedSignature {
  readonly signer: Address
  readonly signature: Hex
  readonly weight: bigint
}

/**
 * A new pending record, first heard of at `now`, the `heard`-th the collector held.
 *
 * @example
 * ```ts
 * const record = newRecord(checkpoint, now, now + ttl, 0)
 * ```
 */
export const newRecord = (
  checkpoint: Checkpoint,
  now: number,
  deadline: number,
  heard: number,
): CheckpointRecord => ({
  checkpoint,
  key: checkpointKey(checkpoint),
  heard,
  proposedAt: undefined,
  proposal: undefined,
  resignedFor: undefined,
  firstSeenAt: now,
  deadline,
  status: "pending",
  settledAt: undefined,
  attested: undefined,
  committed: false,
  signatures: new Map(),
  refusals: new Map(),
  source: undefined,
  reportedInvalid: new Set(),
})

/**
 * The record's signatures that count against `set` (signers in it, signed under its epoch), sorted
 * strictly ascending by signer, as `Inbox.commit` requires. Addresses are
 * lowercase and of one length, so string order is numeric order.
 *
 * @example
 * ```ts
 * const counted = countedSignatures(record, set)
 * const stake = stakeOf(counted)
 * ```
 */
export const countedSignatures = (
  record: CheckpointRecord,
  set: OperatorSetView,
): ReadonlyArray<CountedSignature> => {
  const counted: CountedSignature[] = []
  for (const [signer, { signature, epoch }] of record.signatures) {
    const weight = set.weights.get(signer)
    if (weight !== undefined && epoch === set.epoch) counted.push({ signer, signature, weight })
  }
  return counted.sort((a, b) => (a.signer < b.signer ? -1 : a.signer > b.signer ? 1 : 0))
}

/**
 * The total weight of counted signatures.
 *
 * @example
 * ```ts
 * stakeOf(countedSignatures(record, set)) // 6n
 * ```
 */
export const stakeOf = (counted: ReadonlyArray<CountedSignature>): bigint =>
  counted.reduce((sum, c) => sum + c.weight, 0n)
