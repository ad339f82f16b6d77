import { encodeAbiParameters, encodeEventTopics, type Hex } from "viem"
import { describe, expect, it } from "vitest"
import { inboxAbi } from "../../contracts/index.ts"
import { InvalidRpcResponseError } from "./errors.ts"
import { INBOX_MAX_REASON_BYTES, inboxReceiptOf } from "./inbox-receipt.ts"

const INBOX = "0x00000000000000000000000000000000000000bb" as const
const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex

const failedLog = (messageId: Hex, reason: Hex, logIndex = 0) => ({
  address: INBOX,
  topics: encodeEventTopics({ abi: inboxAbi, eventName: "MessageFailed", args: { messageId } }) as [
    Hex,
    ...Hex[],
  ],
  data: encodeAbiParameters([{ type: "bytes" }], [reason]),
  logIndex,
})

const receiptWith = (logs: ReturnType<typeof failedLog>[]) =>
  ({
    transactionHash: id(0xabc),
    blockNumber: 12n,
    blockHash: id(0xb10c),
    status: "success",
    gasUsed: 90_000n,
    logs,
  }) as unknown as Parameters<typeof inboxReceiptOf>[0]

describe("the Inbox's view of a receipt", () => {
  it("given a MessageFailed with a reason the Inbox could have copied, then the message is failed with it", () => {
    const reason = `0x${"ab".repeat(INBOX_MAX_REASON_BYTES)}` as Hex
    const receipt = inboxReceiptOf(receiptWith([failedLog(id(1), reason)]), INBOX, 902)
    expect([...receipt.failed]).toEqual([[id(1), reason]])
  })

  it("given an RPC whose receipt has a MessageFailed reason longer than the Inbox ever writes, then the whole answer is refused, naming the log", () => {
    // A hostile RPC can make a receipt any size; the records made from it must stay within the bus's record limit.
    const reason = `0x${"ab".repeat(INBOX_MAX_REASON_BYTES + 1)}` as Hex
    const read = () =>
      inboxReceiptOf(receiptWith([failedLog(id(1), "0x01"), failedLog(id(2), reason, 3)]), INBOX, 902)
    expect(read).toThrow(InvalidRpcResponseError)
    expect(read).toThrow(
      `MessageFailed of ${id(2)} at log 3 carries a 257-byte reason; the Inbox writes at most 256`,
    )
  })
})
