import { expect } from "vitest"
import type { Devnet } from "../../cli/devnet/devnet.ts"
import { receivedPayloads } from "../../cli/devnet/recipients.ts"
import { settledStageOf } from "../../cli/devnet/tracker.ts"
import type { SentMessage } from "../../cli/devnet/traffic.ts"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Polls the devnet until `count` messages are delivered or failed, or until
 * `timeoutMs` passed: the caller then judges what it got.
 *
 * @example
 * ```ts
 * await untilSettled(devnet, sent.length, 90_000)
 * ```
 */
export const untilSettled = async (devnet: Devnet, count: number, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    await devnet.poll()
    const { counts } = devnet.tracker.progress()
    if (counts.delivered + counts.failed >= count || Date.now() > deadline) return
    await sleep(500)
  }
}

/**
 * Waits until every sent message is delivered or failed (or the deadline
 * passes), then checks the log and the chains agree: every message delivered
 * exactly once (each by a transaction the submitter recorded), and the
 * recipients hold exactly the payloads that were sent.
 *
 * @example
 * ```ts
 * await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 180_000 })
 * ```
 */
export const expectDeliveredExactlyOnce = async (
  devnet: Devnet,
  sent: ReadonlyArray<SentMessage>,
  options: { readonly timeoutMs: number; readonly diagnostics?: () => string },
): Promise<void> => {
  await untilSettled(devnet, sent.length, options.timeoutMs)
  const progress = devnet.tracker.progress()
  expect(progress.counts, options.diagnostics?.()).toMatchObject({
    sent: sent.length,
    delivered: sent.length,
    failed: 0,
  })
  expect(progress.duplicates).toBe(0)
  // The tracker counts a skip the Inbox showed delivered as delivered; the submitter must still have
  // recorded the transaction that delivered it, or it lost a flight it had in the air.
  const unconfirmed = devnet.tracker
    .messages()
    .filter((m) => settledStageOf(m) === "delivered" && m.deliveries === 0)
    .map((m) => m.messageId)
  expect(unconfirmed, "delivered with no DeliveryConfirmed from the submitter").toEqual([])
  const received = await receivedPayloads(devnet.world)
  const key = (m: { srcChainId: number; dstChainId: number; body: string }) =>
    `${m.srcChainId}->${m.dstChainId}:${m.body.toLowerCase()}`
  expect(received.map(key).sort()).toEqual(sent.map(key).sort())
}
