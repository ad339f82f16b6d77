/**
 * A message's lifecycle, projected once from the log for every reader: the
 * auditor's index, `chorus retry`'s outcome, and the devnet's tracker.
 *
 * Pipeline: a decoded event → `marksOf` says which stage it implies for
 * each message it names (`MessageMark`) and for the lane checkpoint it
 * concerns (`CheckpointMark`, which covers every message of the lane below
 * its count) → each reader folds the marks into its own storage (SQLite
 * ranks, the tracker's maps) keeping the furthest stage (`rankOf`,
 * `furthest`) and, where it keeps times, the earliest time of each stage
 * (`evolve`).
 *
 * Invariants:
 * - `marksOf` is pure and total over the catalog's closed union of events:
 *   an event type without a case is a type error, not a silent gap.
 * - Stages only move forward, and the fold is order-free: the furthest stage
 *   wins whichever event is read first, so readers that take topics one
 *   after another agree with those that read in log order.
 * - `delivered` and `failed` are the terminal stages and rank above every
 *   other; `delivered` ranks above `failed`, since a retry can deliver a
 *   failed message.
 * - Only what the destination reported settles a message: a confirmed
 *   outcome, or the Inbox status a `DeliverySkipped` recorded. A skip of
 *   unknown status, a failed transaction or a refused retry settles nothing.
 *
 * @module
 */
import { ChorusError } from "../../errors/chorus-error.ts"
import type { ChorusEvent, MessageId } from "../../schemas/index.ts"

/**
 * The stages a message passes through, in pipeline order. A message's stage
 * only moves forward: whoever folds the marks keeps the furthest one reached.
 * The terminal stages rank last, `delivered` above `failed`, because a failed
 * message can still be retried and delivered, never the other way round.
 */
export const STAGES = [
  "observed",
  "proven",
  "proposed",
  "signed",
  "attested",
  "committed",
  "submitted",
  "failed",
  "delivered",
] as const

export type Stage = (typeof STAGES)[number]

/** Rank of a stage: higher is further along. */
export const rankOf = (stage: Stage): number => STAGES.indexOf(stage) + 1

/** The stage of a rank (0 → undefined: nothing known). */
export const stageOfRank = (rank: number): Stage | undefined => STAGES[rank - 1]

/** The stages that settle a message: nothing moves it on by itself, only a retry moves a failed one. */
export const TERMINAL_STAGES = ["failed", "delivered"] as const satisfies ReadonlyArray<Stage>

export type TerminalStage = (typeof TERMINAL_STAGES)[number]

/** Is this stage one that settles a message? */
export const isTerminal = (stage: Stage): stage is TerminalStage =>
  (TERMINAL_STAGES as ReadonlyArray<Stage>).includes(stage)

/**
 * The furthest of some stages (undefined for none).
 *
 * @example
 * ```ts
 * furthest(["failed", "committed", "delivered"]) // "delivered"
 * ```
 */
export const furthest = <S extends Stage>(stages: Iterable<S>): S | undefined => {
  let best: S | undefined
  for (const stage of stages) if (best === undefined || rankOf(stage) > rankOf(best)) best = stage
  return best
}

/** One source outbox towards one destination: the lane a checkpoint, and every message it covers, is on. */
export interface LaneRef {
  readonly srcChainId: number
  readonly outbox: string
  readonly dstChainId: number
}

/**
 * The key that joins a checkpoint to the messages of its lane (`src:outbox:dst`, lowercase, so an outbox
 * written in either case joins).
 *
 * @example
 * ```ts
 * laneIdOf({ srcChainId: 901, outbox: "0x…A11CE", dstChainId: 902 }) // "901:0x…a11ce:902"
 * ```
 */
export const laneIdOf = (lane: LaneRef): string =>
  `${lane.srcChainId}:${lane.outbox.toLowerCase()}:${lane.dstChainId}`

/** An event says message `messageId` reached `stage`. */
export interface MessageMark {
  readonly on: "message"
  readonly messageId: MessageId
  readonly stage: Stage
}

/**
 * An event says a lane checkpoint of `count` messages reached `stage`: so did every message of `lane` whose
 * nonce is below `count` (see `covers`), including those not observed yet.
 */
export interface CheckpointMark {
  readonly on: "checkpoint"
  readonly lane: LaneRef
  readonly count: number
  readonly stage: Stage
}

export type Mark = MessageMark | CheckpointMark

/**
 * Does a checkpoint mark cover this message? A checkpoint of `count` messages holds nonces 0 … count − 1.
 *
 * @example
 * ```ts
 * covers({ on: "checkpoint", lane, count: 3, stage: "attested" }, { lane, nonce: 2 }) // true
 * ```
 */
export const covers = (mark: CheckpointMark, message: { readonly lane: LaneRef; readonly nonce: number }) =>
  message.nonce < mark.count && laneIdOf(mark.lane) === laneIdOf(message.lane)

/** An event outside the catalog reached the projection: its type has no lifecycle rule. */
export class UnknownLifecycleEventError extends ChorusError {
  override readonly name = "UnknownLifecycleEventError"
  constructor(tag: unknown) {
    super(`no lifecycle rule for event type ${String(tag)}`, {
      details: { type: tag },
      hint: "only decoded Chorus events reach the projection; a new event type needs a case in marksOf",
    })
  }
}

const onMessages = (ids: ReadonlyArray<MessageId>, stage: Stage): Mark[] =>
  ids.map((messageId) => ({ on: "message", messageId, stage }))

const onCheckpoint = (checkpoint: LaneRef & { readonly count: number }, stage: Stage): Mark[] => [
  {
    on: "checkpoint",
    lane: { srcChainId: checkpoint.srcChainId, outbox: checkpoint.outbox, dstChainId: checkpoint.dstChainId },
    count: checkpoint.count,
    stage,
  },
]

/** Events that move every message they name to one stage. */
const MESSAGES_STAGE = {
  MessageProven: "proven",
  DeliverySubmitted: "submitted",
} as const satisfies Partial<Record<ChorusEvent["_tag"], Stage>>

/** Events that move a lane checkpoint, and with it every message it covers, to one stage. */
const CHECKPOINT_STAGE = {
  CheckpointProposed: "proposed",
  AttestationSigned: "signed",
  CheckpointAttested: "attested",
  RootCommitted: "committed",
} as const satisfies Partial<Record<ChorusEvent["_tag"], Stage>>

/**
 * The stages one event implies: for each message it names, and for the lane checkpoint it concerns. Events
 * that move nothing (reads, cursors, refusals, a transaction that failed, a retry request, an RPC stall or
 * its recovery) imply none.
 *
 * @example
 * ```ts
 * marksOf(confirmed) // [{ on: "message", messageId: "0x12…", stage: "delivered" }]
 * ```
 */
export const marksOf = (event: ChorusEvent): ReadonlyArray<Mark> => {
  switch (event._tag) {
    case "MessageObserved":
      return onMessages([event.messageId], "observed")
    case "MessageProven":
    case "DeliverySubmitted":
      return onMessages(event.messageIds, MESSAGES_STAGE[event._tag])
    case "CheckpointProposed":
    case "AttestationSigned":
    case "CheckpointAttested":
    case "RootCommitted":
      return onCheckpoint(event.checkpoint, CHECKPOINT_STAGE[event._tag])
    case "DeliveryConfirmed":
      return event.outcomes.flatMap((outcome): Mark[] => [
        // commitAndDeliver commits the root in the same transaction: its messages are committed even when no
        // RootCommitted is ever written for them.
        ...(event.action === "commitAndDeliver" ? onMessages([outcome.messageId], "committed") : []),
        // "skipped": the Inbox had attempted it before; this transaction does not say how that went.
        ...(outcome.result === "skipped" ? [] : onMessages([outcome.messageId], outcome.result)),
      ])
    case "DeliverySkipped":
      // What the Inbox showed settles the message; "unknown" (a version-1 record, or a read that failed)
      // settles nothing, so that nobody takes an unread status as delivered.
      return event.messageIds.flatMap((messageId, i) => {
        const status = event.statuses[i] ?? "unknown"
        return status === "unknown" ? [] : onMessages([messageId], status)
      })
    case "DeliveryFailed":
    case "RetryRequested":
    case "RetryRefused":
    // A refused chunk is someone's forgery or fault; its messages stand where the real proof takes them.
    case "ProofRefused":
    case "AttestationRefused":
    case "SignatureVerdict":
    case "CheckpointExpired":
    // A request to sign again: the checkpoint's messages wait for the new quorum where they are.
    case "CheckpointResignRequested":
    // Evidence against an operator: its checkpoints' messages go on under the honest quorum.
    case "OperatorEquivocated":
    case "OperatorAttestedInvalid":
    // The hub's set on its way to every Inbox: it moves no message.
    case "OperatorSetObserved":
    case "RegistrySetRead":
    case "OperatorSetSigned":
    case "OperatorSetRefused":
    case "InboxSetRead":
    case "OperatorSetAttested":
    case "OperatorSetSubmitted":
    case "OperatorSetApplied":
    case "OperatorSetUpdateFailed":
    case "LaneStalled":
    case "ChainHalted":
    // A resume, and an operator's read of a halt, move nothing: the messages wait where they are.
    case "ChainResumed":
    case "ChainHaltRead":
    // The destination's answers behind a submitter's step: the records made beside it move the messages.
    case "DestinationRead":
    // An RPC that fails a service moves nothing: its messages wait where they are (the auditor says why).
    case "WatcherStalled":
    case "WatcherRecovered":
    case "ChainReadFailed":
    case "ChainReadRecovered":
    case "OutboxRangeRead":
    // A watcher's re-read of one message moves nothing: the MessageObserved it folds into does.
    case "OutboxNonceRead":
    case "OutboxLaneRead":
    case "OperatorSetRead":
    case "InboxEpochRead":
    case "ChainHeadRead":
    case "MessageRejected":
    case "WatcherCursor":
      return []
    default: {
      // A new event type without a case is a type error here.
      const unhandled: never = event
      throw new UnknownLifecycleEventError((unhandled as { readonly _tag?: unknown })._tag)
    }
  }
}

/**
 * The furthest stage one event implies for each message it names (checkpoint marks left out: they need the
 * message's lane and nonce).
 *
 * @example
 * ```ts
 * messageStagesOf(commitAndDeliverConfirmed).get(id) // "delivered" (committed too, but delivered is further)
 * ```
 */
export const messageStagesOf = (event: ChorusEvent): ReadonlyMap<MessageId, Stage> => {
  const stages = new Map<MessageId, Stage>()
  for (const mark of marksOf(event)) {
    if (mark.on !== "message") continue
    const before = stages.get(mark.messageId)
    stages.set(mark.messageId, before === undefined ? mark.stage : furthest([before, mark.stage])!)
  }
  return stages
}

/** What the log has said about one message so far: the earliest time (ms) it reached each stage. */
export type Lifecycle = Readonly<Partial<Record<Stage, number>>>

/**
 * Folds a stage reached at `at` into a lifecycle. Each stage keeps its earliest time and the stage is the
 * furthest reached, so folding the same marks in any order gives the same lifecycle.
 *
 * @example
 * ```ts
 * evolve(evolve({}, "delivered", 9), "delivered", 3) // { delivered: 3 }
 * ```
 */
export const evolve = (state: Lifecycle, stage: Stage, at: number): Lifecycle => {
  const before = state[stage]
  return before !== undefined && before <= at ? state : { ...state, [stage]: at }
}

/** The furthest stage a lifecycle reached (undefined: nothing known). */
export const stageOfLifecycle = (state: Lifecycle): Stage | undefined =>
  furthest(STAGES.filter((stage) => state[stage] !== undefined))
