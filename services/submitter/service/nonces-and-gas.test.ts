/**
 * What the submitter sends when several transactions are in the air and the chain does not go as planned: a
 * nonce gap below the lowest flight that no transaction holds, and a batch that ran short of gas once. The
 * chain is faked: only the calls these paths make.
 */

import { encodeErrorResult } from "viem"
import { describe, expect, it } from "vitest"
import type { ChainWriter, SignedTransaction, TransactionRequest } from "../../../chains/index.ts"
import { inboxAbi } from "../../../contracts/index.ts"
import { TxHash } from "../../../schemas/index.ts"
import { foldCore, producerOf } from "../../runtime/index.ts"
import { worstCaseMessagesGas } from "../chain/index.ts"
import { laneIdOf, makeSubmitterCore, planActions } from "../core/index.ts"
import { DST, fakeLane, writerOver } from "../test/fake-writer.ts"
import { advanceFlight } from "./flight.ts"
import { sendAction } from "./send.ts"
import type { ActiveFlight } from "./writer.ts"

const SENDER = "0x000000000000000000000000000000000000c0fe"
const lane = fakeLane(4)

/** A chain writer that signs and accepts everything, and keeps what was signed and broadcast. */
const recordingChain = (overrides: Partial<ChainWriter>) => {
  const broadcast: TransactionRequest[] = []
  const chain: Partial<ChainWriter> = {
    fees: async () => ({ maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n }),
    sign: async (request): Promise<SignedTransaction> => ({
      request,
      serialized: "0x02",
      hash: TxHash.make(`0x${String(request.nonce).padStart(64, "0")}`),
    }),
    broadcast: async (signed) => {
      broadcast.push(signed.request)
      return { kind: "accepted" }
    },
    request: (_call, fields) => ({
      to: "0x00000000000000000000000000000000000001b0",
      data: "0x1234",
      ...fields,
    }),
    ...overrides,
  }
  return { chain, broadcast }
}

/** A flight at `nonce`, sent long ago (stuck), carrying the lane's first two messages. */
const stuckFlight = (nonce: number): ActiveFlight => {
  const attested = lane.attested(2)
  const submitted = lane.submitted(attested.id, {
    action: "commitAndDeliver",
    ids: lane.ids.slice(0, 2),
    tx: 1,
    nonce,
  })
  return {
    laneId: laneIdOf(lane.lane),
    lane: lane.lane,
    action: "commitAndDeliver",
    messageIds: lane.ids.slice(0, 2),
    nonce,
    root: lane.checkpoint(2).root,
    proofRoot: lane.checkpoint(2).root,
    messageNonces: new Map(lane.ids.slice(0, 2).map((id, i) => [id, i])),
    request: { to: SENDER, data: "0x1234", gas: 300_000n, nonce, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n },
    transactions: [{ hash: lane.hashOf(1), submission: submitted.id }],
    lastSentAt: 0,
  }
}

describe("a nonce gap below the transactions in the air", () => {
  it("given the lowest flight stuck above a nonce no transaction holds, when it is advanced, then a transfer of nothing to the account takes that nonce and the flight is not bumped", async () => {
    // Given nonces 5 and 6 mined up to 5, the node's pool holding nothing at 5, and the flight at 6
    const { chain, broadcast } = recordingChain({
      receipt: async () => null,
      transactionCount: async () => 5,
    })
    const { w } = writerOver({ statuses: {} }, chain)
    const flight = stuckFlight(6)
    w.launched(flight)
    // When the stuck flight is advanced
    const result = await advanceFlight(w, flight)
    // Then nonce 5 is filled by a plain transfer to the account itself, and nothing replaces the flight at 6
    expect(result).toMatchObject({ kind: "gap-filled", nonce: 5 })
    expect(broadcast).toEqual([expect.objectContaining({ to: SENDER, data: "0x", gas: 21_000n, nonce: 5 })])
    expect(flight.transactions).toHaveLength(1)
    // …and the next step waits for its block rather than filling the gap again
    expect(await advanceFlight(w, flight)).toMatchObject({ kind: "pending", nonce: 6 })
    expect(broadcast).toHaveLength(1)
  })

  it("given the node holds transactions below the lowest flight, when it is advanced, then it waits behind them and sends nothing", async () => {
    const { chain, broadcast } = recordingChain({
      receipt: async () => null,
      transactionCount: async (tag) => (tag === "latest" ? 5 : 7),
    })
    const { w } = writerOver({ statuses: {} }, chain)
    const flight = stuckFlight(6)
    w.launched(flight)
    const result = await advanceFlight(w, flight)
    expect(result).toMatchObject({
      kind: "pending",
      reason: "waiting behind nonces 5–5, which the node holds",
    })
    expect(broadcast).toEqual([])
  })
})

describe("a batch that ran short of gas once", () => {
  const shortOfGas = encodeErrorResult({
    abi: inboxAbi,
    errorName: "InsufficientGas",
    args: [1, 200_000n, 90_000n],
  })
  /** The lane's first two messages, sent in one transaction that was included and reverted with `revertData`. */
  const afterRevert = (revertData: `0x${string}`) => {
    const attested = lane.attested(2)
    const [chunk] = lane.chunks(0, 2, 2)
    const ids = lane.ids.slice(0, 2)
    const sent = lane.submitted(attested.id, { action: "commitAndDeliver", ids, tx: 1, nonce: 0 })
    const reverted = lane.failed(sent.id, { action: "commitAndDeliver", ids, tx: 1, revertData })
    return foldCore(
      makeSubmitterCore(DST),
      producerOf("submitter", String(DST)),
      [attested, chunk!, sent, reverted].map((input) => ({ input, reads: [] })),
    ).state
  }

  it("given a batch whose included transaction reverted InsufficientGas, when it is sent again, then it carries gas for every message's whole limit on top of its estimate", async () => {
    const state = afterRevert(shortOfGas)
    // (the state the ticker asks: these messages ran short before)
    expect([...state.lanes.values()][0]!.shortOfGas).toEqual(new Set(lane.ids.slice(0, 2)))
    const [action] = planActions(state, Date.now(), {
      batchSize: 64,
      windowMs: 0,
      maxBatchGas: 10_000_000,
    }).actions
    expect(action).toMatchObject({ kind: "commitAndDeliver", start: 0 })
    const { chain, broadcast } = recordingChain({
      estimate: async () => ({ gas: 150_000n }),
      transactionCount: async () => 3,
    })
    const { w } = writerOver({ statuses: {} }, chain)
    // When it is sent as the ticker sends a batch whose messages ran short before
    const result = await sendAction(w, action!, { worstCaseGas: true })
    // Then its gas limit covers the worst its recipients can take, not the estimate's margin
    expect(result).toMatchObject({ kind: "submitted" })
    const limits = lane.messages.slice(0, 2).map((m) => BigInt(m.gasLimit))
    expect(broadcast.map((r) => r.gas)).toEqual([150_000n + worstCaseMessagesGas(limits)])
    // …while a batch sent for the first time keeps the margin on its estimate
    const first = recordingChain({
      estimate: async () => ({ gas: 150_000n }),
      transactionCount: async () => 3,
    })
    await sendAction(writerOver({ statuses: {} }, first.chain).w, action!)
    expect(first.broadcast.map((r) => r.gas)).toEqual([180_000n])
  })
})
