/**
 * A message's timeline, and what it waits on, from the audit index alone.
 *
 * Pipeline: the message's own steps, the events of the lane checkpoints
 * that cover it (up to the first attested), the stalls that hold its lane
 * back, rival observations rejected at its nonce, the RPC stalls and
 * recoveries of the services that read its chains while it was on its way,
 * and the halts and resumes of its source chain since it was observed
 * → one timeline in log order → `waiting`: its stage's next step (with the
 * stake its checkpoint lacks and who has not signed, `waiting-on.ts`), the
 * services that cannot reach their RPC for it now, the halt that holds it
 * or the resume it waits on a fresh attestation after, and every problem
 * met.
 *
 * Invariants:
 * - Nothing is read from a chain: what a chain showed is what was recorded.
 * - Revert data is shown in words wherever it appears (`describeRevert`,
 *   `describeFailure`), cut short or not, also when quoted in a reason.
 *
 * @module
 */
import { describeRevertsIn } from "../../chains/evm/solidity-revert.ts"
import { rankOf, type Stage } from "../lifecycle/index.ts"
import type { ChainResume } from "../runtime/chain-halts.ts"
import { describeFailure, describeRevert } from "./decode-revert.ts"
import type {
  AuditStore,
  ChainStatusRow,
  LaneEventRow,
  LogPlace,
  MessageRow,
  RpcFaultRow,
  StepRow,
} from "./index-store.ts"
import { describeHalt, type MessageStatus, stageOf, statusOf } from "./message-status.ts"
import { describeStakeGap, describeStall, holdsBack, readsChainOf, stakeGapOf, whoOf } from "./waiting-on.ts"

export interface TraceStep {
  readonly stage: string
  /** When the event was written to the log (ms since the epoch). */
  readonly at: number
  /** Delay since the step before (null for the first). */
  readonly sincePreviousMs: number | null
  readonly summary: string
  /** The record the step comes from. */
  readonly source: Omit<LogPlace, "at">
  readonly detail: Record<string, unknown>
}

export interface Trace {
  readonly message: MessageRow
  readonly status: MessageStatus
  readonly stage: Stage
  readonly steps: ReadonlyArray<TraceStep>
  /** Why it is not delivered, when it is not: what it waits for, and what went wrong on the way. */
  readonly waiting: ReadonlyArray<string>
}

const short = (hex: unknown) =>
  typeof hex === "string" && hex.length > 14 ? `${hex.slice(0, 10)}…` : String(hex)
const pct = (bps: unknown) => `${(Number(bps) / 100).toFixed(2)}%`

/** What the Inbox showed for a message the submitter skipped (`status` is absent in an index of an older log). */
const skippedStatusSummary = (message: MessageRow, status: unknown): string => {
  switch (status) {
    case "delivered":
      return `the Inbox on chain ${message.dstChainId} showed it delivered (its recipient ran)`
    case "failed":
      return `the Inbox on chain ${message.dstChainId} showed it failed (its recipient reverted)`
    default:
      return (
        `what the Inbox on chain ${message.dstChainId} showed for it was not recorded; ` +
        `Inbox.messageStatus(${message.srcChainId}, ${message.outbox}, ${message.nonce}) there tells whether it was delivered or failed`
      )
  }
}

const stepSummary = (message: MessageRow, step: StepRow): string => {
  const d = step.detail
  switch (step.stage) {
    case "observed":
      return `observed on chain ${message.srcChainId} in block ${d.block} (${short(d.blockHash)}), tx ${d.transactionHash}, nonce ${message.nonce}`
    case "proven":
      return d.kind === "single"
        ? `single-message proof against checkpoint #${d.count} (root ${short(d.root)}), for retries`
        : `range proof of messages ${d.start}–${Number(d.start) + Number(d.size) - 1} against checkpoint #${d.count} (root ${short(d.root)})`
    case "submitted":
      return `${d.action} sent to chain ${message.dstChainId}: tx ${d.transactionHash}, nonce ${d.nonce}, ${d.batch} message(s)${d.replaces ? `, replacing ${short(d.replaces)}` : ""}`
    case "committed":
      return `root committed on chain ${message.dstChainId} by ${d.action} in block ${d.block}, tx ${d.transactionHash}`
    case "delivered":
      return `delivered on chain ${message.dstChainId} in block ${d.block}, tx ${d.transactionHash} (${d.action})`
    case "failed":
      return `recipient ${message.recipient} reverted in block ${d.block}, tx ${d.transactionHash}: ${describeRevert(d.reason as string | null)}`
    case "skipped":
      return `${d.action} skipped it: ${describeRevertsIn(String(d.reason))}; ${skippedStatusSummary(message, d.status)}`
    case "transaction-failed":
      return `${d.action} transaction failed${d.transactionHash ? ` (${d.transactionHash})` : " before it was sent"}: ${describeFailure(d.reason, d.revertData)}`
    case "retry-requested":
      return `retry requested by ${d.requestedBy}${d.reason ? `: ${d.reason}` : ""}`
    case "retry-refused":
      return `retry refused by the submitter (${d.reason}): ${describeRevertsIn(String(d.why))}`
    case "rejected":
      return `rejected by the proof-builder (${d.reason}): ${d.why}${
        d.chainMessageId ? `; the chain holds ${d.chainMessageId} at nonce ${d.nonce}` : ""
      }`
    case "rival-rejected":
      return `another message observed at nonce ${d.nonce}, ${d.messageId}, was rejected (${d.reason}): ${d.why}`
    case "proof-refused":
      return `a proof of it was refused by the submitter (${d.reason}): ${d.why}`
    default:
      return `${step.type}`
  }
}

const laneSummary = (event: LaneEventRow): string => {
  const d = event.detail
  switch (event.stage) {
    case "proposed":
      return `checkpoint #${d.count} proposed (root ${short(d.root)}, after #${d.previousCount}, source block ${d.block})`
    case "refused":
      return `operator ${d.operator} refused checkpoint #${d.count}: ${d.reason} — ${d.why}`
    case "verdict":
      return `signature from ${d.operator} on checkpoint #${d.count} ${d.result}: ${d.reason}`
    case "attested":
      return `checkpoint #${d.count} attested: ${d.signedStake}/${d.totalStake} stake (threshold ${pct(d.thresholdBps)}), ${d.signers} signature(s), epoch ${d.epoch}`
    case "expired":
      return `checkpoint #${d.count} proposal expired: ${d.reason}`
    case "resign":
      return `checkpoint #${d.count}: operators asked to sign it again under epoch ${d.epoch}: ${d.reason}`
    case "evidence":
      if (d.kind === "invalid-attestation")
        return `EVIDENCE: operator ${d.operator} signed root ${short(d.root)} for checkpoint #${d.count}, a root its source chain never had there (the chain holds ${short(d.chainRoot)} at block ${d.sourceBlock}): ${d.reason}`
      return `EVIDENCE: operator ${d.operator} signed two roots for checkpoint #${d.count} (${short(d.root)} and ${short(d.otherRoot)}): ${d.reason}`
    case "committed":
      return `checkpoint #${d.count} root committed in block ${d.block}, tx ${d.transactionHash}`
    case "stalled":
      return `lane stalled at ${d.treeCount} message(s): ${d.reason} — ${d.why}`
    default:
      return `${event.type} on checkpoint #${event.count}`
  }
}

/** The root a checkpoint count is about: the attested one, else the one most signatures name. */
const rootOf = (events: ReadonlyArray<LaneEventRow>): unknown => {
  const attested = events.find((e) => e.stage === "attested")
  if (attested !== undefined) return attested.detail.root
  const tally = new Map<unknown, number>()
  for (const e of events.filter((e) => e.stage === "signed"))
    tally.set(e.detail.root, (tally.get(e.detail.root) ?? 0) + 1)
  return [...tally].sort((x, y) => y[1] - x[1])[0]?.[0]
}

/**
 * One "signed" step per checkpoint: who signed and with how much stake, from
 * the collector's verdicts (accepted ones counted towards the threshold,
 * late ones arrived after it was met). Only signatures and verdicts over the
 * checkpoint's root count: anyone can publish a signature over another root
 * for the same count, claiming any operator, and it must not change the line
 * the attested stake is printed beneath.
 */
const signedStep = (
  all: ReadonlyArray<LaneEventRow>,
): { at: number; summary: string; detail: Record<string, unknown>; source: LaneEventRow } | undefined => {
  const root = rootOf(all)
  const events = all.filter((e) => e.detail.root === root)
  const signatures = events.filter((e) => e.stage === "signed")
  if (signatures.length === 0) return undefined
  const verdicts = new Map<string, { result: string; weight: string }>()
  for (const verdict of events.filter((e) => e.stage === "verdict"))
    verdicts.set(String(verdict.detail.operator).toLowerCase(), {
      result: String(verdict.detail.result),
      weight: String(verdict.detail.weight),
    })
  const operators = signatures.map((s) => {
    const operator = String(s.detail.operator)
    const verdict = verdicts.get(operator.toLowerCase())
    return { operator, result: verdict?.result ?? "no verdict yet", weight: verdict?.weight ?? null }
  })
  const counted = operators.filter((o) => o.result === "accepted")
  const stake = counted.reduce((sum, o) => sum + BigInt(o.weight ?? 0), 0n)
  const others = operators.filter((o) => o.result !== "accepted")
  const first = signatures[0]!
  return {
    at: first.at,
    source: first,
    summary:
      `signed by ${counted.length} operator(s) with ${stake} stake: ${counted.map((o) => `${o.operator} (${o.weight})`).join(", ")}` +
      (others.length > 0 ? `; also ${others.map((o) => `${o.operator} (${o.result})`).join(", ")}` : ""),
    detail: { count: first.count, root: first.detail.root, operators, stake: stake.toString() },
  }
}

/** Is `a` later in the log than `b` (by log time, then position)? */
const after = (a: LogPlace, b: LogPlace) =>
  a.at !== b.at
    ? a.at > b.at
    : a.topic !== b.topic
      ? a.topic > b.topic
      : a.partition !== b.partition
        ? a.partition > b.partition
        : a.offset > b.offset

/**
 * The checkpoints that matter for a message: those covering its nonce, in
 * count order, up to the first one attested (later ones add nothing), plus
 * the first root committed that covers it.
 */
const relevantLaneEvents = (events: ReadonlyArray<LaneEventRow>, nonce: number) => {
  const counts = [
    ...new Set(events.filter((e) => e.count > nonce && e.stage !== "stalled").map((e) => e.count)),
  ].sort((a, b) => a - b)
  const chosen = new Set<number>()
  for (const count of counts) {
    chosen.add(count)
    if (events.some((e) => e.count === count && e.stage === "attested")) break
  }
  const committed = events.find((e) => e.stage === "committed" && e.count > nonce)
  return { chosen, committed }
}

/**
 * A message's whole timeline from the audit index: every step with its time,
 * its delay from the step before and the record it comes from; and, when it
 * is not delivered, what it is waiting for.
 *
 * @example
 * ```ts
 * const trace = traceMessage(store, "0x12…", { now: Date.now(), stuckAfterMs: 120_000 })
 * if (trace === undefined) console.log("never seen")
 * ```
 */
export const traceMessage = (
  store: AuditStore,
  messageId: string,
  options: { readonly now: number; readonly stuckAfterMs: number },
): Trace | undefined => {
  const message = store.message(messageId.toLowerCase())
  if (message === undefined) return undefined
  const halts = store.halts()
  const status = statusOf(message, { ...options, halted: halts })
  const own = store.steps(message.id)
  // A rejected message is no message of its lane: the lane's checkpoints and stalls are about the chain's one.
  const laneEvents = status === "rejected" ? [] : store.laneEventsCovering(message.lane, message.nonce)
  const { chosen, committed } = relevantLaneEvents(laneEvents, message.nonce)

  const raw: Array<Omit<TraceStep, "sincePreviousMs">> = []
  const place = (p: LogPlace) => ({
    topic: p.topic,
    partition: p.partition,
    offset: p.offset,
    eventId: p.eventId,
    type: p.type,
  })
  for (const step of own)
    raw.push({
      stage: step.stage,
      at: step.at,
      summary: stepSummary(message, step),
      source: place(step),
      detail: step.detail,
    })
  for (const count of [...chosen].sort((a, b) => a - b)) {
    const ofCheckpoint = laneEvents.filter((e) => e.count === count)
    for (const event of ofCheckpoint) {
      if (event.stage === "signed" || event.stage === "committed") continue
      // Accepted and late signatures are in the "signed" step; only rejections get a step of their own.
      if (event.stage === "verdict" && ["accepted", "late"].includes(String(event.detail.result))) continue
      raw.push({
        stage: event.stage === "verdict" ? `signature-${event.detail.result}` : event.stage,
        at: event.at,
        summary: laneSummary(event),
        source: place(event),
        detail: event.detail,
      })
    }
    const signed = signedStep(ofCheckpoint)
    if (signed !== undefined)
      raw.push({
        stage: "signed",
        at: signed.at,
        summary: signed.summary,
        source: place(signed.source),
        detail: signed.detail,
      })
  }
  if (committed !== undefined && !own.some((s) => s.stage === "committed"))
    raw.push({
      stage: "committed",
      at: committed.at,
      summary: laneSummary(committed),
      source: place(committed),
      detail: committed.detail,
    })
  // A stall holds back every message its lane has not proposed, until the lane proposes again: those since the
  // lane's last proposal are what the message waits on, whatever count they stalled at.
  if (status !== "delivered" && status !== "rejected" && message.stageRank < rankOf("proposed")) {
    const last = store.lastProposal(message.lane)
    for (const stall of laneEvents.filter(
      (e) => e.stage === "stalled" && (last === undefined || after(e, last)),
    ))
      raw.push({
        stage: "stalled",
        at: stall.at,
        summary: laneSummary(stall),
        source: place(stall),
        detail: stall.detail,
      })
  }
  // Other messages observed at its nonce that the proof-builder rejected: someone claimed this nonce.
  if (status !== "rejected")
    for (const rival of store.rivalRejections(message.lane, message.nonce, message.id)) {
      const detail = { ...rival.detail, messageId: rival.messageId }
      raw.push({
        stage: "rival-rejected",
        at: rival.at,
        summary: stepSummary(message, { ...rival, stage: "rival-rejected", detail }),
        source: place(rival),
        detail,
      })
    }

  // The RPC stalls and recoveries of the services that read its chains, while it was on its way.
  const until = status === "delivered" || status === "rejected" ? message.lastAt : options.now
  for (const fault of store.rpcFaultsBetween(
    [message.srcChainId, message.dstChainId],
    message.observedAt,
    until,
  )) {
    if (!readsChainOf(fault, message)) continue
    raw.push({
      stage: `rpc-${fault.kind}`,
      at: fault.at,
      summary: faultSummary(fault),
      source: place(fault),
      detail: {
        service: fault.service,
        instance: fault.instance,
        chainId: fault.chainId,
        reason: fault.reason,
        rpc: fault.rpc,
        what: fault.what,
        problem: fault.problem,
        since: fault.since,
        attempts: fault.attempts,
      },
    })
  }

  // Its source chain's halts and resumes since it was observed (until it settled): what held it, and what freed it.
  const chainHistory = store
    .chainStatusHistory(message.srcChainId)
    .filter((row) => row.at >= message.observedAt && row.at <= until)
  for (const row of chainHistory)
    raw.push({
      stage: row.status.kind === "halted" ? "chain-halted" : "chain-resumed",
      at: row.at,
      summary: chainStatusSummary(message, row),
      source: place(row),
      detail: chainStatusDetail(message, row),
    })

  raw.sort(
    (a, b) =>
      a.at - b.at || a.source.topic.localeCompare(b.source.topic) || a.source.offset - b.source.offset,
  )
  const steps = raw.map((step, i) => ({
    ...step,
    sincePreviousMs: i === 0 ? null : step.at - raw[i - 1]!.at,
  }))
  const stalls = store
    .openStalls([message.srcChainId, message.dstChainId])
    .filter((stall) => holdsBack(stall, message))
  const gap = status === "rejected" ? undefined : stakeGapOf(store, message, laneEvents)
  return {
    message,
    status,
    stage: stageOf(message),
    steps,
    waiting: [
      ...(status === "quarantined" ? [describeHalt(halts.get(message.srcChainId)!)] : []),
      ...resumeWait(message, status, chainHistory),
      ...waitingFor(message, status, steps, options.now, {
        stalls,
        gap: gap === undefined ? undefined : describeStakeGap(gap),
      }),
    ],
  }
}

/** The lane's Outbox count at a resume's trusted block: none for a lane of another outbox of the chain. */
const trustedCountOf = (message: MessageRow, resume: ChainResume): number =>
  message.outbox === resume.outbox ? (resume.counts.get(message.dstChainId) ?? 0) : 0

/** A halt or resume of the message's source chain, in words. */
const chainStatusSummary = (message: MessageRow, row: ChainStatusRow): string => {
  const { status } = row
  if (status.kind === "halted")
    return `source chain ${message.srcChainId} halted: its watcher found block ${status.halt.blockNumber} rewritten below finality (${status.halt.reason}); its messages are held until the halt is lifted`
  const { resume } = status
  const count = trustedCountOf(message, resume)
  const why = resume.reason === null ? "" : ` ("${resume.reason}")`
  return (
    `source chain ${message.srcChainId} resumed by ${resume.by}${why} from block ${resume.block.number} (${short(resume.block.hash)}), ` +
    `where lane ${message.srcChainId} → ${message.dstChainId} counted ${count}: ` +
    (message.nonce < count
      ? `nonce ${message.nonce} is below it, so it goes on as before`
      : `nonce ${message.nonce} is not, so only a checkpoint attested after the resume delivers it`)
  )
}

const chainStatusDetail = (message: MessageRow, row: ChainStatusRow): Record<string, unknown> => {
  const { status } = row
  if (status.kind === "halted")
    return { chainId: row.chainId, blockNumber: status.halt.blockNumber, reason: status.halt.reason }
  const { resume } = status
  return {
    chainId: row.chainId,
    block: resume.block.number,
    hash: resume.block.hash,
    by: resume.by,
    reason: resume.reason,
    halt: resume.halt.eventId,
    trustedCount: trustedCountOf(message, resume),
  }
}

/** What a message of a resumed chain still waits on, when the resume is why: a checkpoint attested after it. */
const resumeWait = (
  message: MessageRow,
  status: MessageStatus,
  history: ReadonlyArray<ChainStatusRow>,
): string[] => {
  const last = history.at(-1)
  if (last === undefined || last.status.kind !== "resumed") return []
  if (status === "delivered" || status === "rejected" || status === "failed") return []
  const { resume } = last.status
  const count = trustedCountOf(message, resume)
  if (message.nonce < count) return []
  return [
    `source chain ${message.srcChainId} was resumed from block ${resume.block.number} by ${resume.by} at ${new Date(resume.at).toISOString()}, where lane ${message.srcChainId} → ${message.dstChainId} counted ${count}: nonce ${message.nonce} is delivered only against a checkpoint attested after the resume (one attested before it may hold messages the rewrite replaced)`,
  ]
}

/** A stall or recovery of an RPC, as a step of the timeline. */
const faultSummary = (fault: RpcFaultRow): string => {
  if (fault.kind === "stalled") return describeStall(fault)
  return `${whoOf(fault)} reached its RPC for chain ${fault.chainId} again (${fault.rpc}), after ${fault.attempts} failed attempt(s) since ${fault.since}`
}

const waitingFor = (
  message: MessageRow,
  status: MessageStatus,
  steps: ReadonlyArray<TraceStep>,
  now: number,
  known: { readonly stalls: ReadonlyArray<RpcFaultRow>; readonly gap: string | undefined },
): string[] => {
  if (status === "delivered") return []
  if (status === "rejected") {
    const why =
      steps.filter((s) => s.stage === "rejected").at(-1)?.summary ?? `rejected (${message.rejected})`
    return [`${why}; it is no message of its lane and will never be delivered`]
  }
  const stage = stageOf(message)
  const idle = `${Math.round((now - message.lastAt) / 1000)} s`
  const next: Record<Stage, string> = {
    observed: `no checkpoint covering nonce ${message.nonce} proposed yet (proof-builder); idle for ${idle}`,
    proven: `no checkpoint covering nonce ${message.nonce} proposed yet (proof-builder); idle for ${idle}`,
    proposed: `no operator signature yet on a checkpoint covering it (operators)${known.gap === undefined ? "" : `: ${known.gap}`}; idle for ${idle}`,
    signed: `signatures below the stake threshold (attestation-collector)${known.gap === undefined ? "" : `: ${known.gap}`}; idle for ${idle}`,
    attested: `attested, not yet sent to chain ${message.dstChainId} (submitter for ${message.dstChainId}); idle for ${idle}`,
    committed: `root committed, delivery not yet sent (submitter for ${message.dstChainId}); idle for ${idle}`,
    submitted: `delivery sent, not yet confirmed (submitter for ${message.dstChainId}); idle for ${idle}`,
    failed: `its recipient reverted; after fixing the recipient, \`chorus retry ${message.id}\` runs it again`,
    delivered: "",
  }
  const problems = steps
    .filter(
      (s) =>
        [
          "refused",
          "expired",
          "evidence",
          "stalled",
          "transaction-failed",
          "skipped",
          "retry-refused",
          "proof-refused",
        ].includes(s.stage) || s.stage.startsWith("signature-"),
    )
    .map((s) => s.summary)
  return [next[stage], ...known.stalls.map(describeStall), ...problems]
}
