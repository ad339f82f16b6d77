/**
 * One writer per destination, by the group and not by convention: the
 * submitter's ticker sends only while its group gives this member the
 * partitions. A standby member touches no chain; a member the group moved
 * on without (a zombie, paused past its session while another took over)
 * learns it from `fence` before its broadcast and sends nothing. The chain
 * is faked: the broadcasts it is asked for are the ground truth here.
 */
import { describe, expect, it } from "vitest"
import { MemberFencedError } from "../../../bus/member-fenced.ts"
import type { ChainWriter, InboxDeliveries, SignedTransaction } from "../../../chains/index.ts"
import { Address, BlockRef, Bytes32, type Envelope, makeEnvelope, TxHash } from "../../../schemas/index.ts"
import { foldCore, producerOf, quietLogger } from "../../runtime/index.ts"
import { makeSubmitterCore } from "../core/index.ts"
import { DST, fakeLane } from "../test/fake-writer.ts"
import { tickerSettings } from "../test/ticker-settings.ts"
import { makeTicker } from "./ticker.ts"

const lane = fakeLane(4)

/** A ticker over a state with a batch ready, whose group says what `group` says; the chain records broadcasts. */
const tickerOver = (group: { standby: boolean; fence: () => Promise<void> }) => {
  const state = foldCore(
    makeSubmitterCore(DST),
    producerOf("submitter", String(DST)),
    [lane.attested(4), ...lane.chunks(0, 4, 4)].map((input) => ({ input, reads: [] })),
  ).state
  const broadcasts: SignedTransaction[] = []
  const chainCalls: string[] = []
  const track =
    <A extends unknown[], R>(name: string, f: (...args: A) => R) =>
    (...args: A): R => {
      chainCalls.push(name)
      return f(...args)
    }
  const chain: ChainWriter = {
    chainId: DST,
    inbox: Address.make("0x00000000000000000000000000000000000000b0"),
    sender: "0x000000000000000000000000000000000000c0fe",
    misconfiguration: track("misconfiguration", async () => null),
    estimate: track("estimate", async () => ({ gas: 100_000n })),
    fees: track("fees", async () => ({ maxFeePerGas: 2n, maxPriorityFeePerGas: 1n })),
    transactionCount: track("transactionCount", async () => 7),
    request: (_call, fields) => ({ to: "0x00000000000000000000000000000000000000b0", data: "0x", ...fields }),
    sign: async (request) => ({
      request,
      serialized: "0x02",
      hash: TxHash.make(`0x${request.nonce.toString(16).padStart(64, "0")}`),
    }),
    broadcast: track("broadcast", async (signed) => {
      broadcasts.push(signed)
      return { kind: "accepted" as const }
    }),
    receipt: track("receipt", async () => null),
    sentTransaction: track("sentTransaction", async () => null),
    balance: track("balance", async () => 10n ** 18n),
    blockNumber: track("blockNumber", async () => 100),
    simulate: track("simulate", async () => null),
  }
  const reader: InboxDeliveries = {
    committedCount: async () => 0,
    attempted: async () => new Set(),
    attemptsOf: async () => new Map(),
    messageStatus: async () => "none",
    epoch: async () => ({
      block: new BlockRef({ number: 100, hash: Bytes32.make(`0x${"00".repeat(32)}`) }),
      epoch: 1,
    }),
  }
  const published: Envelope[] = []
  const ticker = makeTicker({
    settings: tickerSettings({ stopDrainMs: 0 }),
    chain,
    reader,
    views: {
      caughtUp: async () => true,
      expect: () => {},
      current: async () => state,
      epoch: () => 0,
      standby: () => group.standby,
      fence: group.fence,
    },
    publish: async (envelopes) => {
      published.push(...envelopes)
      return envelopes.map((_, offset) => ({ topic: "chorus.deliveries", partition: 0, offset }))
    },
    stamp: (event, cause, time) =>
      makeEnvelope(event, { producer: producerOf("submitter", String(DST)), causationId: cause, time }),
    logger: quietLogger(),
  })
  return { ticker, broadcasts, chainCalls, published }
}

const fenced = () => Promise.reject(new MemberFencedError("chorus.submitter.902", "m-1", "expelled"))

describe("the submitter's single writer", () => {
  it("given the member the group gives the partitions, when a batch is ready, then it broadcasts it and records it", async () => {
    const { ticker, broadcasts, published } = tickerOver({ standby: false, fence: async () => {} })
    const result = await ticker.tick()
    expect(result).toMatchObject({ kind: "submitted", nonce: 7 })
    expect(broadcasts).toHaveLength(1)
    expect(published.map((e) => e.type)).toEqual(["DestinationRead", "DeliverySubmitted"])
  })

  it("given a standby member (another holds the partitions), when it ticks, then it touches no chain at all", async () => {
    const { ticker, chainCalls, published } = tickerOver({ standby: true, fence: fenced })
    const results = [await ticker.tick(), await ticker.tick()]
    expect(results.map((r) => r.kind)).toEqual(["standby", "standby"])
    expect(chainCalls.filter((call) => call !== "misconfiguration")).toEqual([])
    expect(published).toEqual([])
  })

  it("given a member the group moved on without, when a batch is ready, then it broadcasts nothing, records nothing, and says it is fenced", async () => {
    // Its view still shows the partitions (a zombie that has not heard of the rebalance yet), the group does not.
    const { ticker, broadcasts, published } = tickerOver({ standby: false, fence: fenced })
    const result = await ticker.tick()
    expect(result).toMatchObject({ kind: "fenced" })
    expect(result.reason).toMatch(/fenced: expelled/)
    expect(broadcasts).toEqual([])
    expect(published).toEqual([])
  })
})
