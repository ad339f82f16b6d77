/**
 * The human-readable reason of a `CheckpointExpired`.
 *
 * @module
 */
import type { Address } from "../../schemas/index.ts"
import { type CheckpointRecord, countedSignatures, stakeOf } from "./checkpoint-record.ts"
import type { OperatorSetView } from "./operator-set.ts"

const iso = (ms: number) => new Date(ms).toISOString()

const refusalOf = (record: CheckpointRecord, operator: Address): string => {
  const refusal = record.refusals.get(operator)
  return refusal === undefined ? "" : `, refused: ${refusal.reason}: ${refusal.detail}`
}

/**
 * Says why a checkpoint expired, for whoever is on call: how long it waited,
 * who signed with how much stake, who did not (and why, if they refused),
 * and signatures that stopped counting after the set changed.
 *
 * @example
 * ```ts
 * expiryReason({ record, set, now, proposalTtlMs })
 * // "not attested within 300000 ms: proposed at …; signed by 0xa… (3): 3 of 6 required …; not signed by 0xb… (2, refused: root-mismatch: …)"
 * ```
 */
export const expiryReason = (input: {
  readonly record: CheckpointRecord
  readonly set: OperatorSetView | undefined
  readonly now: number
  readonly proposalTtlMs: number
}): string => {
  const { record, set, now, proposalTtlMs } = input
  const parts: string[] = []
  if (record.proposedAt === undefined) {
    parts.push(
      `never proposed: first heard of at ${iso(record.firstSeenAt)} from signatures or refusals, given up on an input at ${iso(now)} after ${now - record.firstSeenAt} ms (TTL ${proposalTtlMs} ms)`,
    )
  } else {
    parts.push(
      `not attested within ${proposalTtlMs} ms: proposed at ${iso(record.proposedAt)}, expired on an input at ${iso(now)} after ${now - record.proposedAt} ms`,
    )
  }
  if (set === undefined) {
    parts.push(
      `no operator set is known for destination ${record.checkpoint.dstChainId} (not configured here, or its Inbox has none), so no signature could count`,
    )
  } else {
    const counted = countedSignatures(record, set)
    const signed = counted.map((c) => `${c.signer} (${c.weight})`).join(", ")
    parts.push(
      `signed by ${signed === "" ? "nobody" : signed}: ${stakeOf(counted)} of ${set.requiredStake} required (total ${set.totalStake}, threshold ${set.thresholdBps} bps, epoch ${set.epoch})`,
    )
    const missing = [...set.weights]
      .filter(([operator]) => record.signatures.get(operator)?.epoch !== set.epoch)
      .map(([operator, weight]) => `${operator} (${weight}${refusalOf(record, operator)})`)
    parts.push(missing.length === 0 ? "every member signed" : `not signed by ${missing.join(", ")}`)
    const outside = [...record.signatures.keys()].filter((signer) => !set.weights.has(signer))
    if (outside.length > 0) parts.push(`signed, but no longer in the set: ${outside.join(", ")}`)
    const otherEpoch = [...record.signatures]
      .filter(([signer, s]) => set.weights.has(signer) && s.epoch !== set.epoch)
      .map(([signer, s]) => `${signer} (epoch ${s.epoch})`)
    if (otherEpoch.length > 0)
      parts.push(`signed under another epoch than ${set.epoch}: ${otherEpoch.join(", ")}`)
    const otherRefusals = [...record.refusals]
      .filter(([operator]) => !set.weights.has(operator))
      .map(([operator, r]) => `${operator} (${r.reason}: ${r.detail})`)
    if (otherRefusals.length > 0) parts.push(`refused by non-members: ${otherRefusals.join(", ")}`)
  }
  return parts.join("; ")
}
