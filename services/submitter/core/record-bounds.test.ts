// Every record a step makes, and the step's read, must fit the bus's record limit at the largest batch the
// config allows, with every message failed at its recipient with the longest reason the Inbox writes: a record
// over the limit is refused, and the writer would retry it for ever.
import { describe, expect, it } from "vitest"
import { MAX_RECORD_BYTES, recordSize } from "../../../bus/record-size.ts"
import { INBOX_MAX_REASON_BYTES } from "../../../chains/evm/inbox-receipt.ts"
import {
  Address,
  BlockRef,
  Bytes32,
  DestinationRead,
  type DestinationStep,
  EventId,
  encodeEnvelope,
  Hex,
  MessageId,
  makeEnvelope,
  TxHash,
  U256,
} from "../../../schemas/index.ts"
import { DST, submitterCoreFixture } from "../../../test/fixtures/submitter-core.ts"
import { MAX_BATCH_SIZE } from "../../config/schema.ts"
import { producerOf } from "../../runtime/index.ts"
import { stepOutcomes } from "./step-outcomes.ts"

const { lane } = submitterCoreFixture(1)
const ids = Array.from({ length: MAX_BATCH_SIZE }, (_, i) =>
  MessageId.make(`0x${(i + 1).toString(16).padStart(64, "0")}`),
)
const reason = Hex.make(`0x${"ff".repeat(INBOX_MAX_REASON_BYTES)}`)
const tx = TxHash.make(`0x${"ab".repeat(32)}`)
const receipt = {
  transactionHash: tx,
  block: new BlockRef({ number: 2 ** 40, hash: Bytes32.make(`0x${"bb".repeat(32)}`) }),
  gasUsed: U256.make("30000000"),
  delivered: [],
  failed: ids.map((messageId) => ({ messageId, revertData: reason })),
  committed: lane.checkpoint(1),
}
// A signed record also carries its signer and signature headers.
const SIGNATURE_HEADERS_BYTES = 300

const largest = (step: DestinationStep) => {
  const cause = EventId.make(`0x${"cc".repeat(32)}`)
  const stamp = { producer: producerOf("submitter", String(DST)), causationId: cause, time: new Date() }
  const read = new DestinationRead({ lane: lane.lane, step })
  return Math.max(
    ...[read, ...stepOutcomes(read)].map(
      (event) =>
        recordSize({ topic: "t", ...encodeEnvelope(makeEnvelope(event, stamp)) }) + SIGNATURE_HEADERS_BYTES,
    ),
  )
}

describe("the size of a step's records at the largest batch", () => {
  it.each<[string, DestinationStep]>([
    [
      "a receipt that failed every message",
      { _tag: "Included", action: "commitAndDeliver", messageIds: ids, receipt },
    ],
    [
      "its own delivery found on the Inbox, every message failed",
      {
        _tag: "Attempted",
        action: "commitAndDeliver",
        messageIds: ids,
        of: MAX_BATCH_SIZE,
        sender: Address.make(`0x${"aa".repeat(20)}`),
        lookbackBlocks: 50_000,
        searchFailed: null,
        attempts: [
          {
            transactionHash: tx,
            messageIds: ids,
            from: `0x${"aa".repeat(20)}`,
            inboxFunction: "commitAndDeliver",
            receipt,
          },
        ],
        statuses: ids.map((messageId) => ({ messageId, status: "failed" as const })),
      },
    ],
    [
      "a nonce used by another transaction, every message attempted",
      {
        _tag: "Superseded",
        action: "deliver",
        messageIds: ids,
        transactionHash: tx,
        transactions: 100,
        nonce: 2 ** 40,
        rootCommitted: true,
        attempted: ids,
        statuses: ids.map((messageId) => ({ messageId, status: "failed" as const })),
        retryStatus: null,
      },
    ],
  ])("given %s, then the read and every record fit the record limit", (_what, step) => {
    expect(largest(step)).toBeLessThanOrEqual(MAX_RECORD_BYTES)
  })
})
