/**
 * `chorus retry` against one anvil acting as destination chain 902 and an
 * embedded bus: a batch whose recipient reverts, retry requests published
 * with the library, the submitter driven with `tick()`, and the chain
 * (`Inbox.messageStatus`, the recipient's events) saying what ran.
 */
import { toHex } from "viem"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { inboxAbi } from "../../../contracts/index.ts"
import type { DeliveryFailed, DeliverySubmitted, Envelope } from "../../../schemas/index.ts"
import { awaitRetryOutcome, requestRetry } from "../../retry/index.ts"
import { quietLogger } from "../../runtime/index.ts"
import { type Submitter, startSubmitter } from "../service/index.ts"
import {
  type Destination,
  deliveries,
  expectReplayReproduces,
  openTestBus,
  publish,
  SOURCES,
  startDestination,
  tickUntil,
} from "./destination-fixture.ts"
import { asHex, makeLaneFixture } from "./lane-fixture.ts"

let dst: Destination
beforeAll(async () => {
  dst = await startDestination()
})
afterAll(async () => {
  await dst?.stop()
})

const causedBy = (events: ReadonlyArray<Envelope>, request: Envelope) =>
  events.filter((e) => e.causationId === request.id)

describe("retrying a failed message", () => {
  it("retries it once the recipient is fixed, refuses what it cannot retry, and answers each request once across restarts", async () => {
    const source = SOURCES.retry
    const lane = makeLaneFixture({ ...source, dstChainId: 902, recipient: dst.reverting, count: 2 })
    const { bus, close } = await openTestBus()
    // A stop that does not follow the flight in the air, so the next submitter finishes it (as after a kill).
    const config = dst.configWith({ stopDrainMs: 0 })
    const started: Submitter[] = []
    const start = async () => {
      const submitter = await startSubmitter({
        bus,
        config,
        submitter: config.submitters[0]!,
        logger: quietLogger(),
        autoStart: false,
      })
      started.push(submitter)
      return submitter
    }
    const ask = (nonce: number, messageId: string = lane.ids[nonce]!) =>
      requestRetry(bus, { ...source, dstChainId: 902, messageId, nonce, requestedBy: "alice@ops" })
    const status = async (nonce: number) =>
      dst.publicClient.readContract({
        address: dst.inbox,
        abi: inboxAbi,
        functionName: "messageStatus",
        args: [BigInt(source.srcChainId), source.outbox, nonce],
      })
    try {
      // Given checkpoints at 1 and 2, proven in chunks of one, so the batch [0, 2) goes against the root at 2
      // (the root at 1 is never committed: a retry must prove message 0 against the root at 2)
      await publish(bus, [
        lane.attested(1, 0, await dst.sign(lane, 1)),
        ...lane.chunks(0, 1, 1),
        lane.attested(2, 0, await dst.sign(lane, 2)),
        ...lane.chunks(1, 2, 1),
      ])
      const first = await start()
      const delivered = await tickUntil(first, (r) => r.kind === "confirmed", "the batch")
      // And both messages failed at the reverting recipient
      expect(delivered.at(-1)).toMatchObject({ kind: "confirmed", action: "commitAndDeliver", failed: 2 })
      expect([await status(0), await status(1)]).toEqual([2, 2])

      // When a retry is requested while the recipient still reverts
      const early = await ask(0)
      const refusedRun = await tickUntil(first, (r) => r.kind === "refused", "the early retry to be refused")
      // Then nothing is sent: the estimate's RetryFailed is recorded, decoded, as the request's answer
      expect(refusedRun.at(-1)).toMatchObject({ kind: "refused", action: "retry" })
      const earlyOutcome = await awaitRetryOutcome(bus, early, { timeoutMs: 5_000, pollIntervalMs: 20 })
      expect(earlyOutcome).toMatchObject({ kind: "failed", transactionHash: null })
      expect(earlyOutcome.kind === "failed" && earlyOutcome.reason).toMatch(
        new RegExp(`^RetryFailed\\(messageId=${lane.ids[0]}, reason=0x`),
      )

      // When the recipient is fixed (PingRecipient's code in its place) and the retry requested again
      await dst.testClient.setCode({
        address: dst.reverting,
        bytecode: (await dst.publicClient.getCode({ address: dst.ping }))!,
      })
      const retry = await ask(0)
      const sent = await tickUntil(first, (r) => r.kind === "submitted", "the retry transaction")
      expect(sent.at(-1)).toMatchObject({ kind: "submitted", action: "retry", messageIds: [lane.ids[0]] })
      // And the submitter stops before it saw the receipt (it does not wait for it, as after a kill), and a new
      // one takes over
      await first.stop()
      const second = await start()
      await tickUntil(second, (r) => r.kind === "confirmed", "the retry's confirmation")
      await tickUntil(second, (r) => r.kind === "idle", "the submitter to go idle")

      // Then the message is delivered, once, by Inbox.retry against the root at 2
      const outcome = await awaitRetryOutcome(bus, retry, { timeoutMs: 5_000, pollIntervalMs: 20 })
      expect(outcome).toMatchObject({ kind: "delivered", messageId: lane.ids[0] })
      expect(outcome.trail.map((e) => e.type)).toEqual([
        "RetryRequested",
        "DeliverySubmitted",
        "DeliveryConfirmed",
      ])
      expect(await status(0)).toBe(1)
      expect(await dst.pingedBodies(source.srcChainId, dst.reverting)).toEqual([toHex("ping 0")])
      if (outcome.kind !== "delivered" || outcome.transactionHash === null)
        throw new Error("no retry transaction")
      const receipt = await dst.publicClient.getTransactionReceipt({ hash: asHex(outcome.transactionHash) })
      const retried = await dst.publicClient.getContractEvents({
        address: dst.inbox,
        abi: inboxAbi,
        eventName: "MessageRetried",
        blockHash: receipt.blockHash,
      })
      expect(retried.map((log) => log.args.messageId)).toEqual([lane.ids[0]])

      // When it is requested again, and a message nobody sent is requested
      const again = await ask(0)
      const stranger = await ask(1, `0x${"ee".repeat(32)}`)
      await tickUntil(second, (r) => r.kind === "retry-refused", "the second request's refusal")
      await tickUntil(second, (r) => r.kind === "retry-refused", "the stranger's refusal")
      // Then they are refused, already delivered and unknown
      const repeat = await awaitRetryOutcome(bus, again, { timeoutMs: 5_000, pollIntervalMs: 20 })
      expect(repeat).toMatchObject({ kind: "refused", reason: "already-delivered" })
      const unknown = await awaitRetryOutcome(bus, stranger, { timeoutMs: 5_000, pollIntervalMs: 20 })
      expect(unknown).toMatchObject({ kind: "refused", reason: "unknown-message" })
      expect(unknown.kind === "refused" && unknown.detail).toContain(`nonce 1 of lane 782→902`)

      // When a third submitter starts on the same log
      await second.stop()
      const third = await start()
      await tickUntil(third, (r) => r.kind === "idle", "the third submitter to go idle")
      // Then every request was answered exactly once: one answer each, and one transaction in all
      const events = await deliveries(bus, source.srcChainId)
      expect(causedBy(events, early).map((e) => e.type)).toEqual(["DeliveryFailed"])
      expect((causedBy(events, early)[0]!.event as DeliveryFailed).action).toBe("retry")
      expect(causedBy(events, retry).map((e) => e.type)).toEqual(["DeliverySubmitted"])
      expect(causedBy(events, again).map((e) => e.type)).toEqual(["RetryRefused"])
      expect(causedBy(events, stranger).map((e) => e.type)).toEqual(["RetryRefused"])
      const retries = events.filter(
        (e) => e.type === "DeliverySubmitted" && (e.event as DeliverySubmitted).action === "retry",
      )
      expect(retries).toHaveLength(1)
      // And message 1, never retried, is still failed
      expect(await status(1)).toBe(2)
      // And a replay makes every answer and outcome from what the submitter recorded of the Inbox
      await Promise.all(started.map((s) => s.stop()))
      await expectReplayReproduces(bus, config)
    } finally {
      await Promise.all(started.map((s) => s.stop()))
      await close()
    }
  })
})
