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
 *      forgotten one TTL after it settled. Only what is due is visited: the
 *      deadlines and forget times sit in two queues ordered by time;
 *   2. adopt the destination's operator set from the recorded
 *      `OperatorSetRead`, if its epoch differs from the one held, and
 *      re-count every pending checkpoint of that destination against it
 *      (only signatures under its epoch by its members count; one may now
 *      attest); a proposed one that still falls short is asked to be signed
 *      again under that epoch (`CheckpointResignRequested`, once per
 *      checkpoint and epoch);
 *   3. the input:
 *      - `CheckpointProposed`: start waiting (or revive an expired one) and
 *        count the signatures already held for it;
 *      - `AttestationSigned`: a `SignatureVerdict` for every one —
 *        `invalid` (digest not the one recomputed under the epoch it
 *        names, bad bytes, or not recovering to the publishing operator),
 *        `unknown-signer` (not in the destination's set, or no set known),
 *        `stale-epoch` (signed under an epoch the Inbox left, or below the
 *        signer's own latest: kept, counted nowhere, and the checkpoint
 *        asked to be signed again), `duplicate` (signer already recorded
 *        under that epoch), `late` (valid, but attested or expired
 *        already; recorded), `accepted` (counted, or held until its
 *        proposal arrives or the Inbox's epoch it names is read); then
 *        attest if the threshold is met;
 *        and if the signer, valid and a member, already signed another root
 *        for the same lane and count, `OperatorEquivocated` with both
 *        signed checkpoints (evidence for `OperatorRegistry.proveEquivocation`);
 *      - `AttestationRefused`: recorded, for the expiry reason;
 *      - after a signature or a refusal of a proposed checkpoint: if the collector's own read of the source lane
 *        at the proposal's final block (recorded for it, `observe-source.ts`) shows the checkpoint's count with
 *        another root, `OperatorAttestedInvalid` for every signer of it, once each: evidence that it signed a
 *        root its source chain never had, with the peers that refused it;
 *      - `RootCommitted` (the submitters' records): the checkpoint is committed, never attested again;
 *      - `DeliveryFailed` of a commit the Inbox refused for its epoch or signer set (`EpochLeft`,
 *        `EpochNotReached`, `UnknownSigner`, `InsufficientStake`: a rotation reached it after the
 *        attestation): the lane's checkpoints attested under another epoch and not committed are counted
 *        again against the set adopted from the read made for it, attested again under that epoch when
 *        signatures under it meet its threshold, and otherwise asked to be signed again under it;
 *      - `OperatorSetObserved` (the set-watcher's only) and `OperatorSetSigned`: gathered per destination
 *        against the Inbox's set (`set-updates.ts`), and an `OperatorSetAttested` for each destination whose
 *        threshold it completes;
 *      - anything else on the input topics (`LaneStalled`): a no-op.
 *
 * Invariants:
 * - `CheckpointAttested` is emitted at most once per checkpoint and epoch
 *   while it is remembered; its signatures are the members' valid ones
 *   under that epoch, strictly ascending by signer, and their stake meets
 *   `ceil(total × bps / 10 000)`, so `Inbox.commit` accepts them while the
 *   Inbox trusts that epoch (see `packSignatures`).
 * - The event's `digest` is never trusted: it is recomputed from the
 *   checkpoint and the epoch it names under the network's domain.
 * - A request to sign again names no fact an operator acts on: each reads
 *   the lane and the Inbox's epoch again on its own RPCs before it signs.
 * - Inputs may arrive in any order across the two topics: a signature that
 *   precedes its proposal is held, not dropped.
 * - Cost: admitting a proposal, judging a signature and expiring or
 *   forgetting a checkpoint are O(1) amortised (plus O(log n) in the time
 *   queues), whatever the number of checkpoints held, so a flood of junk
 *   proposals costs each one its own keep and nothing more. Only an epoch
 *   change visits many: the pending checkpoints of that destination.
 * - Invalid-attestation evidence rests on the collector's own final read of
 *   the very block the proposal named, never on a record: a lane's tree only
 *   grows, so the root a final block shows at a count is that count's root.
 * - Evidence names only what the operator's own key signed: both signatures
 *   recover to the operator under the network's domain (a forged one is
 *   `invalid` and kept nowhere). One pair is reported once, when its second
 *   signature arrives, while both checkpoints are remembered (until one TTL
 *   after they settle).
 * - Checkpoints that settle on one input do so in first-heard order (their
 *   `heard` rank), so the outputs and their ids are what a walk over every
 *   record in first-heard order would give.
 *
 * @module
 */
import type { CheckpointDomain } from "../../contracts/index.ts"
import {
  type Address,
  type AttestationRefused,
  type AttestationSigned,
  type Checkpoint,
  CheckpointAttested,
  CheckpointExpired,
  type CheckpointProposed,
  CheckpointResignRequested,
  type ChorusEvent,
  type DeliveryFailed,
  type Envelope,
  type InboxSetRead,
  OperatorAttestedInvalid,
  OperatorEquivocated,
  type OperatorSetRead,
  type OutboxLaneRead,
  Signature,
  type SignatureResult,
  SignatureVerdict,
  SignedCheckpoint,
  SourceLaneSeen,
  toU256,
} from "../../schemas/index.ts"
import type { Decision, LaneCore } from "../runtime/index.ts"
import {
  type CheckpointRecord,
  checkpointKey,
  countedSignatures,
  newRecord,
  stakeOf,
} from "./checkpoint-record.ts"
import { DeadlineQueue } from "./deadline-queue.ts"
import { expiryReason } from "./expiry-reason.ts"
import { COLLECTOR_READER, CONTRADICTING } from "./observe-source.ts"
import { meetsThreshold, type OperatorSetView, operatorSetView } from "./operator-set.ts"
import { onSetObserved, onSetSignature, SetUpdates } from "./set-updates.ts"
import { isSignerSetRefusal } from "./signer-set-refusal.ts"
import { checkpointDigest, checkSignature } from "./verify-signature.ts"

/** The lane and count a checkpoint is about: two records with one key and different roots are rivals. */
const sameLaneAndCount = (checkpoint: Checkpoint): string =>
  `${checkpoint.srcChainId}:${checkpoint.outbox.toLowerCase()}:${checkpoint.dstChainId}:${checkpoint.count}`

export interface CollectorState {
  /** Each destination's operator set, by destination chain id. */
  readonly sets: Map<number, OperatorSetView>
  /** Every checkpoint being waited on or recently settled, by `checkpointKey`, in first-heard order. */
  readonly records: Map<string, CheckpointRecord>
  /** Pending records by deadline; an entry whose record moved on since (settled, re-dated) is skipped. */
  readonly deadlines: DeadlineQueue<CheckpointRecord>
  /** Settled records by when they are forgotten (one TTL after they settled); stale entries are skipped. */
  readonly forgets: DeadlineQueue<CheckpointRecord>
  /**
   * By lane and count (`sameLaneAndCount`), the record each member's first valid signature there is on: where
   * its signature over another root is found, in one lookup however many records name the lane and count.
   */
  readonly signedFirst: Map<string, Map<Address, CheckpointRecord>>
  /** Pending records by destination chain id: what an epoch change of that destination re-counts. */
  readonly pending: Map<number, Set<CheckpointRecord>>
  /** The `heard` rank the next new record gets. */
  heard: number
  /** The operator-set updates being gathered (`set-updates.ts`); only the hub's shard has any. */
  readonly updates: SetUpdates
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

    /** `record` is pending from now until `record.deadline`. */
    const waitFor = (record: CheckpointRecord) => {
      const dst = record.checkpoint.dstChainId
      let pending = state.pending.get(dst)
      if (pending === undefined) {
        pending = new Set()
        state.pending.set(dst, pending)
      }
      pending.add(record)
      state.deadlines.push({ at: record.deadline, order: record.heard, item: record })
    }

    /** `record` just settled (attested or expired) at `now`: it is forgotten one TTL later. */
    const settled = (record: CheckpointRecord, status: "attested" | "expired") => {
      record.status = status
      record.settledAt = now
      state.pending.get(record.checkpoint.dstChainId)?.delete(record)
      state.forgets.push({ at: now + proposalTtlMs, order: record.heard, item: record })
    }

    const recordFor = (checkpoint: Checkpoint): CheckpointRecord => {
      const key = checkpointKey(checkpoint)
      let record = state.records.get(key)
      if (record === undefined) {
        record = newRecord(checkpoint, now, now + proposalTtlMs, state.heard++)
        state.records.set(key, record)
        waitFor(record)
      }
      return record
    }

    /**
     * Asks every operator to sign `record` again under `set`'s epoch, once per epoch, when some signed it under an
     * earlier one: only a proposed checkpoint can be (the request repeats its proposal, which operators read
     * again). A checkpoint nobody signed under an earlier epoch needs no request: its signers read the new one.
     */
    const resign = (record: CheckpointRecord, set: OperatorSetView, why: string) => {
      if (record.proposal === undefined || record.resignedFor === set.epoch || set.epoch === 0) return
      if (![...record.signatures.values()].some((s) => s.epoch < set.epoch)) return
      record.resignedFor = set.epoch
      outputs.push(
        new CheckpointResignRequested({
          checkpoint: record.checkpoint,
          previousCount: record.proposal.previousCount,
          block: record.proposal.block,
          epoch: set.epoch,
          reason: `${why}; destination ${set.dstChainId}'s Inbox trusts epoch ${set.epoch} now, and only signatures under it count there`,
        }),
      )
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
          digest: checkpointDigest(domain, record.checkpoint, set.epoch),
          epoch: set.epoch,
          signatures: counted.map((c) => new Signature({ signer: c.signer, signature: c.signature })),
          signedStake: toU256(signedStake),
          totalStake: toU256(set.totalStake),
          thresholdBps: set.thresholdBps,
        }),
      )
      record.attested = { epoch: set.epoch, signedStake }
      settled(record, "attested")
    }

    const held = (record: CheckpointRecord) => state.records.get(record.key) === record

    const settle = () => {
      const expiring = new Set<CheckpointRecord>()
      for (const { at, item: record } of state.deadlines.popBefore(now)) {
        if (record.status === "pending" && record.deadline === at && held(record)) expiring.add(record)
      }
      for (const record of [...expiring].sort((a, b) => a.heard - b.heard)) {
        const set = state.sets.get(record.checkpoint.dstChainId)
        outputs.push(
          new CheckpointExpired({
            checkpoint: record.checkpoint,
            digest: checkpointDigest(domain, record.checkpoint, set?.epoch ?? 0),
            signedStake: toU256(set === undefined ? 0n : stakeOf(countedSignatures(record, set))),
            requiredStake: toU256(set?.requiredStake ?? 0n),
            reason: expiryReason({ record, set, now, proposalTtlMs }),
          }),
        )
        settled(record, "expired")
      }
      for (const { at, item: record } of state.forgets.popBefore(now)) {
        if (record.settledAt !== undefined && record.settledAt + proposalTtlMs === at && held(record)) {
          state.records.delete(record.key)
          const key = sameLaneAndCount(record.checkpoint)
          const first = state.signedFirst.get(key)
          for (const signer of record.signatures.keys())
            if (first?.get(signer) === record) first.delete(signer)
          if (first?.size === 0) state.signedFirst.delete(key)
        }
      }
    }

    const adopt = (read: OperatorSetRead) => {
      const dstChainId = read.lane.dstChainId
      if (state.sets.get(dstChainId)?.epoch === read.epoch) return
      state.sets.set(dstChainId, operatorSetView(dstChainId, read))
      const set = state.sets.get(dstChainId)!
      // Only a pending record can attest; in first-heard order, as the checkpoints were heard of.
      const pending = [...(state.pending.get(dstChainId) ?? [])].sort((a, b) => a.heard - b.heard)
      for (const record of pending) {
        attestIfMet(record)
        if (record.status === "pending") resign(record, set, "its signatures fall short under the new epoch")
      }
    }

    const onProposal = (event: CheckpointProposed) => {
      const record = recordFor(event.checkpoint)
      record.proposal ??= { block: event.block, previousCount: event.previousCount }
      // Already attested, or already waited on: a repeated proposal changes nothing.
      if (record.status === "attested") return
      if (record.status === "pending" && record.proposedAt !== undefined) return
      record.status = "pending"
      record.proposedAt = now
      record.deadline = now + proposalTtlMs
      record.settledAt = undefined
      waitFor(record)
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
      const epoch = event.epoch
      const signer: Address = check.signer
      if (set === undefined) {
        return verdict(
          "unknown-signer",
          0n,
          `no operator set is known for destination ${dstChainId} (not configured here, or its Inbox has none yet)`,
        )
      }
      const member = set.weights.get(signer)
      if (member === undefined && epoch === set.epoch) {
        return verdict(
          "unknown-signer",
          0n,
          `${signer} is not in destination ${dstChainId}'s operator set at epoch ${set.epoch} (${set.weights.size} operators, Inbox ${set.inbox})`,
        )
      }
      const record = recordFor(event.checkpoint)
      const earlier = record.signatures.get(signer)
      if (earlier !== undefined && earlier.epoch === epoch) {
        return verdict(
          "duplicate",
          0n,
          `${signer} already signed this checkpoint under epoch ${epoch}; its first signature is kept`,
        )
      }
      if (earlier !== undefined && earlier.epoch > epoch) {
        return verdict(
          "stale-epoch",
          0n,
          `${signer} already signed this checkpoint under the later epoch ${earlier.epoch}; this one, under epoch ${epoch}, is not kept`,
        )
      }
      record.signatures.set(signer, { signature: event.signature, epoch })
      evidenceAgainst(signer, record)
      if (epoch < set.epoch) {
        if (record.status === "pending") resign(record, set, `${signer} signed it under epoch ${epoch}`)
        return verdict(
          "stale-epoch",
          0n,
          `valid, but signed under epoch ${epoch}, which destination ${dstChainId}'s Inbox left for epoch ${set.epoch}: kept, counted nowhere; the operators are asked to sign it again under epoch ${set.epoch}`,
        )
      }
      if (epoch > set.epoch) {
        return verdict(
          "accepted",
          0n,
          `valid, under epoch ${epoch}, ahead of epoch ${set.epoch} that destination ${dstChainId}'s Inbox showed the collector last; held, and counted once the collector reads the Inbox at epoch ${epoch}`,
        )
      }
      const weight = member!
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

    /** `signer`'s signature on `record` just arrived: if it signed another root for the lane and count, report it. */
    const evidenceAgainst = (signer: Address, record: CheckpointRecord) => {
      const key = sameLaneAndCount(record.checkpoint)
      let first = state.signedFirst.get(key)
      if (first === undefined) {
        first = new Map()
        state.signedFirst.set(key, first)
      }
      const rival = first.get(signer)
      if (rival === undefined || !held(rival)) {
        first.set(signer, record)
        return
      }
      if (rival === record) return
      const { checkpoint } = record
      const signedBy = (r: CheckpointRecord) => {
        const { signature, epoch } = r.signatures.get(signer)!
        return new SignedCheckpoint({
          checkpoint: r.checkpoint,
          epoch,
          digest: checkpointDigest(domain, r.checkpoint, epoch),
          signature,
        })
      }
      outputs.push(
        new OperatorEquivocated({
          operator: signer,
          first: signedBy(rival),
          second: signedBy(record),
          reason:
            `${signer} signed two roots for checkpoint #${checkpoint.count} of lane ${checkpoint.srcChainId}->${checkpoint.dstChainId} ` +
            `(${rival.checkpoint.root} and ${checkpoint.root}); both signatures recover to it under the network's domain. ` +
            "Send both to OperatorRegistry.proveEquivocation on the hub to eject it",
        }),
      )
    }

    /**
     * The Inbox refused a commit of the lane for its epoch or signer set (a rotation reached it after the
     * attestation): every checkpoint of the lane attested under another epoch and not committed is counted again
     * against the set it trusts now, and attested again if signatures under its epoch meet the threshold;
     * otherwise the operators are asked to sign it again under that epoch, and it waits for them, or expires
     * saying why.
     */
    const onCommitRefused = (event: DeliveryFailed) => {
      const set = state.sets.get(event.lane.dstChainId)
      if (set === undefined) return
      const stale = [...state.records.values()]
        .filter(
          (r) =>
            r.status === "attested" &&
            !r.committed &&
            r.attested!.epoch !== set.epoch &&
            r.checkpoint.srcChainId === event.lane.srcChainId &&
            r.checkpoint.outbox.toLowerCase() === event.lane.outbox.toLowerCase() &&
            r.checkpoint.dstChainId === event.lane.dstChainId,
        )
        .sort((a, b) => a.heard - b.heard)
      for (const record of stale) {
        record.status = "pending"
        record.settledAt = undefined
        record.deadline = now + proposalTtlMs
        waitFor(record)
        attestIfMet(record)
        if (record.status === "pending") {
          resign(record, set, `the Inbox refused its commit attested under epoch ${record.attested!.epoch}`)
        }
      }
    }

    const onRefusal = (event: AttestationRefused) => {
      const record = recordFor(event.checkpoint)
      if (!record.refusals.has(event.operator)) {
        record.refusals.set(event.operator, { reason: event.reason, detail: event.detail })
      }
    }

    /** The collector's own read of `record`'s source lane at its proposal's block, if one was made for this input. */
    const takeSource = (record: CheckpointRecord) => {
      const block = record.proposal?.block
      if (record.source !== undefined || block === undefined) return
      const read = reads
        .map((r) => r.event)
        .find(
          (e): e is OutboxLaneRead =>
            e._tag === "OutboxLaneRead" &&
            e.reader === COLLECTOR_READER &&
            e.block.number === block.number &&
            e.block.hash === block.hash &&
            e.finalized.number >= block.number,
        )
      if (read !== undefined)
        record.source = new SourceLaneSeen({ block: read.block, count: read.count, root: read.root })
    }

    /** Evidence against every signer of `record` whose root its source chain contradicts, once each. */
    const invalidAttestations = (record: CheckpointRecord) => {
      const source = record.source
      const { checkpoint } = record
      if (source === undefined || source.count !== checkpoint.count || source.root === checkpoint.root) return
      const refusedBy = [...record.refusals]
        .filter(([, r]) => CONTRADICTING.has(r.reason))
        .map(([operator]) => operator)
      for (const [signer, { signature, epoch }] of record.signatures) {
        if (record.reportedInvalid.has(signer)) continue
        record.reportedInvalid.add(signer)
        outputs.push(
          new OperatorAttestedInvalid({
            operator: signer,
            signed: new SignedCheckpoint({
              checkpoint,
              epoch,
              digest: checkpointDigest(domain, checkpoint, epoch),
              signature,
            }),
            source,
            refusedBy,
            reason:
              `${signer} signed root ${checkpoint.root} for checkpoint #${checkpoint.count} of lane ${checkpoint.srcChainId}->${checkpoint.dstChainId}, ` +
              `but chain ${checkpoint.srcChainId}'s Outbox holds root ${source.root} at that count (block ${source.block.number}, final)` +
              (refusedBy.length === 0 ? "" : `; refused by ${refusedBy.join(", ")}`) +
              `. Prove it on chain ${checkpoint.srcChainId}'s CheckpointFraudProofs (judge); for a lane of the hub chain, OperatorRegistry.proveInvalidAttestation ejects it`,
          }),
        )
      }
    }

    settle()
    for (const read of reads) if (read.event._tag === "OperatorSetRead") adopt(read.event)
    const event = input.event
    if (event._tag === "CheckpointProposed") onProposal(event)
    else if (event._tag === "AttestationSigned" || event._tag === "AttestationRefused") {
      if (event._tag === "AttestationSigned") onSignature(event)
      else onRefusal(event)
      const record = state.records.get(checkpointKey(event.checkpoint))
      if (record !== undefined) {
        takeSource(record)
        invalidAttestations(record)
      }
    } else if (event._tag === "RootCommitted") {
      const record = state.records.get(checkpointKey(event.checkpoint))
      if (record !== undefined) record.committed = true
    } else if (event._tag === "DeliveryFailed" && isSignerSetRefusal(event)) onCommitRefused(event)
    else if (event._tag === "OperatorSetObserved" && input.producer.service === "set-watcher")
      outputs.push(...onSetObserved(state.updates, domain, event))
    else if (event._tag === "OperatorSetSigned") {
      const inboxReads = reads.map((r) => r.event).filter((e): e is InboxSetRead => e._tag === "InboxSetRead")
      outputs.push(...onSetSignature(state.updates, domain, event, inboxReads))
    }
    return { state, outputs }
  }

  return {
    get initial(): CollectorState {
      return {
        sets: new Map(),
        records: new Map(),
        deadlines: new DeadlineQueue(),
        forgets: new DeadlineQueue(),
        pending: new Map(),
        signedFirst: new Map(),
        heard: 0,
        updates: new SetUpdates(),
      }
    },
    decide,
  }
}
