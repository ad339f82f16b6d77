/**
 * The audit index takes, of the lane services' chain reads, only the
 * operator sets and the failed reads (issue 12: `trace` names the stake
 * required and who has not signed, and an RPC a service cannot reach),
 * picking them by their type header; the Outbox and head reads are skipped
 * unread, and their positions committed all the same.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import { publishEvents } from "../../bus/events/index.ts"
import { partitionForKey } from "../../bus/partitioner/index.ts"
import type { BusPort } from "../../bus/port.ts"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  ChainReadFailed,
  IsoTime,
  laneKey,
  makeEnvelope,
  OperatorSetRead,
  OperatorWeight,
  OutboxLaneRead,
  toU256,
} from "../../schemas/index.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { makeTestLane } from "../lifecycle/testing/lane.ts"
import { producerOf } from "../runtime/index.ts"
import { catchUp } from "./catch-up.ts"
import { AuditStore } from "./index-store.ts"

const lane = makeTestLane(2)
const block = new BlockRef({ number: 7, hash: Bytes32.make(`0x${"ab".repeat(32)}`) })
const operator = Address.make(`0x${"0a".repeat(20)}`)
const T = new Date("2026-01-01T00:00:00.000Z")

let dir: string
let bus: BusPort
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "chorus-audit-reads-"))
  bus = await openEmbeddedBus({ dataDir: dir })
  await bus.ensureTopics(ALL_TOPICS)
})
afterEach(async () => {
  await bus.close()
  rmSync(dir, { recursive: true, force: true })
})

describe("the lane services' chain reads in the audit index", () => {
  it("given Outbox reads, an operator set and a failed read on chorus.lane.reads, when the index catches up, then it keeps the set and the stall, skips the rest, and reads none of it again", async () => {
    // given
    const reads = [
      new OutboxLaneRead({
        reader: operator,
        srcChainId: ChainId.make(777),
        outbox: lane.outbox,
        dstChainId: ChainId.make(902),
        block,
        finalized: block,
        root: Bytes32.make(`0x${"cd".repeat(32)}`),
        count: 2,
      }),
      new OperatorSetRead({
        lane: lane.lane,
        inbox: Address.make(`0x${"ee".repeat(20)}`),
        epoch: 3,
        block,
        operators: [new OperatorWeight({ address: operator, weight: toU256(5n) })],
        thresholdBps: 5000,
      }),
      new ChainReadFailed({
        reader: operator,
        lane: lane.lane,
        outage: true,
        chainId: ChainId.make(777),
        reason: "rpc-unreachable",
        rpc: "http://127.0.0.1:1",
        what: "reading the finalized head",
        problem: "HTTP request failed.",
        since: IsoTime.make(T.toISOString()),
        attempts: 4,
      }),
    ]
    await publishEvents(bus, [lane.observed(0), lane.observed(1)])
    await publishEvents(bus, [
      makeEnvelope(reads[0]!, { producer: producerOf("operator", operator), causationId: null, time: T }),
      makeEnvelope(reads[1]!, {
        producer: producerOf("attestation-collector", "attestation-collector"),
        causationId: null,
        time: T,
      }),
      makeEnvelope(reads[2]!, { producer: producerOf("operator", operator), causationId: null, time: T }),
    ])
    const store = AuditStore.open(":memory:")
    try {
      // when
      const first = await catchUp(bus, store)
      // then
      expect(first.unreadable).toBe(0)
      expect(store.operatorSet(902)).toMatchObject({
        epoch: 3,
        thresholdBps: 5000,
        operators: [{ address: operator, weight: "5" }],
      })
      expect(store.openStalls([777])).toMatchObject([
        { service: "operator", instance: operator, rpc: "http://127.0.0.1:1" },
      ])
      const partition = partitionForKey(laneKey(lane.lane), await bus.partitions(TOPICS.laneReads.name))
      expect(store.position(TOPICS.laneReads.name, partition)?.next).toBe(3)
      expect((await catchUp(bus, store)).records).toBe(0)
    } finally {
      store.close()
    }
  })
})
