/**
 * What an undelivered message waits on, beyond its stage, from the index
 * alone (never a chain): a checkpoint below its destination's stake
 * threshold, with the stake required against the stake signed and the
 * operators that have not signed; and a service that cannot reach its RPC
 * for the message's chains.
 *
 * Pipeline: the lane's events covering the message's nonce → its latest
 * proposal not attested → the collector's verdicts on that root (accepted
 * signatures and their weights, at an epoch) → the destination's operator
 * set the collector read at that epoch (`OperatorSetRead`, indexed from
 * `chorus.lane.reads`), or its latest → `StakeGap`. And the index's open
 * RPC stalls (`WatcherStalled`, `ChainReadFailed` of reason
 * `rpc-unreachable`) on the chains a service at that stage reads.
 *
 * Invariants:
 * - The stake required is the Inbox's own rule (`requiredStake`, as the
 *   collector counts it): the number `trace` prints is the one `commit`
 *   checks.
 * - Only verdicts over the proposal's root count (anyone can publish a
 *   signature over another root for the same count).
 * - A stall matters to a message only while the service that stalled has
 *   something to do for it: a watcher or an operator until the message is
 *   attested, a service of the destination until it is delivered.
 *
 * @module
 */
import { requiredStake } from "../attestation-collector/operator-set.ts"
import { rankOf, type Stage } from "../lifecycle/index.ts"
import type { AuditStore, LaneEventRow, MessageRow, RpcFaultRow } from "./index-store.ts"

/** One operator of a set and what it did about a checkpoint. */
export interface OperatorStanding {
  readonly operator: string
  readonly weight: bigint
  /** What it answered, when it did not sign (`refused: rpc-invalid`, `signature invalid`), or null: nothing yet. */
  readonly answer: string | null
}

/** A proposed checkpoint short of its destination's threshold. */
export interface StakeGap {
  readonly count: number
  readonly root: string
  readonly dstChainId: number
  readonly signedStake: bigint
  /** Null while the collector has recorded no operator set for the destination. */
  readonly set: {
    readonly epoch: number
    readonly thresholdBps: number
    readonly totalStake: bigint
    readonly requiredStake: bigint
    /** Members whose signature over the root was not counted, in the set's order. */
    readonly missing: ReadonlyArray<OperatorStanding>
  } | null
  /** Who signed and was counted, with their weights. */
  readonly signers: ReadonlyArray<{ readonly operator: string; readonly weight: bigint }>
}

const short = (hex: string) => (hex.length > 14 ? `${hex.slice(0, 10)}…` : hex)
const pct = (bps: number) => `${(bps / 100).toFixed(2)}%`

/**
 * The stake a message's checkpoint lacks, when the message waits for signatures: its lane's latest proposal
 * covering it that is not attested, against the operator set the collector counted it against. Undefined
 * when nothing covering it is proposed, or a covering checkpoint is attested.
 *
 * @example
 * ```ts
 * const gap = stakeGapOf(store, message, store.laneEventsCovering(message.lane, message.nonce))
 * gap?.set?.requiredStake // 6n
 * ```
 */
export const stakeGapOf = (
  store: AuditStore,
  message: MessageRow,
  laneEvents: ReadonlyArray<LaneEventRow>,
): StakeGap | undefined => {
  const covering = laneEvents.filter((e) => e.count > message.nonce)
  if (covering.some((e) => e.stage === "attested")) return undefined
  const proposal = covering.filter((e) => e.stage === "proposed").at(-1)
  if (proposal === undefined) return undefined
  const root = String(proposal.detail.root)
  const about = covering.filter((e) => e.count === proposal.count && e.detail.root === root)
  const verdicts = new Map<string, { result: string; weight: bigint; epoch: number }>()
  for (const verdict of about.filter((e) => e.stage === "verdict"))
    verdicts.set(String(verdict.detail.operator).toLowerCase(), {
      result: String(verdict.detail.result),
      weight: BigInt(String(verdict.detail.weight ?? "0")),
      epoch: Number(verdict.detail.epoch),
    })
  const accepted = [...verdicts].filter(([, v]) => v.result === "accepted" || v.result === "late")
  const signers = accepted.map(([operator, v]) => ({ operator, weight: v.weight }))
  const signedStake = signers.reduce((sum, s) => sum + s.weight, 0n)
  const epochs = accepted.map(([, v]) => v.epoch)
  const read = store.operatorSet(message.dstChainId, epochs.length > 0 ? Math.max(...epochs) : undefined)
  const base = { count: proposal.count, root, dstChainId: message.dstChainId, signedStake, signers }
  if (read === undefined) return { ...base, set: null }

  const answers = new Map<string, string>()
  for (const event of covering.filter((e) => e.count === proposal.count)) {
    const operator = String(event.detail.operator ?? "").toLowerCase()
    if (event.stage === "refused") answers.set(operator, refusalAnswer(String(event.detail.reason)))
    if (event.stage === "signed" && event.detail.root !== root) answers.set(operator, `signed another root`)
  }
  for (const [operator, verdict] of verdicts)
    if (verdict.result !== "accepted" && verdict.result !== "late")
      answers.set(operator, `signature ${verdict.result}`)
  const counted = new Set(signers.map((s) => s.operator))
  const totalStake = read.operators.reduce((sum, o) => sum + BigInt(o.weight), 0n)
  return {
    ...base,
    set: {
      epoch: read.epoch,
      thresholdBps: read.thresholdBps,
      totalStake,
      requiredStake: requiredStake(totalStake, read.thresholdBps),
      missing: read.operators
        .filter((o) => !counted.has(o.address.toLowerCase()))
        .map((o) => ({
          operator: o.address,
          weight: BigInt(o.weight),
          answer: answers.get(o.address.toLowerCase()) ?? null,
        })),
    },
  }
}

/**
 * An operator's refusal, as the gap names it: the reason, and for a refusal that is not about the checkpoint
 * itself, why it will not be signed as it stands.
 */
const refusalAnswer = (reason: string): string =>
  reason === "chain-halted"
    ? "refused: chain-halted, its source chain halted on the log when it was proposed; only a checkpoint proposed after `chorus chain resume` is signed"
    : `refused: ${reason}`

/**
 * The gap in words: the stake required against the stake signed, and who has not signed.
 *
 * @example
 * ```ts
 * describeStakeGap(gap)
 * // "checkpoint #5 (root 0xaaaaaaaa…) has 3 of the 6 stake required on chain 902 (threshold 66.67% of 8, epoch 1):
 * //  3 more needed; not signed by 0x…02 (weight 3, refused: rpc-invalid), 0x…03 (weight 2, no answer yet)"
 * ```
 */
export const describeStakeGap = (gap: StakeGap): string => {
  const head = `checkpoint #${gap.count} (root ${short(gap.root)})`
  if (gap.set === null)
    return `${head} has ${gap.signedStake} stake signed, but the collector recorded no operator set for chain ${gap.dstChainId} (no OperatorSetRead on the log: its Inbox may have none, epoch 0), so nothing can attest it`
  const { set } = gap
  const more = set.requiredStake > gap.signedStake ? set.requiredStake - gap.signedStake : 0n
  const missing =
    set.missing.length === 0
      ? "every operator of the set signed"
      : `not signed by ${set.missing
          .map((m) => `${m.operator} (weight ${m.weight}, ${m.answer ?? "no answer yet"})`)
          .join(", ")}`
  return `${head} has ${gap.signedStake} of the ${set.requiredStake} stake required on chain ${gap.dstChainId} (threshold ${pct(set.thresholdBps)} of ${set.totalStake}, epoch ${set.epoch}): ${more} more needed; ${missing}`
}

/** Which chain of a message a service reads, and the stage until which the message needs it. */
const NEEDS: Readonly<Record<string, { readonly chain: "source" | "destination"; readonly until: Stage }>> = {
  "chain-watcher": { chain: "source", until: "proposed" },
  "proof-builder": { chain: "source", until: "proposed" },
  operator: { chain: "source", until: "attested" },
  "attestation-collector": { chain: "destination", until: "attested" },
  submitter: { chain: "destination", until: "delivered" },
}

/**
 * Does this service read a chain of the message (its source for a watcher or an operator, its destination for
 * a submitter or the collector)?
 *
 * @example
 * ```ts
 * readsChainOf(operatorStallOn901, messageFrom901) // true
 * ```
 */
export const readsChainOf = (stall: RpcFaultRow, message: MessageRow): boolean => {
  const need = NEEDS[stall.service] ?? { chain: "source", until: "delivered" }
  return stall.chainId === (need.chain === "source" ? message.srcChainId : message.dstChainId)
}

/**
 * Does this stall hold the message back: a service that reads the message's chain and still has to act for it?
 *
 * @example
 * ```ts
 * holdsBack(operatorStallOn901, messageAt("proposed", 901)) // true
 * ```
 */
export const holdsBack = (stall: RpcFaultRow, message: MessageRow): boolean =>
  readsChainOf(stall, message) &&
  message.stageRank < rankOf((NEEDS[stall.service] ?? { until: "delivered" as const }).until)

/**
 * Which service instance an RPC stall or recovery is of, in words.
 *
 * @example
 * ```ts
 * whoOf(watcherStall) // "the chain-watcher of chain 901"
 * whoOf(operatorStall) // "operator 0xabc…"
 * ```
 */
export const whoOf = (fault: RpcFaultRow): string =>
  fault.service === "chain-watcher"
    ? `the chain-watcher of chain ${fault.chainId}`
    : fault.service === fault.instance
      ? `the ${fault.service}`
      : `${fault.service} ${fault.instance}`

/**
 * A stall in words.
 *
 * @example
 * ```ts
 * describeStall(stall) // "operator 0xabc… cannot reach its RPC for chain 901 (http://…) since 2026-…: reading the finalized head: HTTP request failed. (3 attempt(s) when recorded)"
 * ```
 */
export const describeStall = (stall: RpcFaultRow): string => {
  const who = whoOf(stall)
  const forChain = stall.service === "chain-watcher" ? "" : ` for chain ${stall.chainId}`
  const state =
    stall.reason === "rpc-invalid"
      ? `gets only answers it cannot use from its RPC${forChain}`
      : `cannot reach its RPC${forChain}`
  return `${who} ${state} (${stall.rpc}) since ${stall.since}: ${stall.what}: ${stall.problem} (${stall.attempts} attempt(s) when recorded)`
}
