/**
 * The planner: from the folded state, the time and the batching settings,
 * the transactions the submitter should send next, in order. Pure.
 *
 * Per lane, in nonce order:
 *   1. The run: consecutive pending chunks from the lane's lowest pending
 *      nonce (chunks already in flight are passed over; a gap ends the run).
 *   2. Cut points: the end of a chunk whose checkpoint is usable — its root is
 *      committed, or it is attested, not refused and not being committed by a
 *      flight. A batch ends at a cut and is proven against that cut's
 *      checkpoint (`mergeRangeProofs`), so one commit covers every earlier
 *      chunk of the batch, whatever checkpoint they were proven against.
 *   3. Batching: the ready messages (up to the last cut) close a batch when
 *      there are `batchSize` of them, or when the oldest has waited
 *      `windowMs` (a message is ready once its chunk is proven and a usable
 *      checkpoint covers it). The batch is the longest prefix ending at a cut
 *      with at most `batchSize` messages — or the first cut, if even that is
 *      larger.
 *   4. The part to send: from the batch's first message not settled, up to
 *      the next settled one (a message refused alone, say), at most
 *      `batchSize` messages whose gas limits sum to at most `maxBatchGas`,
 *      and always at least one message. Its proof is narrowed from the
 *      batch's (`narrowRangeProofTo`), against the same checkpoint, so a
 *      chunk splits wherever it must. When the part is shorter than the
 *      batch, the lane plans nothing after it until it settles.
 *   5. The action: `deliver` if the target root is committed; otherwise
 *      `commitAndDeliver` when the batch is all the work up to the target's
 *      count (the root is then needed by nothing else), else `commit`
 *      followed by `deliver`. Later batches of the lane follow, as if the
 *      earlier actions had succeeded.
 *
 * Never planned: settled messages (delivered, failed, skipped, refused),
 * messages and roots in flight, refused roots, and any work of a lane whose
 * source chain is halted (quarantined: its watcher saw it rewritten below
 * finality, so no root or message of it is trusted until the halt is
 * lifted). Lanes are ordered by their
 * oldest ready message, so a busy lane cannot starve the others.
 *
 * After a resume (`chorus chain resume` lifted the halt from a trusted
 * block, `ChainResumed`), a lane of that source plans again, but a
 * checkpoint whose count is above the lane's Outbox count at the trusted
 * block is no cut unless it was attested after the resume: the messages
 * above that count were observed on the history the rewrite replaced, and
 * may be gone, so only operators who signed after the resume (on their own
 * RPCs, on the chain as it is now) vouch for them. Such a checkpoint waits
 * (`attested-before-resume`, with the counts and the resume in words), and
 * a later checkpoint, or the same root attested again, attested after the
 * resume, is used instead; its proof covers the earlier chunks, as any cut
 * does. Committed does not help: anyone may commit a root its quorum
 * signed, so a root committed before the resume proves nothing about the
 * chain after it. A checkpoint at or below the trusted count is as good as
 * before: the history up to the trusted block is the one both sides share.
 *
 * "Attested after the resume" is by record time: the time of the latest
 * `CheckpointAttested` of the root (the collector's clock) against the
 * `ChainResumed`'s (the clock of whoever ran the tool). The two topics have
 * no common log order, so time is what there is. It errs safe: between the
 * halt and the resume operators refuse the chain (`chain-halted`), so an
 * attestation made before the resume is one made before the halt, and is
 * mistaken for a later one only if the clocks are apart by more than the
 * whole halt lasted; a clock that runs behind only makes a fresh
 * attestation wait for the next.
 *
 * @module
 */
import type { Hex } from "viem"
import type {
  Bytes32,
  Checkpoint,
  EventId,
  Lane,
  Message,
  MessageId,
  Signature,
} from "../../../schemas/index.ts"
import { computeRangeRoot } from "../../proof-builder/merkle/index.ts"
import type { ChainHalt, ChainResume } from "../../runtime/chain-halts.ts"
import { mergeRangeProofs, narrowRangeProofTo, ProofShapeError } from "./proofs.ts"
import type { Attestation, CheckpointEntry, Chunk, LaneState, SubmitterState } from "./state.ts"

export interface PlannerConfig {
  /** Close a batch at this many messages… */
  readonly batchSize: number
  /** …or when its oldest ready message has waited this long. */
  readonly windowMs: number
  /** The most gas a batch's messages may ask in all (the sum of their gas limits); one message may ask more. */
  readonly maxBatchGas: number
}

interface ActionBase {
  readonly laneId: string
  readonly lane: Lane
  /** The input the action comes from: the cause of what the runtime records for it. */
  readonly origin: EventId
  /** When the work became ready (ms): the lane's order. */
  readonly readyAt: number
}

/** `Inbox.commit(checkpoint, signatures)`. */
export interface CommitAction extends ActionBase {
  readonly kind: "commit"
  readonly checkpoint: Checkpoint
  /** The epoch the signatures were made under. */
  readonly epoch: number
  readonly signatures: ReadonlyArray<Signature>
}

/** `Inbox.deliver(…)` or `Inbox.commitAndDeliver(…)` of messages `[start, start + messages.length)`. */
export interface DeliverAction extends ActionBase {
  readonly kind: "deliver" | "commitAndDeliver"
  /** The checkpoint the proof is against (the batch's last chunk's). */
  readonly checkpoint: Checkpoint
  /** The quorum and the epoch it signed under, for `commitAndDeliver`; empty (and 0) for `deliver`. */
  readonly epoch: number
  readonly signatures: ReadonlyArray<Signature>
  /** The chunks the messages come from (the first and last may hold more than the messages sent). */
  readonly chunks: ReadonlyArray<Chunk>
  readonly start: number
  readonly messages: ReadonlyArray<Message>
  readonly messageIds: ReadonlyArray<MessageId>
  readonly proof: ReadonlyArray<Bytes32>
}

export type PlannedAction = CommitAction | DeliverAction

/** A lane with pending work that is not due yet, and why. */
export type LaneWait =
  | {
      readonly kind: "window"
      readonly laneId: string
      /** Ready messages so far. */
      readonly messages: number
      /** When the window closes (ms). */
      readonly closesAt: number
    }
  | {
      readonly kind: "unattested"
      readonly laneId: string
      /** Proven messages with no usable checkpoint at or after them yet. */
      readonly messages: number
    }
  | {
      readonly kind: "root-in-flight"
      readonly laneId: string
      readonly root: Bytes32
    }
  | {
      /** The lane's source chain is halted: its work is held until the halt is lifted on the log. */
      readonly kind: "quarantined"
      readonly laneId: string
      readonly srcChainId: number
      /** The block the watcher found rewritten. */
      readonly blockNumber: number
      readonly reason: string
    }
  | {
      /**
       * The source chain was resumed from a trusted block, and the checkpoint the chunks wait on counts past the
       * lane's count there but was attested before the resume: a checkpoint attested after it unblocks them.
       */
      readonly kind: "attested-before-resume"
      readonly laneId: string
      readonly root: Bytes32
      readonly count: number
      /** The lane's Outbox count at the trusted block. */
      readonly trustedCount: number
      readonly reason: string
    }
  | {
      /** The Inbox refused to commit the root the chunks are proven against; a new attestation of it, or of a later checkpoint, unblocks them. */
      readonly kind: "root-refused"
      readonly laneId: string
      readonly root: Bytes32
      readonly reason: string
    }

export interface Plan {
  readonly actions: ReadonlyArray<PlannedAction>
  readonly waiting: ReadonlyArray<LaneWait>
}

/**
 * Plans the next transactions. The runtime sends `actions[0]` and plans
 * again once it settled.
 *
 * @example
 * ```ts
 * const plan = planActions(state, Date.now(), { batchSize: 64, windowMs: 500, maxBatchGas: 10_000_000 })
 * plan.actions[0]?.kind // "commitAndDeliver"
 * ```
 */
export const planActions = (
  state: SubmitterState,
  now: number,
  config: PlannerConfig,
  haltOf: (srcChainId: number) => Pick<ChainHalt, "blockNumber" | "reason"> | null = () => null,
  resumeOf: (srcChainId: number) => SourceResume | null = () => null,
): Plan => {
  const busyIds = new Set<string>()
  const busyRoots = new Set<string>()
  for (const flight of state.flights.values()) {
    for (const id of flight.messageIds) busyIds.add(id)
    if (flight.root !== null) busyRoots.add(flight.root)
  }
  const lanes: Array<{ actions: PlannedAction[]; first: number; id: string }> = []
  const waiting: LaneWait[] = []
  for (const lane of state.lanes.values()) {
    const halt = haltOf(lane.lane.srcChainId)
    if (halt !== null) {
      if (lane.chunks.size > 0 || lane.checkpoints.size > 0) {
        const { blockNumber, reason } = halt
        waiting.push({
          kind: "quarantined",
          laneId: lane.id,
          srcChainId: lane.lane.srcChainId,
          blockNumber,
          reason,
        })
      }
      continue
    }
    const planned = planLane(
      lane,
      now,
      config,
      busyIds,
      busyRoots,
      trustOf(lane, resumeOf(lane.lane.srcChainId)),
    )
    if (planned.wait !== null) waiting.push(planned.wait)
    if (planned.actions.length > 0) {
      lanes.push({ actions: planned.actions, first: planned.actions[0]!.readyAt, id: lane.id })
    }
  }
  lanes.sort((a, b) => a.first - b.first || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return { actions: lanes.flatMap((l) => l.actions), waiting }
}

/** What the planner needs of a source chain's resume. */
export type SourceResume = Pick<ChainResume, "at" | "block" | "outbox" | "counts" | "by">

/** Why a checkpoint of a resumed source is not trusted, or undefined when it is (or the source was never resumed). */
type Distrust = (
  entry: CheckpointEntry,
) => { readonly trustedCount: number; readonly reason: string } | undefined

/**
 * The rule of the module's resume paragraph, for one lane: a checkpoint above the lane's count at the trusted
 * block is trusted only if attested after the resume.
 */
const trustOf = (lane: LaneState, resume: SourceResume | null): Distrust => {
  if (resume === null) return () => undefined
  const { srcChainId, dstChainId } = lane.lane
  // Counts are of the resumed chain's Outbox; a lane from another outbox of that chain has none to trust.
  const trusted = lane.lane.outbox.toLowerCase() === resume.outbox ? (resume.counts.get(dstChainId) ?? 0) : 0
  return (entry) => {
    const { count, root } = entry.checkpoint
    if (count <= trusted) return undefined
    if (entry.lastAttestedAt !== null && entry.lastAttestedAt > resume.at) return undefined
    const attested =
      entry.lastAttestedAt === null
        ? "was never attested"
        : `was attested at ${new Date(entry.lastAttestedAt).toISOString()}`
    const reason =
      `checkpoint #${count} (root ${root}) ${attested}, before source chain ${srcChainId} was resumed ` +
      `from block ${resume.block.number} by ${resume.by} at ${new Date(resume.at).toISOString()}, where lane ` +
      `${srcChainId} → ${dstChainId} counted ${trusted}: messages ${trusted}..${count - 1} were observed on the ` +
      "history the rewrite replaced and may be gone, so it waits for a checkpoint attested after the resume"
    return { trustedCount: trusted, reason }
  }
}

/** A checkpoint a batch can end at: its root is committed, or it can be committed now, and it is trusted. */
const isUsable = (
  entry: CheckpointEntry | undefined,
  committed: ReadonlySet<string>,
  busyRoots: Set<string>,
  distrust: Distrust,
) =>
  entry !== undefined &&
  distrust(entry) === undefined &&
  (committed.has(entry.checkpoint.root) ||
    (entry.refused === null && entry.attestation !== null && !busyRoots.has(entry.checkpoint.root)))

const usableAt = (entry: CheckpointEntry): number =>
  Math.min(entry.committedAt ?? Number.POSITIVE_INFINITY, entry.attestation?.time ?? Number.POSITIVE_INFINITY)

const planLane = (
  lane: LaneState,
  now: number,
  config: PlannerConfig,
  busyIds: Set<string>,
  busyRoots: Set<string>,
  distrust: Distrust,
): { actions: PlannedAction[]; wait: LaneWait | null } => {
  const committed = new Set<string>()
  for (const entry of lane.checkpoints.values())
    if (entry.committedAt !== null) committed.add(entry.checkpoint.root)
  const pending = [...lane.chunks.values()]
    .filter((chunk) => chunk.messageIds.some((id) => !lane.settled.has(id)))
    .sort((a, b) => a.start - b.start)
  const isBusy = (chunk: Chunk) => chunk.messageIds.some((id) => busyIds.has(id))
  const actions: PlannedAction[] = []
  let next = 0
  for (;;) {
    // 1. The run.
    const run: Chunk[] = []
    let i = next
    for (; i < pending.length; i++) {
      const chunk = pending[i]!
      if (isBusy(chunk)) {
        if (run.length > 0) break
        continue
      }
      if (run.length > 0 && chunk.start !== run[run.length - 1]!.end) break
      run.push(chunk)
    }
    if (run.length === 0) return { actions, wait: null }
    // 2. Cut points.
    const entries = run.map((chunk) => lane.checkpoints.get(chunk.checkpoint.root))
    const cuts = run.flatMap((_, k) => (isUsable(entries[k], committed, busyRoots, distrust) ? [k] : []))
    if (cuts.length === 0) {
      if (actions.length > 0) return { actions, wait: null }
      return { actions, wait: blockedWait(lane, run, entries, busyRoots, distrust) }
    }
    // 3. Batching.
    const lastCut = cuts[cuts.length - 1]!
    const readyAt: number[] = []
    let cutIndex = cuts.length - 1
    for (let k = lastCut; k >= 0; k--) {
      while (cutIndex > 0 && cuts[cutIndex - 1]! >= k) cutIndex--
      readyAt[k] = Math.max(run[k]!.time, usableAt(entries[cuts[cutIndex]!]!))
    }
    const ready = run.slice(0, lastCut + 1)
    const readyCount = countOf(ready)
    const oldest = Math.min(...readyAt.slice(0, lastCut + 1))
    if (readyCount < config.batchSize && now - oldest < config.windowMs) {
      return {
        actions,
        wait:
          actions.length > 0
            ? null
            : { kind: "window", laneId: lane.id, messages: readyCount, closesAt: oldest + config.windowMs },
      }
    }
    const batch = chooseBatch(run, cuts, config.batchSize)
    const target = entries[batch.length - 1]!
    // 4. The part to send.
    const batchEnd = batch[batch.length - 1]!.end
    const part = sendablePart(batch, lane.settled, config)
    const narrow = (action: DeliverAction) => reshapeDelivery(action, part)
    // 5. The action.
    const base = { laneId: lane.id, lane: lane.lane, readyAt: oldest }
    const attestation = target.attestation
    if (committed.has(target.checkpoint.root) || attestation === null) {
      actions.push(narrow(deliverAction(base, "deliver", batch, target.checkpoint, null)))
    } else if (batchEnd >= target.checkpoint.count) {
      actions.push(
        narrow(
          deliverAction(base, "commitAndDeliver", batch, target.checkpoint, attestation, attestation.id),
        ),
      )
    } else {
      actions.push({
        ...base,
        kind: "commit",
        origin: attestation.id,
        checkpoint: target.checkpoint,
        epoch: attestation.epoch,
        signatures: attestation.signatures,
      })
      actions.push(narrow(deliverAction(base, "deliver", batch, target.checkpoint, null)))
    }
    committed.add(target.checkpoint.root)
    // What comes after a part cut short depends on how it settles.
    if (part.to < batchEnd) return { actions, wait: null }
    next = pending.indexOf(batch[batch.length - 1]!) + 1
  }
}

/**
 * Why a run has no usable checkpoint: a commit in flight, a checkpoint attested before its source was resumed,
 * a refused root, or no attestation yet.
 */
const blockedWait = (
  lane: LaneState,
  run: ReadonlyArray<Chunk>,
  entries: ReadonlyArray<CheckpointEntry | undefined>,
  busyRoots: Set<string>,
  distrust: Distrust,
): LaneWait => {
  const inFlight = run.find((c) => busyRoots.has(c.checkpoint.root))
  if (inFlight !== undefined)
    return { kind: "root-in-flight", laneId: lane.id, root: inFlight.checkpoint.root }
  for (const entry of entries) {
    // Only an attested checkpoint was usable but for the resume; one never attested waits as unattested.
    const distrusted = entry?.attestation == null ? undefined : distrust(entry)
    if (entry === undefined || distrusted === undefined) continue
    const { root, count } = entry.checkpoint
    return { kind: "attested-before-resume", laneId: lane.id, root, count, ...distrusted }
  }
  const refused = entries.find((e) => e?.refused != null)
  if (refused?.refused != null) {
    return { kind: "root-refused", laneId: lane.id, root: refused.checkpoint.root, reason: refused.refused }
  }
  return { kind: "unattested", laneId: lane.id, messages: countOf(run) }
}

const countOf = (chunks: ReadonlyArray<Chunk>) => chunks.reduce((n, c) => n + c.messages.length, 0)

/**
 * The messages `[from, to)` of a batch to send now: from its first message
 * not settled, up to the next settled one, at most `batchSize` of them whose
 * gas limits sum to at most `maxBatchGas` — and at least one, whatever it
 * asks (the chain's estimate says whether it fits).
 */
const sendablePart = (
  batch: ReadonlyArray<Chunk>,
  settled: ReadonlyMap<MessageId, unknown>,
  config: PlannerConfig,
): { readonly from: number; readonly to: number } => {
  const budget = BigInt(config.maxBatchGas)
  let from: number | null = null
  let to = batch[0]!.start
  let gas = 0n
  for (const chunk of batch) {
    for (const [i, id] of chunk.messageIds.entries()) {
      const nonce = chunk.start + i
      if (from === null) {
        if (settled.has(id)) continue
        from = nonce
      } else if (settled.has(id) || nonce - from >= config.batchSize) {
        return { from, to }
      }
      gas += BigInt(chunk.messages[i]!.gasLimit)
      if (nonce > from && gas > budget) return { from, to }
      to = nonce + 1
    }
  }
  // A run holds only chunks with a message not settled, so `from` is set.
  return { from: from ?? batch[0]!.start, to }
}

/**
 * The longest prefix of `run` ending at a cut with at most `batchSize`
 * messages whose joined proof checks out against the cut's root (or the
 * first cut, if none does: the Inbox then refuses it with the reason).
 */
const chooseBatch = (run: ReadonlyArray<Chunk>, cuts: ReadonlyArray<number>, batchSize: number): Chunk[] => {
  let size = 0
  const fitting: number[] = []
  let k = 0
  for (const cut of cuts) {
    for (; k <= cut; k++) size += run[k]!.messages.length
    if (size <= batchSize || fitting.length === 0) fitting.push(cut)
  }
  for (const cut of fitting.reverse()) {
    const batch = run.slice(0, cut + 1)
    if (proofChecks(batch)) return batch
  }
  return run.slice(0, cuts[0]! + 1)
}

const proofChecks = (batch: ReadonlyArray<Chunk>): boolean => {
  const last = batch[batch.length - 1]!
  try {
    const root = computeRangeRoot({
      start: batch[0]!.start,
      count: last.checkpoint.count,
      leaves: batch.flatMap((c) => c.messageIds) as ReadonlyArray<Hex>,
      siblings: joinedProof(batch),
    })
    return root === last.checkpoint.root
  } catch (error) {
    if (error instanceof ProofShapeError) return false
    throw error
  }
}

const joinedProof = (batch: ReadonlyArray<Chunk>): ReadonlyArray<Hex> => {
  const part = (chunk: Chunk) => ({
    start: chunk.start,
    end: chunk.end,
    count: chunk.checkpoint.count,
    siblings: chunk.proof as ReadonlyArray<Hex>,
  })
  return mergeRangeProofs(part(batch[0]!), part(batch[batch.length - 1]!))
}

/**
 * The same delivery narrowed to its messages `[from, to)` (what the Inbox
 * already has dropped, or a part split off to isolate a message the chain
 * refuses), and as `kind` (a `commitAndDeliver` whose root turned out to be
 * committed becomes a `deliver`). The target checkpoint stays the same, and
 * the proof is narrowed from the delivery's own against the same root.
 *
 * @example
 * ```ts
 * const rest = reshapeDelivery(action, { from: action.start + 2, kind: "deliver" })
 * ```
 */
export const reshapeDelivery = (
  action: DeliverAction,
  change: { readonly from?: number; readonly to?: number; readonly kind?: DeliverAction["kind"] },
): DeliverAction => {
  const end = action.start + action.messages.length
  const from = change.from ?? action.start
  const to = change.to ?? end
  const kind = change.kind ?? action.kind
  if (from === action.start && to === end && kind === action.kind) return action
  const proof =
    from === action.start && to === end
      ? action.proof
      : (narrowRangeProofTo(
          {
            start: action.start,
            count: action.checkpoint.count,
            leaves: action.messageIds as ReadonlyArray<Hex>,
            siblings: action.proof as ReadonlyArray<Hex>,
          },
          from,
          to,
        ) as ReadonlyArray<Bytes32>)
  const [i, j] = [from - action.start, to - action.start]
  const chunks = action.chunks.filter((c) => c.end > from && c.start < to)
  return {
    ...action,
    kind,
    // A plain deliver is the chunks' work, whoever attested the root; a commit is the attestation's.
    origin: kind === "deliver" && action.kind !== "deliver" ? chunks[0]!.id : action.origin,
    epoch: kind === "deliver" ? 0 : action.epoch,
    signatures: kind === "deliver" ? [] : action.signatures,
    chunks,
    start: from,
    messages: action.messages.slice(i, j),
    messageIds: action.messageIds.slice(i, j),
    proof,
  }
}

const deliverAction = (
  base: Omit<ActionBase, "origin">,
  kind: DeliverAction["kind"],
  batch: ReadonlyArray<Chunk>,
  checkpoint: Checkpoint,
  /** The quorum of a `commitAndDeliver`; null for a `deliver`. */
  quorum: Pick<Attestation, "epoch" | "signatures"> | null,
  origin: EventId = batch[0]!.id,
): DeliverAction => ({
  ...base,
  kind,
  origin,
  checkpoint,
  epoch: quorum?.epoch ?? 0,
  signatures: quorum?.signatures ?? [],
  chunks: batch,
  start: batch[0]!.start,
  messages: batch.flatMap((c) => c.messages),
  messageIds: batch.flatMap((c) => c.messageIds),
  proof: joinedProof(batch) as ReadonlyArray<Bytes32>,
})
