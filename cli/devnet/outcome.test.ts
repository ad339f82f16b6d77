import type { Address, Hex } from "viem"
import { describe, expect, it } from "vitest"
import { endingOf, judgeDevnet } from "./outcome.ts"
import type { TrackedMessage } from "./tracker.ts"

const tracked = (
  index: number,
  options: { gated?: boolean; delivered?: boolean; failed?: boolean; deliveries?: number } = {},
): TrackedMessage => ({
  sent: {
    index,
    srcChainId: 901,
    dstChainId: 902,
    recipient: "0x000000000000000000000000000000000000cafe" as Address,
    gated: options.gated ?? false,
    body: `0x${index.toString(16).padStart(2, "0")}` as Hex,
    transactionHash: `0x${"00".repeat(32)}` as Hex,
    sentAt: 0,
  },
  messageId: `0x${index.toString(16).padStart(64, "0")}`,
  ...(options.delivered ? { deliveredAt: 1 } : {}),
  ...(options.failed ? { failedAt: 1 } : {}),
  deliveries: options.deliveries ?? (options.delivered ? 1 : 0),
})

describe("endingOf", () => {
  it("given a delivery or a failure, then names it by whether the message was addressed to a gate", () => {
    expect(endingOf(tracked(0, { delivered: true }))).toBe("delivered")
    expect(endingOf(tracked(1, { failed: true }))).toBe("failed")
    expect(endingOf(tracked(2, { gated: true, failed: true }))).toBe("gated-failed")
    expect(endingOf(tracked(3, { gated: true, delivered: true }))).toBe("gated-delivered")
    expect(endingOf(tracked(4, { gated: true }))).toBe("in-flight")
  })

  it("given a failure and then a delivery (a retry), then the message counts as delivered", () => {
    expect(endingOf(tracked(0, { gated: true, failed: true, delivered: true }))).toBe("gated-delivered")
  })
})

describe("judgeDevnet", () => {
  it("given every ping message delivered and every gated one failed, then the run passes", () => {
    const outcome = judgeDevnet({
      target: 4,
      messages: [
        tracked(0, { delivered: true }),
        tracked(1, { gated: true, failed: true }),
        tracked(2, { delivered: true }),
        tracked(3, { gated: true, delivered: true }),
      ],
      duplicates: 0,
    })
    expect(outcome).toEqual({
      ok: true,
      endings: { delivered: 2, "gated-failed": 1, "gated-delivered": 1, failed: 0, "in-flight": 0 },
      gated: 2,
      problems: [],
    })
  })

  it("given a ping message that failed, then the run fails and says so", () => {
    const outcome = judgeDevnet({
      target: 2,
      messages: [tracked(0, { failed: true }), tracked(1, { gated: true, failed: true })],
      duplicates: 0,
    })
    expect(outcome.ok).toBe(false)
    expect(outcome.problems).toEqual(["1 message(s) to a PingRecipient failed at the recipient"])
  })

  it("given a gated message without an outcome, then the run fails: it is in flight", () => {
    const outcome = judgeDevnet({ target: 1, messages: [tracked(0, { gated: true })], duplicates: 0 })
    expect(outcome.problems).toEqual(["1 message(s) are still in flight"])
  })

  it("given fewer messages sent than asked, or a duplicate delivery, then the run fails", () => {
    const outcome = judgeDevnet({ target: 3, messages: [tracked(0, { delivered: true })], duplicates: 1 })
    expect(outcome.ok).toBe(false)
    expect(outcome.problems).toEqual([
      "only 1 of 3 messages were sent",
      "1 message(s) were reported delivered more than once",
    ])
  })
})
