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
import { laneIdOf, marksOf, messageStagesOf } from "../lifecycle/index.ts"
import { haltEventOf } from "../runtime/chain-halts.ts"
import type { AuditStore, LogPlace } from "./index-store.ts"

const checkpointDetail = (checkpoint: Checkpoint) => ({ count: checkpoint.count, root: checkpoint.root })

/** A stall or recovery of a service's RPC, as the index keeps it. */
const rpcFault = (
  store: AuditStore,
  envelope: Envelope,
  place: LogPlace,
  event: WatcherStalled | WatcherRecovered | ChainReadFailed | ChainReadRecovered,
  kind: "stalled" | "recovered",
) =>
  store.addRpcFault({
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
 * chooses what each timeline entry is called and shows.
 *
 * @example
 * ```ts
 * store.transaction(() => indexEvent(store, envelope, place))
 * ```
 */
export const indexEvent = (store: AuditStore, envelope: Envelope, place: LogPlace): void => {
  const event = envelope.event
  if (event._tag === "MessageRejected") {
    // A rejected observation moves nothing forward: it only marks the message when no observation stands.
    const id = event.messageId.toLowerCase()
    store.addStep(
      id,
      {
        ...place,
        stage: "rejected",
        detail: {
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
      },
      undefined,
    )
    store.refreshRejected(id)
    return
  }
  const reached = messageStagesOf(event)
  const step = (id: MessageId, stage: string, detail: Record<string, unknown>) =>
    store.addStep(id.toLowerCase(), { ...place, stage, detail }, reached.get(id))
  const laneEvent = (
    lane: Lane | Checkpoint,
    count: number,
    stage: string,
    detail: Record<string, unknown>,
  ) =>
    store.addLaneEvent(
      { ...place, lane: laneIdOf(lane), count, stage, detail },
      marksOf(event).find((mark) => mark.on === "checkpoint")?.stage,
    )
  const checkpointEvent = (checkpoint: Checkpoint, stage: string, detail: Record<string, unknown>) =>
    laneEvent(checkpoint, checkpoint.count, stage, { ...checkpointDetail(checkpoint), ...detail })
  switch (event._tag) {
    case "MessageObserved":
      store.addMessage({
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
      })
      step(event.messageId, "observed", {
        block: event.block.number,
        blockHash: event.block.hash,
        transactionHash: event.transactionHash,
        logIndex: event.logIndex,
        nonce: event.message.nonce,
      })
      // Another observation of a message may stand where an earlier one was rejected.
      store.refreshRejected(event.messageId.toLowerCase())
      return
    case "MessageProven":
      for (const id of event.messageIds)
        step(id, "proven", {
          kind: event.kind,
          start: event.start,
          size: event.messageIds.length,
          ...checkpointDetail(event.checkpoint),
        })
      return
    case "CheckpointProposed":
      checkpointEvent(event.checkpoint, "proposed", {
        previousCount: event.previousCount,
        block: event.block.number,
      })
      return
    case "AttestationSigned":
      checkpointEvent(event.checkpoint, "signed", { operator: event.operator })
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
    case "DeliverySubmitted":
      for (const id of event.messageIds)
        step(id, "submitted", {
          action: event.action,
          transactionHash: event.transactionHash,
          nonce: event.nonce,
          replaces: event.replaces,
          batch: event.messageIds.length,
        })
      return
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
    case "DeliveryFailed":
      for (const id of event.messageIds)
        step(id, "transaction-failed", {
          action: event.action,
          transactionHash: event.transactionHash,
          reason: event.reason,
          revertData: event.revertData,
        })
      return
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
    case "ProofRefused":
      // The chunk's ids are its own claim: a forged one may name no message, and its step then joins none.
      for (const id of event.messageIds)
        step(id, "proof-refused", {
          reason: event.reason,
          why: event.detail,
          start: event.start,
          size: event.messageCount,
          index: event.index,
          computedRoot: event.computedRoot,
          ...checkpointDetail(event.checkpoint),
        })
      return
    case "OperatorSetRead":
      // The set the collector counts against; only its own reads are (any lane service may write the topic).
      if (envelope.producer.service !== "attestation-collector") return
      store.addOperatorSet({
        ...place,
        dstChainId: event.lane.dstChainId,
        inbox: event.inbox,
        epoch: event.epoch,
        block: event.block.number,
        thresholdBps: event.thresholdBps,
        operators: event.operators.map((o) => ({ address: o.address, weight: o.weight })),
      })
      return
    case "WatcherStalled":
      rpcFault(store, envelope, place, event, "stalled")
      return
    case "ChainHalted":
    case "ChainResumed": {
      // Only a watcher halts a chain and only the chain-resume tool lifts a halt (any writer of the topic could
      // claim either): the rest is left out, as the services leave it out.
      const halt = haltEventOf(envelope)
      if (halt.kind !== "ignored") store.addChainHaltEvent({ ...place, event: halt })
      return
    }
    case "WatcherRecovered":
    case "ChainReadRecovered":
      rpcFault(store, envelope, place, event, "recovered")
      return
    case "ChainReadFailed":
      // A read given up on ends in the service's decision on its input (an operator's refusal, shown with its
      // checkpoint); only an outage, which the service waits out, is a stall.
      if (event.outage) rpcFault(store, envelope, place, event, "stalled")
      return
    case "OutboxRangeRead":
    case "OutboxLaneRead":
    case "ChainHaltRead":
    case "WatcherCursor":
      return
    default: {
      const correlation = envelope.correlationId
      if (correlation !== null && store.message(correlation) !== undefined)
        step(correlation, envelope.type, { event: envelope.type })
    }
  }
}
