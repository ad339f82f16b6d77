/**
 * Following a retry request to its outcome without a consumer group: the
 * answer and the transaction's outcome travel on `chorus.deliveries` under
 * the request's lane key, so only that partition is read, from its high
 * watermark taken before the request was published (`answersFrom`), polling
 * until the outcome is there or the time is up. Without that offset it
 * starts at records written up to ten minutes before the request's time:
 * record times come from the writers' clocks, which may disagree.
 *
 * @module
 */
import { readEvents } from "../../bus/events/index.ts"
import { partitionForKey } from "../../bus/partitioner/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { ChorusError } from "../../errors/index.ts"
import { type Envelope, type EventId, laneKey, type RetryRequested } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { followRetry, type RetryOutcome } from "./outcome.ts"

export interface AwaitRetryOutcomeOptions {
  /** Give up (with a `timeout` outcome) after this long. */
  readonly timeoutMs: number
  /** How often to look for new records (default 250 ms). */
  readonly pollIntervalMs?: number
  /** Where to start reading the lane's `chorus.deliveries` partition: `answersFrom`, taken before publishing. */
  readonly fromOffset?: number
}

/** Slack for writers' clocks when no start offset is given. */
const CLOCK_SLACK_MS = 10 * 60_000

/**
 * The high watermark of the `chorus.deliveries` partition that will carry
 * the answers for `lane`: take it before publishing the request and pass it
 * as `fromOffset`, so no answer is missed whatever the clocks say.
 *
 * @example
 * ```ts
 * const fromOffset = await answersFrom(bus, { srcChainId: 901, dstChainId: 902 })
 * const request = await requestRetry(bus, input)
 * await awaitRetryOutcome(bus, request, { timeoutMs: 60_000, fromOffset })
 * ```
 */
export const answersFrom = async (
  bus: BusPort,
  lane: { readonly srcChainId: number; readonly dstChainId: number },
): Promise<number> => {
  const topic = TOPICS.deliveries.name
  const partition = partitionForKey(laneKey(lane), await bus.partitions(topic))
  return (await bus.watermarks(topic)).find((w) => w.partition === partition)?.high ?? 0
}

/** `awaitRetryOutcome` was given something it cannot follow. */
export class RetryFollowError extends ChorusError {
  override readonly name = "RetryFollowError"
  constructor(problem: string) {
    super(`cannot follow the retry request: ${problem}`, {
      details: { problem },
      hint: "Pass the envelope requestRetry returned and a timeout ≥ 0.",
    })
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Waits for the submitter's answer to `request` and, if it sent a
 * transaction, for that transaction's outcome.
 *
 * @example
 * ```ts
 * const request = await requestRetry(bus, input)
 * const outcome = await awaitRetryOutcome(bus, request, { timeoutMs: 120_000 })
 * if (outcome.kind === "refused") console.error(`${outcome.reason}: ${outcome.detail}`)
 * ```
 */
export const awaitRetryOutcome = async (
  bus: BusPort,
  request: Envelope<RetryRequested>,
  options: AwaitRetryOutcomeOptions,
): Promise<RetryOutcome> => {
  if (request.type !== "RetryRequested") {
    throw new RetryFollowError(`it is a ${String(request.type)} envelope, not a RetryRequested`)
  }
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs < 0) {
    throw new RetryFollowError(`timeoutMs is ${options.timeoutMs}`)
  }
  const pollMs = Math.max(1, options.pollIntervalMs ?? 250)
  const deadline = Date.now() + options.timeoutMs
  const topic = TOPICS.deliveries.name
  const partition = partitionForKey(request.key, await bus.partitions(topic))
  let cursor: number =
    options.fromOffset ??
    (await bus.offsetsForTimestamp(topic, Date.parse(request.time) - CLOCK_SLACK_MS)).find(
      (p) => p.partition === partition,
    )?.offset ??
    0
  // Causes precede their effects on the partition (one writer, in order): keep only the request's chain.
  const causes = new Set<EventId>([request.id])
  const kept: Envelope[] = []
  let undecodable = 0
  for (;;) {
    const high = (await bus.watermarks(topic)).find((w) => w.partition === partition)?.high ?? cursor
    if (high > cursor) {
      for await (const read of readEvents(bus, {
        topic,
        partitions: [partition],
        from: { offset: cursor },
        to: { offset: high },
      })) {
        if (!read.ok) {
          undecodable++
          continue
        }
        const { envelope } = read
        if (envelope.causationId === null || !causes.has(envelope.causationId)) continue
        kept.push(envelope)
        if (envelope.type === "DeliverySubmitted") causes.add(envelope.id)
      }
      cursor = high
      const progress = followRetry(request, kept)
      if (progress.kind === "done") return progress.outcome
    }
    const left = deadline - Date.now()
    if (left <= 0) {
      const progress = followRetry(request, kept)
      const trail = progress.kind === "done" ? progress.outcome.trail : progress.trail
      const where =
        progress.kind === "waiting" && progress.stage === "in-flight"
          ? `the submitter sent transaction ${progress.transactionHash}, which has no outcome yet`
          : `no answer from the submitter of chain ${request.event.lane.dstChainId}: is it running, and caught up?`
      const skipped =
        undecodable === 0
          ? ""
          : `; ${undecodable} record(s) on ${topic} partition ${partition} did not decode (see chorus.dead-letters)`
      return {
        kind: "timeout",
        messageId: request.event.messageId,
        detail: `after ${options.timeoutMs} ms, ${where}${skipped}`,
        trail,
      }
    }
    await sleep(Math.min(pollMs, left))
  }
}
