/**
 * The attestation-collector's pure core: it judges every published
 * signature against the operator set the destination Inbox will check, and
 * attests a proposed checkpoint once, when its signed stake meets the
 * Inbox's threshold.
 *
 * Pipeline, per input (time is the input envelope's `time`, nothing else):
 *   1. settle: a pending checkpoint whose deadline (its proposal's time plus
 *      `proposalTtlMs`) is before `now` expires (`CheckpointExpired`, naming
 *      who signed, who did not and how long it waited); a settled one is
 *      forgotten one TTL after it settled;
 *   2. adopt the destination's operator set from the recorded
 *      `OperatorSetRead`, if its epoch differs from the one held, and
 *      re-count every pending checkpoint of that destination against it
 *      (signers no longer in the set stop counting; one may now attest);
 *   3. the input:
 *      - `CheckpointProposed`: start waiting (or revive an expired one) and
 *        count the signatures already held for it;
 *      - `AttestationSigned`: a `SignatureVerdict` for every one —
 *        `invalid` (digest not the recomputed one, bad bytes, or not
 *        recovering to the publishing operator), `unknown-signer` (not in
 *        the destination's set, or no set known), `duplicate` (signer
 *        already recorded), `late` (valid, but attested or expired already;
 *        recorded), `accepted` (counted, or held until its proposal
 *        arrives); then attest if the threshold is met;
 *      - `AttestationRefused`: recorded, for the expiry reason (no output);
 *      - anything else on the input topics (`LaneStalled`): a no-op.
 *
 * Invariants:
 * - `CheckpointAttested` is emitted at most once per checkpoint while it is
 *   remembered; its signatures are the members' valid ones, strictly
 *   ascending by signer, and their stake meets `ceil(total × bps / 10 000)`,
 *   so `Inbox.commit` accepts them (see `packSignatures`).
 * - The event's `digest` is never trusted: it is recomputed from the
 *   checkpoint under the network's domain.
 * - Inputs may arrive in any order across the two topics: a signature that
 *   precedes its proposal is held, not dropped.
 *
 * @module
 */
import type { CheckpointDomain } from "../../contracts/index.ts"
import {
  type Address,
  type AttestationRefused,
  type AttestationSigned,
  type Bytes32,
  type Checkpoint,
  CheckpointAttested,
  CheckpointExpired,
  type CheckpointProposed,
  type ChorusEvent,
  type Envelope,
  type OperatorSetRead,
  Signature,
  type SignatureResult,
  SignatureVerdict,
  toU256,
} from "../../schemas/index.ts"
import type { Decision, LaneCore } from "../runtime/index.ts"
import { type CheckpointRecord, countedSignatures, newRecord, stakeOf } from "./checkpoint-record.ts"
import { expiryReason } from "./expiry-reason.ts"
import { meetsThreshold, type OperatorSetView, operatorSetView } from "./operator-set.ts"
import { checkpointDigest, checkSignature } from "./verify-signature.ts"

export interface CollectorState {
  /** Each destination's operator set, by destination chain id. */
  readonly sets: Map<number, OperatorSetView>
  /** Every checkpoint being waited on or recently settled, by EIP-712 digest, in first-heard order. */
  readonly records: Map<Bytes32, CheckpointRecord>
}

export interface CollectorCoreOptions {
  /** The network's EIP-712 domain (`getCheckpointDomain(config.network)`). */
  readonly domain: CheckpointDomain
  /** How long after its proposal a checkpoint short of the threshold expires. */
  readonly proposalTtlMs: number
}

/**
 * Makes the collector's core.
 *
 * `initial` is a getter: `decide` updates the state in place, and the runtime
 * starts every shard from `core.initial`, so each shard needs its own maps.
 *
 * @example
 * ```ts
 * const core = makeCollectorCore({ domain, proposalTtlMs: 300_000 })
 * const { outputs } = foldCore(core, producer, steps)
 * ```
 */
export const makeCollectorCore = (options: CollectorCoreOptions): LaneCore<CollectorState> => {
  const { domain, proposalTtlMs } = options

  const decide = (
    state: CollectorState,
    input: Envelope,
    reads: ReadonlyArray<Envelope>,
  ): Decision<CollectorState> => {
    const now = Date.parse(input.time)
    const outputs: ChorusEvent[] = []

    const recordFor = (checkpoint: Checkpoint, digest: Bytes32): CheckpointRecord => {
      let record = state.records.get(digest)
      if (record === undefined) {
        record = newRecord(checkpoint, digest, now, now + proposalTtlMs)
        state.records.set(digest, record)
      }
      return record
    }

    const attestIfMet = (record: CheckpointRecord) => {
      const set = state.sets.get(record.checkpoint.dstChainId)
      if (record.status !== "pending" || record.proposedAt === undefined || set === undefined) return
      const counted = countedSignatures(record, set)
      const signedStake = stakeOf(counted)
      if (!meetsThreshold(signedStake, set)) return
      outputs.push(
        new CheckpointAttested({
          checkpoint: record.checkpoint,
          digest: record.digest,
          epoch: set.epoch,
          signatures: counted.map((c) => new Signature({ signer: c.signer, signature: c.signature })),
          signedStake: toU256(signedStake),
          totalStake: toU256(set.totalStake),
          thresholdBps: set.thresholdBps,
        }),
      )
      record.status = "attested"
      record.settledAt = now
      record.attested = { epoch: set.epoch, signedStake }
    }

    const settle = () => {
      for (const [digest, record] of state.records) {
        if (record.status === "pending" && now > record.deadline) {
          const set = state.sets.get(record.checkpoint.dstChainId)
          outputs.push(
            new CheckpointExpired({
              checkpoint: record.checkpoint,
              digest,
              signedStake: toU256(set === undefined ? 0n : stakeOf(countedSignatures(record, set))),
              requiredStake: toU256(set?.requiredStake ?? 0n),
              reason: expiryReason({ record, set, now, proposalTtlMs }),
            }),
          )
          record.status = "expired"
          record.settledAt = now
        } else if (record.settledAt !== undefined && now > record.settledAt + proposalTtlMs) {
          state.records.delete(digest)
        }
      }
    }

    const adopt = (read: OperatorSetRead) => {
      const dstChainId = read.lane.dstChainId
      if (state.sets.get(dstChainId)?.epoch === read.epoch) return
      state.sets.set(dstChainId, operatorSetView(read))
      for (const record of state.records.values()) {
        if (record.checkpoint.dstChainId === dstChainId) attestIfMet(record)
      }
    }

    const onProposal = (event: CheckpointProposed) => {
      const record = recordFor(event.checkpoint, checkpointDigest(domain, event.checkpoint))
      // Already attested, or already waited on: a repeated proposal changes nothing.
      if (record.status === "attested") return
      if (record.status === "pending" && record.proposedAt !== undefined) return
      record.status = "pending"
      record.proposedAt = now
      record.deadline = now + proposalTtlMs
      record.settledAt = undefined
      attestIfMet(record)
    }

    const onSignature = (event: AttestationSigned) => {
      const check = checkSignature(domain, event)
      const dstChainId = event.checkpoint.dstChainId
      const set = state.sets.get(dstChainId)
      const verdict = (result: SignatureResult, weight: bigint, reason: string) =>
        outputs.push(
          new SignatureVerdict({
            checkpoint: event.checkpoint,
            digest: check.digest,
            operator: event.operator,
            signer: check.signer,
            signature: event.signature,
            result,
            weight: toU256(weight),
            epoch: set?.epoch ?? 0,
            reason,
          }),
        )
      if (check.result === "invalid") return verdict("invalid", 0n, check.reason)
      const signer: Address = check.signer
      if (set === undefined) {
        return verdict(
          "unknown-signer",
          0n,
          `no operator set is known for destination ${dstChainId} (not configured here, or its Inbox has none yet)`,
        )
      }
      const weight = set.weights.get(signer)
      if (weight === undefined) {
        return verdict(
          "unknown-signer",
          0n,
          `${signer} is not in destination ${dstChainId}'s operator set at epoch ${set.epoch} (${set.weights.size} operators, Inbox ${set.inbox})`,
        )
      }
      const record = recordFor(event.checkpoint, check.digest)
      if (record.signatures.has(signer)) {
        return verdict(
          "duplicate",
          0n,
          `${signer} already signed this checkpoint; its first signature is kept`,
        )
      }
      record.signatures.set(signer, event.signature)
      if (record.status === "attested") {
        const attested = record.attested!
        return verdict(
          "late",
          weight,
          `valid (weight ${weight}), but the checkpoint was already attested at epoch ${attested.epoch} with ${attested.signedStake} of ${set.totalStake} stake; recorded, not attested again`,
        )
      }
      if (record.status === "expired") {
        return verdict(
          "late",
          weight,
          `valid (weight ${weight}), but the proposal already expired; recorded, and counted if the checkpoint is proposed again`,
        )
      }
      if (record.proposedAt === undefined) {
        return verdict(
          "accepted",
          weight,
          `valid; weight ${weight} of ${set.totalStake} at epoch ${set.epoch}; held until the checkpoint's proposal arrives`,
        )
      }
      const signedStake = stakeOf(countedSignatures(record, set))
      verdict(
        "accepted",
        weight,
        `valid; counted ${weight}: ${signedStake} of ${set.requiredStake} required (total ${set.totalStake}, threshold ${set.thresholdBps} bps, epoch ${set.epoch})`,
      )
      attestIfMet(record)
    }

    const onRefusal = (event: AttestationRefused) => {
      const record = recordFor(event.checkpoint, checkpointDigest(domain, event.checkpoint))
      if (!record.refusals.has(event.operator)) {
        record.refusals.set(event.operator, { reason: event.reason, detail: event.detail })
      }
    }

    settle()
    for (const read of reads) if (read.event._tag === "OperatorSetRead") adopt(read.event)
    const event = input.event
    if (event._tag === "CheckpointProposed") onProposal(event)
    else if (event._tag === "AttestationSigned") onSignature(event)
    else if (event._tag === "AttestationRefused") onRefusal(event)
    return { state, outputs }
  }

  return {
    get initial(): CollectorState {
      return { sets: new Map(), records: new Map() }
    },
    decide,
  }
}
