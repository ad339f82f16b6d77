/**
 * A submitter's writer over a faked destination: the Inbox reads and the chain writer calls a test sets, the
 * records it publishes, and the warnings it logs. For the service's steps (`send.ts`, `flight.ts`) without a
 * chain.
 *
 * @module
 */
import type { ChainWriter, InboxDeliveries } from "../../../chains/index.ts"
import { BlockRef, Bytes32, type Envelope, makeEnvelope } from "../../../schemas/index.ts"
import { jsonLogger, producerOf } from "../../runtime/index.ts"
import { emptySubmitterState, type InboxMessageStatus } from "../core/index.ts"
import { makeWriter } from "../service/writer.ts"
import { makeLaneFixture } from "./lane-fixture.ts"
import { tickerSettings } from "./ticker-settings.ts"

const FAKE_HEAD = new BlockRef({ number: 100, hash: Bytes32.make(`0x${"00".repeat(32)}`) })

/** The faked destination's chain id. */
export const DST = 902

/** A lane from a fake source to the faked destination, with `count` messages. */
export const fakeLane = (count: number) =>
  makeLaneFixture({
    srcChainId: 777,
    outbox: "0x00000000000000000000000000000000000a11ce",
    dstChainId: DST,
    recipient: "0x000000000000000000000000000000000000c0de",
    count,
  })

/**
 * The Inbox as the test sets it: the count a root was committed with, each nonce's status (an Error: the read
 * fails), and the attempted bitmap (by default, the nonces shown delivered or failed).
 */
export interface FakeInbox {
  readonly committed?: number
  readonly statuses: Readonly<Record<number, InboxMessageStatus | Error>>
  readonly attempted?: ReadonlyArray<number>
  /** The Inbox's operator-set epoch (1 when absent). */
  readonly epoch?: number
}

/** A reader of the fake Inbox, and the nonces whose status it was asked for. */
export const readerOf = (inbox: FakeInbox) => {
  const statusReads: number[] = []
  const reader: InboxDeliveries = {
    committedCount: async () => inbox.committed ?? 0,
    attempted: async (_, start, end) => {
      const attempted =
        inbox.attempted ??
        Object.entries(inbox.statuses)
          .filter(([, status]) => status === "delivered" || status === "failed")
          .map(([nonce]) => Number(nonce))
      return new Set(attempted.filter((nonce) => start <= nonce && nonce < end))
    },
    attemptsOf: async () => new Map(),
    messageStatus: async (_, nonce) => {
      statusReads.push(nonce)
      const status = inbox.statuses[nonce] ?? "none"
      if (status instanceof Error) throw status
      return status
    },
    epoch: async () => ({ block: FAKE_HEAD, epoch: inbox.epoch ?? 1 }),
  }
  return { reader, statusReads }
}

/** A writer over the fake Inbox; `chain` fakes the calls of the chain's writer a path makes. */
export const writerOver = (inbox: FakeInbox, chain: Partial<ChainWriter> = {}) => {
  const { reader, statusReads } = readerOf(inbox)
  const published: Envelope[] = []
  const warnings: Array<{ msg: string; messageId?: string; nonce?: number; error?: string }> = []
  const w = makeWriter({
    settings: tickerSettings(),
    chain: { sender: "0x000000000000000000000000000000000000c0fe", ...chain } as ChainWriter,
    reader,
    views: {
      caughtUp: async () => true,
      expect: () => {},
      current: async () => emptySubmitterState(DST),
      epoch: () => 0,
      standby: () => false,
      fence: async () => {},
    },
    publish: async (envelopes) => {
      published.push(...envelopes)
      return envelopes.map((_, offset) => ({ topic: "chorus.deliveries", partition: 0, offset }))
    },
    stamp: (event, cause, time) =>
      makeEnvelope(event, { producer: producerOf("submitter", String(DST)), causationId: cause, time }),
    logger: jsonLogger({ write: (line: string) => warnings.push(JSON.parse(line)) }, "warn"),
  })
  return { w, published, warnings, statusReads }
}
