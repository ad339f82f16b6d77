/**
 * The operator's decision on an operator-set update, pure: sign the hub registry's set at an epoch for every
 * Inbox of the network, or refuse with a reason.
 *
 * Pipeline, per `OperatorSetObserved` (with the operator's own `RegistrySetRead`):
 *   1. the record must name the network's hub chain and registry (else `wrong-registry`);
 *   2. it must not be behind an epoch the operator already signed (else `superseded`), nor another set for an
 *      epoch it signed (else `conflicting-signature`);
 *   3. its own hub RPC must have answered (else `rpc-invalid`), and its read at its own finalized head must
 *      show that epoch (an earlier one: `not-final`; a later one: `superseded`) and that very set (else
 *      `set-mismatch`);
 *   4. it signs the EIP-712 `OperatorSetUpdate` digest of what its own read showed, and remembers the epoch.
 *
 * Invariants:
 * - Only the registry's current set, as the operator's own RPC shows it at a final block, is ever signed: a
 *   forged, replayed or stale record on the bus can make it sign nothing else. An old set is never signed, so
 *   signatures cannot move an Inbox back to a set that a later epoch ejected someone from.
 * - One set per epoch: an epoch signed is never signed with another set.
 * - The same set observed again gets the same signature (RFC 6979), so a re-observation after a restart costs
 *   nothing and strands nothing.
 *
 * @module
 */
import type { Hex as ViemHex } from "viem"
import { type CheckpointDomain, hashOperatorSetUpdate, type OperatorSet } from "../../contracts/index.ts"
import {
  type Address,
  Bytes32,
  type OperatorSetFields,
  type OperatorSetObserved,
  OperatorSetRefused,
  OperatorSetSigned,
  type RegistrySetRead,
  type SetRefusalReason,
  sameOperatorSet,
} from "../../schemas/index.ts"
import { asViemHex, signDigest } from "./sign-checkpoint.ts"

/** The epochs an operator signed sets for: the digest of each (a few per day at most; kept whole). */
export class SignedSets {
  readonly #digests = new Map<number, Bytes32>()
  #highest: number | null = null

  /** Why signing `digest` for `epoch` would be wrong, or undefined. */
  problem(epoch: number, digest: Bytes32): { reason: SetRefusalReason; detail: string } | undefined {
    const signed = this.#digests.get(epoch)
    if (signed !== undefined && signed !== digest)
      return {
        reason: "conflicting-signature",
        detail: `already signed another set for epoch ${epoch} (digest ${signed})`,
      }
    if (this.#highest !== null && epoch < this.#highest)
      return { reason: "superseded", detail: `already signed the set of a later epoch, ${this.#highest}` }
    return undefined
  }

  remember(epoch: number, digest: Bytes32): void {
    this.#digests.set(epoch, digest)
    if (this.#highest === null || epoch > this.#highest) this.#highest = epoch
  }
}

/** What the decision needs besides the record and its reads. */
export interface SetSigningContext {
  /** The operator it decides as (whose reads it takes, whose name its outputs carry). */
  readonly operator: Address
  readonly privateKey: ViemHex
  readonly domain: CheckpointDomain
  /** The network's hub chain and registry (`config.network`), lowercase. */
  readonly hub: { readonly chainId: number; readonly registry: Address }
}

/**
 * The EIP-712 digest of an operator-set update under a network's domain, in wire form (`Inbox.operatorSetUpdateDigest`).
 *
 * @example
 * ```ts
 * const digest = operatorSetDigest(domain, observed)
 * ```
 */
export const operatorSetDigest = (domain: CheckpointDomain, set: OperatorSetFields): Bytes32 =>
  Bytes32.make(hashOperatorSetUpdate({ domain, update: toTypedOperatorSet(set) }).toLowerCase())

/**
 * An operator set's fields in the shape the EIP-712 helpers take.
 *
 * @example
 * ```ts
 * hashOperatorSetUpdate({ domain, update: toTypedOperatorSet(observed) })
 * ```
 */
export const toTypedOperatorSet = (set: OperatorSetFields): OperatorSet => ({
  epoch: BigInt(set.epoch),
  operators: set.operators.map((o) => asViemHex(o.address)),
  weights: set.operators.map((o) => BigInt(o.weight)),
  thresholdBps: set.thresholdBps,
})

const describe = (set: OperatorSetFields) =>
  `epoch ${set.epoch}: ${set.operators.map((o) => `${o.address}=${o.weight}`).join(", ")}, threshold ${set.thresholdBps} bps`

/**
 * Signs `observed`, or refuses it; `reads` are the operator's own reads recorded for it (others' are ignored).
 *
 * @example
 * ```ts
 * const output = decideOperatorSet(signed, observed, [registryRead], context)
 * ```
 */
export const decideOperatorSet = (
  signed: SignedSets,
  observed: OperatorSetObserved,
  reads: ReadonlyArray<RegistrySetRead>,
  context: SetSigningContext,
): OperatorSetSigned | OperatorSetRefused => {
  const { operator, hub } = context
  const refuse = (reason: SetRefusalReason, detail: string) =>
    new OperatorSetRefused({
      chainId: observed.chainId,
      registry: observed.registry,
      epoch: observed.epoch,
      operator,
      reason,
      detail,
    })
  if (observed.chainId !== hub.chainId || observed.registry !== hub.registry)
    return refuse(
      "wrong-registry",
      `the record names registry ${observed.registry} on chain ${observed.chainId}; this network's is ${hub.registry} on chain ${hub.chainId}`,
    )
  const digest = operatorSetDigest(context.domain, observed)
  const problem = signed.problem(observed.epoch, digest)
  if (problem !== undefined) return refuse(problem.reason, problem.detail)

  const read = reads.find(
    (r) => r.reader === operator && r.chainId === hub.chainId && r.registry === hub.registry,
  )
  if (read === undefined)
    return refuse("rpc-invalid", "its own hub RPC gave no read of the registry that decodes, in time")
  if (read.epoch < observed.epoch)
    return refuse(
      "not-final",
      `its own hub RPC shows epoch ${read.epoch} at its finalized head ${read.block.number}, not yet ${observed.epoch}`,
    )
  if (read.epoch > observed.epoch)
    return refuse(
      "superseded",
      `its own hub RPC shows epoch ${read.epoch} at its finalized head ${read.block.number}; only the current set is signed`,
    )
  if (!sameOperatorSet(read, observed))
    return refuse(
      "set-mismatch",
      `the record says ${describe(observed)}; its own hub RPC shows ${describe(read)} at block ${read.block.number}`,
    )
  signed.remember(observed.epoch, digest)
  return new OperatorSetSigned({
    chainId: observed.chainId,
    registry: observed.registry,
    epoch: observed.epoch,
    operators: observed.operators,
    thresholdBps: observed.thresholdBps,
    digest,
    operator,
    signature: signDigest(context.privateKey, digest),
  })
}
