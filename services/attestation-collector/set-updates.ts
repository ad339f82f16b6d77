/**
 * The collector's operator-set updates, pure: operators' signatures over the hub registry's set gathered until,
 * for each destination, they meet the stake threshold of the set that destination's Inbox trusts now.
 *
 * Pipeline:
 *   - per `OperatorSetObserved` (the set-watcher's record of the hub's set; no other producer's): its digest
 *     becomes one the collector may attest, and every destination is looked at again (signatures may have
 *     come first);
 *   - per `OperatorSetSigned` (with the collector's `InboxSetRead` of every destination it could read):
 *     1. adopt each destination Inbox's set from the reads (the read replaces what was held: it is the latest);
 *     2. check the signature: the record names this network's hub and registry, its digest is the update's
 *        EIP-712 digest recomputed from its set, and it recovers to the operator that published it; one that
 *        fails is not counted (its record stays on the log, where the audit sees it);
 *     3. keep it as its operator's latest signature, if the operator is a member of some Inbox's set (no other
 *        signature can count) and it is not of an earlier epoch than the one held (operators sign only the
 *        registry's current set, so an older update is never needed again);
 *     4. for each destination: of the updates past its Inbox's epoch whose set the hub showed, the highest whose
 *        signers in the Inbox's set meet its threshold, if not attested yet from that Inbox epoch: an
 *        `OperatorSetAttested` with those signatures, ascending by signer, as `Inbox.updateOperatorSet` requires.
 *
 * Invariants:
 * - Only a set the hub showed (an `OperatorSetObserved` of the set-watcher) is attested: a quorum of a stale
 *   Inbox set signing a set the registry never held gets no help from the relay.
 * - An update is attested at most once per destination, Inbox epoch and update epoch, and only with signatures
 *   that recover to members of that Inbox's set: a member removed by the update still counts for it, as the
 *   Inbox will. An Inbox found at another epoch later (a failed send, a front-run) gets the update attested
 *   again, from that epoch, on the next signature (the set-watcher re-announces while an Inbox lags).
 * - A destination several epochs behind is moved straight to the latest epoch, signed by the set it trusts.
 * - Bounded: one signature per member of some Inbox's set, the last `OBSERVED_KEPT` observed digests. A member
 *   signing a bogus later set displaces only its own signature, never the honest ones.
 * - Deterministic: what it holds depends only on the inputs and the recorded reads.
 *
 * @module
 */
import type { CheckpointDomain } from "../../contracts/index.ts"
import {
  type Address,
  type Bytes32,
  ChainId,
  type InboxSetRead,
  OperatorSetAttested,
  type OperatorSetObserved,
  type OperatorSetSigned,
  Signature,
  toU256,
} from "../../schemas/index.ts"
import { operatorSetDigest } from "../operator/sign-operator-set.ts"
import { meetsThreshold, type OperatorSetView, operatorSetView } from "./operator-set.ts"
import { recoverSigner } from "./verify-signature.ts"

/** The hub sets observed last that may be attested (a handful of epochs: rotations are rare). */
export const OBSERVED_KEPT = 16

/** What the collector holds of the operator-set flow, in the hub's shard. */
export class SetUpdates {
  /** Each destination Inbox's set, as last read for an update. */
  readonly inboxes = new Map<number, OperatorSetView>()
  /** Digests of the hub sets the set-watcher observed, oldest first (`OBSERVED_KEPT` at most). */
  readonly observed: Bytes32[] = []
  /**
   * Each member's latest valid signature (a member of some Inbox's set: no other signature can count). An
   * honest operator signs epochs in order, so its latest is all that is needed; one signing a bogus later set
   * replaces only its own.
   */
  readonly latest = new Map<Address, OperatorSetSigned>()
  /** `destination:fromEpoch:epoch` of the updates attested. */
  readonly attested = new Set<string>()
}

/**
 * Why a signature over an update cannot be counted, or undefined when it can: what the collector checks before
 * it reads any chain for the signature.
 *
 * @example
 * ```ts
 * if (setSignatureProblem(domain, signed) !== undefined) return []
 * ```
 */
export const setSignatureProblem = (
  domain: CheckpointDomain,
  event: OperatorSetSigned,
): string | undefined => {
  if (event.chainId !== domain.chainId || event.registry !== domain.verifyingContract.toLowerCase())
    return `it names registry ${event.registry} on chain ${event.chainId}, not this network's`
  const digest = operatorSetDigest(domain, event)
  if (event.digest !== digest)
    return `its digest ${event.digest} is not the update's EIP-712 digest ${digest}`
  const recovery = recoverSigner(digest, event.signature)
  if (!recovery.ok) return recovery.reason
  if (recovery.signer !== event.operator) return `it recovers to ${recovery.signer}, not ${event.operator}`
  return undefined
}

/** The update `inbox` can take now: the highest epoch past its own whose signers in its set meet its threshold. */
const completed = (updates: SetUpdates, inbox: OperatorSetView): OperatorSetAttested | undefined => {
  const byDigest = new Map<Bytes32, OperatorSetSigned[]>()
  for (const [signer, signed] of updates.latest) {
    if (
      signed.epoch <= inbox.epoch ||
      !inbox.weights.has(signer) ||
      !updates.observed.includes(signed.digest)
    )
      continue
    byDigest.set(signed.digest, [...(byDigest.get(signed.digest) ?? []), signed])
  }
  let best: OperatorSetAttested | undefined
  for (const [digest, signatures] of byDigest) {
    const update = signatures[0]!
    if (best !== undefined && update.epoch <= best.epoch) continue
    const signedStake = signatures.reduce((sum, s) => sum + inbox.weights.get(s.operator)!, 0n)
    if (!meetsThreshold(signedStake, inbox)) continue
    best = new OperatorSetAttested({
      chainId: update.chainId,
      registry: update.registry,
      destination: ChainId.make(inbox.dstChainId),
      inbox: inbox.inbox,
      fromEpoch: inbox.epoch,
      epoch: update.epoch,
      operators: update.operators,
      thresholdBps: update.thresholdBps,
      digest,
      signatures: signatures
        .map((s) => new Signature({ signer: s.operator, signature: s.signature }))
        .sort((a, b) => (a.signer < b.signer ? -1 : 1)),
      signedStake: toU256(signedStake),
      totalStake: toU256(inbox.totalStake),
    })
  }
  return best
}

/** Every destination's update completed by what is held now, not attested yet from its Inbox's epoch. */
const completions = (updates: SetUpdates): ReadonlyArray<OperatorSetAttested> => {
  const outputs: OperatorSetAttested[] = []
  for (const inbox of [...updates.inboxes.values()].sort((a, b) => a.dstChainId - b.dstChainId)) {
    const update = completed(updates, inbox)
    if (update === undefined) continue
    const key = `${inbox.dstChainId}:${inbox.epoch}:${update.epoch}`
    if (updates.attested.has(key)) continue
    updates.attested.add(key)
    outputs.push(update)
  }
  return outputs
}

/**
 * Folds the set-watcher's record of the hub's set: its digest may be attested from now on.
 *
 * @example
 * ```ts
 * const attested = onSetObserved(state.updates, domain, observed)
 * ```
 */
export const onSetObserved = (
  updates: SetUpdates,
  domain: CheckpointDomain,
  event: OperatorSetObserved,
): ReadonlyArray<OperatorSetAttested> => {
  if (event.chainId !== domain.chainId || event.registry !== domain.verifyingContract.toLowerCase()) return []
  const digest = operatorSetDigest(domain, event)
  if (!updates.observed.includes(digest)) {
    updates.observed.push(digest)
    if (updates.observed.length > OBSERVED_KEPT) updates.observed.shift()
  }
  return completions(updates)
}

/**
 * Folds one signature, with the Inbox reads recorded for it, and returns the updates it completes.
 *
 * @example
 * ```ts
 * const attested = onSetSignature(state.updates, domain, signed, inboxReads)
 * ```
 */
export const onSetSignature = (
  updates: SetUpdates,
  domain: CheckpointDomain,
  event: OperatorSetSigned,
  reads: ReadonlyArray<InboxSetRead>,
): ReadonlyArray<OperatorSetAttested> => {
  for (const read of reads) updates.inboxes.set(read.destination, operatorSetView(read.destination, read))
  if (setSignatureProblem(domain, event) !== undefined) return []
  const inboxes = [...updates.inboxes.values()]
  if (!inboxes.some((inbox) => inbox.weights.has(event.operator))) return []
  const previous = updates.latest.get(event.operator)
  if (previous !== undefined && previous.epoch > event.epoch) return []
  updates.latest.set(event.operator, event)
  return completions(updates)
}
