import type {
  ChainReadFailed,
  ChainReadRecovered,
  Checkpoint,
  Envelope,
  Lane,
  MessageId,
  WatcherRecovered,
  WatcherStalled,
} from "../../schemas/index.ts"
import { laneIdOf, marksOf, messageStagesOf, rankOf, type Stage } from "../lifecycle/index.ts"
import { haltEventOf } from "../runtime/chain-halts.ts"
import { encodeHaltEvent, type IndexSink, type LogPlace, type StepEntry } from "./index-writer.ts"

const checkpointDetail = (checkpoint: Checkpoint) => ({ count: checkpoint.count, root: checkpoint.root })

/** The rank a write moves its messages to (0: it moves none). */
const rankOfAdvance = (advance: Stage | undefined): number => (advance === undefined ? 0 : rankOf(advance))

/**
 * Where one record's writes go: its steps are gathered into one write (they share its place, and often
 * their detail), written before any other write of the record that follows them, so the order holds.
 */
const recordSink = (sink: IndexSink, place: LogPlace) => {
  let steps: StepEntry[] = []
  let lastDetail: Record<string, unknown> | undefined
  let lastJson = ""
  const flush = () => {
    if (steps.length === 0) return
    sink.write({ op: "steps", ...place, steps })
    steps = []
  }
  return {
    /** An event about one message (its id lowercase), moving it to `advance`. */
    step: (
      messageId: string,
      stage: string,
      detail: Record<string, unknown>,
      advance: Stage | undefined,
      ifKnown = false,
    ) => {
      if (detail !== lastDetail) {
        lastDetail = detail
        lastJson = JSON.stringify(detail)
      }
      steps.push({ messageId, stage, rank: rankOfAdvance(advance), detail: lastJson, ifKnown })
    },
    write: (write: Parameters<IndexSink["write"]>[0]) => {
      flush()
      sink.write(write)
    },
    flush,
  }
}

/** A stall or recovery of a service's RPC, as the index keeps it. */
const rpcFault = (
  sink: IndexSink,
  envelope: Envelope,
  place: LogPlace,
  event: WatcherStalled | WatcherRecovered | ChainReadFailed | ChainReadRecovered,
  kind: "stalled" | "recovered",
) =>
  sink.write({
    op: "rpc-fault",
    ...place,
    kind,
    // The producer the bus authenticated; a watcher's instance is its chain, an operator's the reader it names.
    service: envelope.producer.service,
    instance: "reader" in event ? event.reader : String(event.chainId),
    chainId: event.chainId,
    reason: event.reason,
    rpc: event.rpc,
    what: "what" in event ? event.what : "",
    problem: "problem" in event ? event.problem : "",
    since: event.since,
    attempts: event.attempts,
  })

/**
 * Writes what one log record says into the index: a message, a step of a
 * message, an event of a lane checkpoint, a destination's operator set, a
 * stall of a service's RPC (and its recovery), or a chain's halt or resume
 * (each only from its rightful writer, `haltEventOf`). Other chain reads and
 * cursors, with no bearing on a message's path, are left out; any other event that
 * names a message in its correlation id becomes a step, so a new event type
 * still shows up in every timeline. A `MessageRejected` is a step of the
 * message it rejects, and marks the message rejected once every observation
 * of it is. A `ProofRefused` is a step of every message its chunk listed,
 * saying why the submitter refused that proof; it moves none of them.
 *
 * How far a step or a lane event moves its messages is the lifecycle
 * projection's answer (`marksOf`), never decided here: this function only
 * chooses what each timeline entry is called and shows. It only writes
 * (`IndexWrite`s, to an index or to a chunk on its way to one), never
 * reads: whatever depends on what is indexed already (a message's stage, a
 * step of an event that names a message only by its correlation id) is
 * decided where the write is applied.
 *
 * @example
 * ```ts
 * store.transaction(() => indexEvent(store, envelope, place))
 * ```
 */
export const indexEvent = (sink: IndexSink, envelope: Envelope, place: LogPlace): void => {
  const record = recordSink(sink, place)
  indexRecord(record, envelope, place)
  record.flush()
}

const indexRecord = (sink: ReturnType<typeof recordSink>, envelope: Envelope, place: LogPlace): void => {
  const event = envelope.event
  if (event._tag === "MessageRejected") {
    // A rejected observation moves nothing forward: it only marks the message when no observation stands.
    const id = event.messageId.toLowerCase()
    sink.step(
      id,
      "rejected",
      {
        reason: event.reason,
        why: event.detail,
        nonce: event.nonce,
        block: event.block.number,
        blockHash: event.block.hash,
        transactionHash: event.transactionHash,
        logIndex: event.logIndex,
        outboxBlock: event.outboxBlock?.number ?? null,
        chainMessageId: event.chainMessageId,
      },
      undefined,
    )
    sink.write({ op: "rejection", messageId: id })
    return
  }
  const reached = messageStagesOf(event)
  const step = (id: MessageId, stage: string, detail: Record<string, unknown>) =>
    sink.step(id.toLowerCase(), stage, detail, reached.get(id))
  const laneEvent = (
    lane: Lane | Checkpoint,
    count: number,
    stage: string,
    detail: Record<string, unknown>,
  ) =>
    sink.write({
      op: "lane-event",
      ...place,
      lane: laneIdOf(lane),
      count,
      stage,
      rank: rankOfAdvance(marksOf(event).find((mark) => mark.on === "checkpoint")?.stage),
      detail: JSON.stringify(detail),
    })
  const checkpointEvent = (checkpoint: Checkpoint, stage: string, detail: Record<string, unknown>) =>
    laneEvent(checkpoint, checkpoint.count, stage, { ...checkpointDetail(checkpoint), ...detail })
  switch (event._tag) {
    case "MessageObserved":
      sink.write({
        op: "message",
        id: event.messageId.toLowerCase(),
        lane: laneIdOf({
          srcChainId: event.message.srcChainId,
          outbox: event.outbox,
          dstChainId: event.message.dstChainId,
        }),
        srcChainId: event.message.srcChainId,
        outbox: event.outbox.toLowerCase(),
        dstChainId: event.message.dstChainId,
        nonce: event.message.nonce,
        sender: event.message.sender.toLowerCase(),
        recipient: event.message.recipient.toLowerCase(),
        observedAt: place.at,
        rank: rankOf("observed"),
      })
      step(event.messageId, "observed", {
        block: event.block.number,
        blockHash: event.block.hash,
        transactionHash: event.transactionHash,
        logIndex: event.logIndex,
        nonce: event.message.nonce,
      })
      // Another observation of a message may stand where an earlier one was rejected.
      sink.write({ op: "rejection", messageId: event.messageId.toLowerCase() })
      return
    case "MessageProven": {
      const detail = {
        kind: event.kind,
        start: event.start,
        size: event.messageIds.length,
        ...checkpointDetail(event.checkpoint),
      }
      for (const id of event.messageIds) step(id, "proven", detail)
      return
    }
    case "CheckpointProposed":
      checkpointEvent(event.checkpoint, "proposed", {
        previousCount: event.previousCount,
        block: event.block.number,
      })
      return
    case "AttestationSigned":
      checkpointEvent(event.checkpoint, "signed", { operator: event.operator, epoch: event.epoch })
      return
    case "CheckpointResignRequested":
      // A request is the collector's: anyone else's (a producer that may write the topic by mistake) is not.
      if (envelope.producer.service !== "attestation-collector") return
      checkpointEvent(event.checkpoint, "resign", { epoch: event.epoch, reason: event.reason })
      return
    case "AttestationRefused":
      checkpointEvent(event.checkpoint, "refused", {
        operator: event.operator,
        reason: event.reason,
        why: event.detail,
      })
      return
    case "SignatureVerdict":
      checkpointEvent(event.checkpoint, "verdict", {
        operator: event.operator,
        result: event.result,
        weight: event.weight,
        epoch: event.epoch,
        reason: event.reason,
      })
      return
    case "CheckpointAttested":
      checkpointEvent(event.checkpoint, "attested", {
        signers: event.signatures.length,
        signedStake: event.signedStake,
        totalStake: event.totalStake,
        thresholdBps: event.thresholdBps,
        epoch: event.epoch,
      })
      return
    case "OperatorEquivocated":
      // Evidence is the collector's: anyone else's claim of it (an operator's key on a topic it may write) is not.
      if (envelope.producer.service !== "attestation-collector") return
      // Under each of the two checkpoints, so a trace of a message under either shows it.
      for (const [signed, other] of [
        [event.first, event.second],
        [event.second, event.first],
      ] as const) {
        checkpointEvent(signed.checkpoint, "evidence", {
          operator: event.operator,
          otherRoot: other.checkpoint.root,
          reason: event.reason,
        })
      }
      return
    case "OperatorAttestedInvalid":
      if (envelope.producer.service !== "attestation-collector") return
      checkpointEvent(event.signed.checkpoint, "evidence", {
        kind: "invalid-attestation",
        operator: event.operator,
        chainRoot: event.source.root,
        sourceBlock: event.source.block.number,
        refusedBy: event.refusedBy,
        reason: event.reason,
      })
      return
    case "CheckpointExpired":
      checkpointEvent(event.checkpoint, "expired", {
        signedStake: event.signedStake,
        requiredStake: event.requiredStake,
        reason: event.reason,
      })
      return
    case "RootCommitted":
      checkpointEvent(event.checkpoint, "committed", {
        transactionHash: event.transactionHash,
        block: event.block.number,
      })
      return
    case "LaneStalled":
      laneEvent(event.lane, event.treeCount, "stalled", {
        reason: event.reason,
        treeCount: event.treeCount,
        why: event.detail,
      })
      return
    case "DeliverySubmitted": {
      const detail = {
        action: event.action,
        transactionHash: event.transactionHash,
        nonce: event.nonce,
        replaces: event.replaces,
        batch: event.messageIds.length,
      }
      for (const id of event.messageIds) step(id, "submitted", detail)
      return
    }
    case "DeliveryConfirmed":
      for (const outcome of event.outcomes) {
        const detail = {
          action: event.action,
          transactionHash: event.transactionHash,
          block: event.block.number,
          reason: outcome.reason,
        }
        // The root went on chain in this transaction: the timeline shows it as its own step.
        if (event.action === "commitAndDeliver") step(outcome.messageId, "committed", detail)
        step(outcome.messageId, outcome.result, detail)
      }
      return
    case "DeliveryFailed": {
      const detail = {
        action: event.action,
        transactionHash: event.transactionHash,
        reason: event.reason,
        revertData: event.revertData,
      }
      for (const id of event.messageIds) step(id, "transaction-failed", detail)
      return
    }
    case "DeliverySkipped":
      // The timeline keeps what the Inbox showed, "unknown" included, so a reader knows what is left to check.
      event.messageIds.forEach((id, i) => {
        step(id, "skipped", {
          action: event.action,
          reason: event.reason,
          status: event.statuses[i] ?? "unknown",
        })
      })
      return
    case "RetryRequested":
      step(event.messageId, "retry-requested", { requestedBy: event.requestedBy, reason: event.reason })
      return
    case "RetryRefused":
      step(event.messageId, "retry-refused", { reason: event.reason, why: event.detail })
      return
    case "ProofRefused": {
      // The chunk's ids are its own claim: a forged one may name no message, and its step then joins none.
      const detail = {
        reason: event.reason,
        why: event.detail,
        start: event.start,
        size: event.messageCount,
        index: event.index,
        computedRoot: event.computedRoot,
        ...checkpointDetail(event.checkpoint),
      }
      for (const id of event.messageIds) step(id, "proof-refused", detail)
      return
    }
    case "OperatorSetRead":
      // The set the collector counts against; only its own reads are (any lane service may write the topic).
      if (envelope.producer.service !== "attestation-collector") return
      sink.write({
        op: "operator-set",
        ...place,
        dstChainId: event.lane.dstChainId,
        inbox: event.inbox,
        epoch: event.epoch,
        block: event.block.number,
        thresholdBps: event.thresholdBps,
        operators: JSON.stringify(event.operators.map((o) => ({ address: o.address, weight: o.weight }))),
      })
      return
    case "WatcherStalled":
      rpcFault(sink, envelope, place, event, "stalled")
      return
    case "ChainHalted":
    case "ChainResumed": {
      // Only a watcher halts a chain and only the chain-resume tool lifts a halt (any writer of the topic could
      // claim either): the rest is left out, as the services leave it out.
      const halt = haltEventOf(envelope)
      if (halt.kind !== "ignored")
        sink.write({
          op: "chain-halt",
          ...place,
          kind: halt.kind,
          chainId: halt.kind === "halted" ? halt.halt.chainId : halt.resume.chainId,
          event: encodeHaltEvent(halt),
        })
      return
    }
    case "WatcherRecovered":
    case "ChainReadRecovered":
      rpcFault(sink, envelope, place, event, "recovered")
      return
    case "ChainReadFailed":
      // A read given up on ends in the service's decision on its input (an operator's refusal, shown with its
      // checkpoint); only an outage, which the service waits out, is a stall.
      if (event.outage) rpcFault(sink, envelope, place, event, "stalled")
      return
    case "OutboxRangeRead":
    case "OutboxLaneRead":
    case "ChainHaltRead":
    // The records the submitter made beside it are the steps.
    case "DestinationRead":
    case "WatcherCursor":
      return
    default: {
      // A step only of a message indexed when it is written: the event merely claims its correlation.
      const correlation = envelope.correlationId
      if (correlation !== null)
        sink.step(
          correlation.toLowerCase(),
          envelope.type,
          { event: envelope.type },
          reached.get(correlation),
          true,
        )
    }
  }
}
