import type { Hex } from "viem"
import { describe, expect, it } from "vitest"
import type { InboxStatus, RecipientSide, SentMessage } from "./chain-truth.ts"
import type { Halt, LogFacts, MessageLog } from "./log-facts.ts"
import { judge, passed } from "./verdict.ts"

const message = (index: number, src = 901, dst = 902, blockNumber = 10): SentMessage => ({
  messageId: `0x${String(index).padStart(64, "0")}` as Hex,
  nonce: index,
  blockNumber,
  sent: {
    message: { index, src, dst, kind: "ping", gasLimit: 200_000n, dueMs: 0 },
    recipient: "0x00000000000000000000000000000000000000aa",
    body: `0x0${index}` as Hex,
    transactionHash: `0x${String(index).padStart(64, "f")}` as Hex,
    sentAt: 0,
  },
})

const log = (partial: Partial<MessageLog>): MessageLog => ({
  observed: true,
  refusal: undefined,
  submissions: 0,
  last: undefined,
  ...partial,
})

const facts = (messages: Array<[SentMessage, MessageLog]>, halts: LogFacts["halts"] = []): LogFacts => ({
  messages: new Map(messages.map(([m, l]) => [m.messageId, l])),
  halts,
  cursors: new Map(),
  unreadable: {},
  deadLetters: 0,
})

const refusal = (alone: boolean, settles = true) => ({
  reason: "InsufficientGas",
  alone,
  messages: alone ? 1 : 7,
  settles,
  at: 1,
})

describe("judging a chaos run from the chains", () => {
  it("settles each message by the Inbox first, then the halt, the refusal, the observation", () => {
    const ms = [0, 1, 2, 3, 4, 5, 6].map((i) => message(i))
    const halted = message(7, 903, 901, 50)
    const beforeHalt = message(8, 903, 901, 49)
    const status = new Map<string, InboxStatus>([
      [ms[0]!.messageId, "delivered"],
      [ms[1]!.messageId, "failed"],
    ])
    const verdict = judge(
      [...ms, halted, beforeHalt],
      status,
      undefined,
      facts(
        [
          [ms[2]!, log({ refusal: refusal(true) })],
          [ms[3]!, log({ refusal: refusal(false) })],
          [ms[4]!, log({ refusal: refusal(true, false) })],
          [ms[5]!, log({})],
          [halted, log({})],
          [beforeHalt, log({})],
        ],
        [{ chainId: 903, blockNumber: 50, at: 0, reason: "rewritten", eventId: "0xh", resumed: undefined }],
      ),
    )
    expect(verdict.messages.map((v) => v.settlement)).toEqual([
      "delivered",
      "failedAtRecipient",
      "refused",
      // A batch's refusal is not this message's: it stays unsettled.
      "stranded",
      // A refusal the submitter does not settle by (temporary, the quorum's) settles nothing either.
      "stranded",
      "stranded",
      "lost",
      "quarantined",
      "stranded",
    ])
    expect(verdict.counts).toMatchObject({
      sent: 9,
      delivered: 1,
      failedAtRecipient: 1,
      refused: 1,
      quarantined: 1,
      lost: 1,
      stranded: 4,
    })
    expect(passed(verdict.counts)).toBe(false)
  })

  it("counts a message a recipient ran twice as duplicated, and one delivered after its chain halted", () => {
    const [a, b] = [message(0), message(1, 903, 902, 60)]
    const side: RecipientSide = {
      pinged: new Map([[`902:901:${a!.sent.body}`, 2]]),
      delivered: new Map([[a!.messageId, 1]]),
      failed: new Map(),
      lastSettledAt: null,
    }
    const verdict = judge(
      [a!, b!],
      new Map([
        [a!.messageId, "delivered"],
        [b!.messageId, "delivered"],
      ]),
      side,
      facts(
        [],
        [{ chainId: 903, blockNumber: 55, at: 0, reason: "rewritten", eventId: "0xh", resumed: undefined }],
      ),
    )
    expect(verdict.counts).toMatchObject({ delivered: 2, duplicated: 1, lost: 0, stranded: 0 })
    expect(verdict.deliveredAfterHalt.map((v) => v.message.messageId)).toEqual([b!.messageId])
    expect(passed(verdict.counts)).toBe(false)
  })

  it("given a halt that chain resume lifted, when a message of the chain is still not settled, then it is stranded, not quarantined", () => {
    const [m] = [message(0, 903, 902, 60)]
    const halt = { chainId: 903, blockNumber: 50, at: 0, reason: "rewritten", eventId: "0xh" }
    const judged = (resumed: Halt["resumed"]) =>
      judge([m!], new Map(), undefined, facts([[m!, log({})]], [{ ...halt, resumed }])).messages[0]!
        .settlement
    expect(judged(undefined)).toBe("quarantined")
    expect(judged({ block: 40, by: "ops@host", at: 1 })).toBe("stranded")
  })
})
