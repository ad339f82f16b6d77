import type { Checkpoint, Envelope, Lane } from "../../schemas/index.ts"
import type { AuditStore, LogPlace } from "./index-store.ts"

/** The index's lane key: one source outbox to one destination. */
export const auditLaneKey = (lane: {
  readonly srcChainId: number
  readonly outbox: string
  readonly dstChainId: number
}) => `${lane.srcChainId}:${lane.outbox.toLowerCase()}:${lane.dstChainId}`

const checkpointDetail = (checkpoint: Checkpoint) => ({ count: checkpoint.count, root: checkpoint.root })

/**
 * Writes what one log record says into the index: a message, a step of a
 * message, or an event of a lane checkpoint. Events with no bearing on a
 * message's path (chain reads, cursors) are left out; any other event that
 * names a message in its correlation id becomes a step, so a new event type
 * still shows up in every timeline.
 *
 * @example
 * ```ts
 * store.transaction(() => indexEvent(store, envelope, place))
 * ```
 */
export const indexEvent = (store: AuditStore, envelope: Envelope, place: LogPlace): void => {
  const event = envelope.event
  const lane = (value: Lane | Checkpoint) => auditLaneKey(value)
  const laneEvent = (checkpoint: Checkpoint, stage: string, detail: Record<string, unknown>) =>
    store.addLaneEvent({ ...place, lane: lane(checkpoint), count: checkpoint.count, stage, detail })
  switch (event._tag) {
    case "MessageObserved":
      store.addMessage({
        id: event.messageId.toLowerCase(),
        lane: auditLaneKey({
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
      store.addStep(
        event.messageId.toLowerCase(),
        {
          ...place,
          stage: "observed",
          detail: {
            block: event.block.number,
            blockHash: event.block.hash,
            transactionHash: event.transactionHash,
            logIndex: event.logIndex,
            nonce: event.message.nonce,
          },
        },
        "observed",
      )
      return
    case "MessageProven":
      for (const id of event.messageIds) {
        store.addStep(
          id.toLowerCase(),
          {
            ...place,
            stage: "proven",
            detail: {
              kind: event.kind,
              start: event.start,
              size: event.messageIds.length,
              ...checkpointDetail(event.checkpoint),
            },
          },
          "proven",
        )
      }
      return
    case "CheckpointProposed":
      laneEvent(event.checkpoint, "proposed", {
        ...checkpointDetail(event.checkpoint),
        previousCount: event.previousCount,
        block: event.block.number,
      })
      return
    case "AttestationSigned":
      laneEvent(event.checkpoint, "signed", {
        ...checkpointDetail(event.checkpoint),
        operator: event.operator,
      })
      return
    case "AttestationRefused":
      laneEvent(event.checkpoint, "refused", {
        ...checkpointDetail(event.checkpoint),
        operator: event.operator,
        reason: event.reason,
        why: event.detail,
      })
      return
    case "SignatureVerdict":
      laneEvent(event.checkpoint, "verdict", {
        ...checkpointDetail(event.checkpoint),
        operator: event.operator,
        result: event.result,
        weight: event.weight,
        epoch: event.epoch,
        reason: event.reason,
      })
      return
    case "CheckpointAttested":
      laneEvent(event.checkpoint, "attested", {
        ...checkpointDetail(event.checkpoint),
        signers: event.signatures.length,
        signedStake: event.signedStake,
        totalStake: event.totalStake,
        thresholdBps: event.thresholdBps,
        epoch: event.epoch,
      })
      return
    case "CheckpointExpired":
      laneEvent(event.checkpoint, "expired", {
        ...checkpointDetail(event.checkpoint),
        signedStake: event.signedStake,
        requiredStake: event.requiredStake,
        reason: event.reason,
      })
      return
    case "RootCommitted":
      laneEvent(event.checkpoint, "committed", {
        ...checkpointDetail(event.checkpoint),
        transactionHash: event.transactionHash,
        block: event.block.number,
      })
      return
    case "LaneStalled":
      store.addLaneEvent({
        ...place,
        lane: lane(event.lane),
        count: event.treeCount,
        stage: "stalled",
        detail: { reason: event.reason, treeCount: event.treeCount, why: event.detail },
      })
      return
    case "DeliverySubmitted":
      for (const id of event.messageIds) {
        store.addStep(
          id.toLowerCase(),
          {
            ...place,
            stage: "submitted",
            detail: {
              action: event.action,
              transactionHash: event.transactionHash,
              nonce: event.nonce,
              replaces: event.replaces,
              batch: event.messageIds.length,
            },
          },
          "submitted",
        )
      }
      return
    case "DeliveryConfirmed":
      for (const outcome of event.outcomes) {
        const id = outcome.messageId.toLowerCase()
        const detail = {
          action: event.action,
          transactionHash: event.transactionHash,
          block: event.block.number,
          reason: outcome.reason,
        }
        if (event.action === "commitAndDeliver")
          store.addStep(id, { ...place, stage: "committed", detail }, "committed")
        store.addStep(
          id,
          { ...place, stage: outcome.result, detail },
          outcome.result === "delivered" ? "delivered" : outcome.result === "failed" ? "failed" : undefined,
        )
      }
      return
    case "DeliveryFailed":
      for (const id of event.messageIds) {
        store.addStep(
          id.toLowerCase(),
          {
            ...place,
            stage: "transaction-failed",
            detail: {
              action: event.action,
              transactionHash: event.transactionHash,
              reason: event.reason,
              revertData: event.revertData,
            },
          },
          undefined,
        )
      }
      return
    case "DeliverySkipped":
      // The Inbox had already attempted the message: what it showed settles it; "unknown" (an older record, or
      // a read that failed) settles nothing.
      event.messageIds.forEach((id, i) => {
        const status = event.statuses[i] ?? "unknown"
        store.addStep(
          id.toLowerCase(),
          { ...place, stage: "skipped", detail: { action: event.action, reason: event.reason, status } },
          status === "unknown" ? undefined : status,
        )
      })
      return
    case "RetryRequested":
      store.addStep(
        event.messageId.toLowerCase(),
        {
          ...place,
          stage: "retry-requested",
          detail: { requestedBy: event.requestedBy, reason: event.reason },
        },
        undefined,
      )
      return
    case "RetryRefused":
      store.addStep(
        event.messageId.toLowerCase(),
        { ...place, stage: "retry-refused", detail: { reason: event.reason, why: event.detail } },
        undefined,
      )
      return
    case "OutboxRangeRead":
    case "OutboxLaneRead":
    case "OperatorSetRead":
    case "WatcherCursor":
      return
    default: {
      const correlation = envelope.correlationId?.toLowerCase()
      if (correlation !== undefined && store.message(correlation) !== undefined) {
        store.addStep(
          correlation,
          { ...place, stage: envelope.type, detail: { event: envelope.type } },
          undefined,
        )
      }
    }
  }
}
