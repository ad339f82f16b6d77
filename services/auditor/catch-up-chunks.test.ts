/**
 * The cold build of the audit index is linear in the log (issue 13): a lane
 * event moves only the messages from its rank's reach up to its count, and a
 * long catch-up writes in a writer thread while it decodes the next chunk.
 * Neither may change an answer: a lane event indexed before the messages it
 * covers still moves them, whatever the order; the same log gives the same
 * index in one chunk or many, in this thread or the writer thread; two
 * catch-ups of one index at once index each record once; and a catch-up
 * that fails part way leaves whole chunks only, which the next one
 * completes.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import { publishEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import {
  Address,
  AttestationSigned,
  BlockRef,
  Bytes32,
  CheckpointProposed,
  type ChorusEvent,
  type Envelope,
  Hex,
  LaneStalled,
  MessageObserved,
  MessageRejected,
  makeEnvelope,
  Producer,
  TxHash,
} from "../../schemas/index.ts"
import { ALL_TOPICS } from "../../topology/index.ts"
import { rankOf, type Stage } from "../lifecycle/index.ts"
import { makeLaneFixture, T0 } from "../submitter/test/lane-fixture.ts"
import { catchUp } from "./catch-up.ts"
import { indexEvent } from "./index-event.ts"
import { AuditStore } from "./index-store.ts"
import { connectIndex, type IndexWrite, IndexWriter } from "./index-writer.ts"
import { listMessages } from "./list-messages.ts"
import { traceMessage } from "./trace-message.ts"

const collector = new Producer({ service: "attestation-collector", instance: "c", version: "test" })
const builder = new Producer({ service: "proof-builder", instance: "proof-builder", version: "test" })
const operator = Address.make(`0x${"0e".repeat(20)}`)
const block = (n: number) => new BlockRef({ number: n, hash: Bytes32.make(`0x${"ab".repeat(32)}`) })

/** A lane of `count` messages from `src`, with the watcher's observation of each. */
const makeLane = (src: number, count: number) => {
  const lane = makeLaneFixture({
    srcChainId: src,
    outbox: "0x00000000000000000000000000000000000a11ce",
    dstChainId: 902,
    recipient: "0x000000000000000000000000000000000000c0de",
    count,
  })
  const watcher = new Producer({ service: "chain-watcher", instance: String(src), version: "test" })
  const observed = (nonce: number, ms = 0) =>
    makeEnvelope(
      new MessageObserved({
        message: lane.messages[nonce]!,
        messageId: lane.ids[nonce]!,
        outbox: lane.outbox,
        block: block(nonce + 1),
        blockTimestamp: 1_767_225_600,
        transactionHash: TxHash.make(`0x${"cc".repeat(32)}`),
        logIndex: nonce,
      }),
      { producer: watcher, causationId: null, time: new Date(T0 + ms) },
    )
  const by = (producer: Producer, event: ChorusEvent, ms: number) =>
    makeEnvelope(event, { producer, causationId: null, time: new Date(T0 + ms) })
  const proposed = (count: number, ms = 0) =>
    by(
      collector,
      new CheckpointProposed({ checkpoint: lane.checkpoint(count), previousCount: 0, block: block(count) }),
      ms,
    )
  const signed = (count: number, ms = 0) =>
    by(
      collector,
      new AttestationSigned({
        checkpoint: lane.checkpoint(count),
        epoch: 1,
        digest: Bytes32.make(`0x${"11".repeat(32)}`),
        operator,
        signature: Hex.make("0x1234"),
      }),
      ms,
    )
  const rejected = (nonce: number, ms = 0) => {
    const observation = observed(nonce).event as MessageObserved
    return by(
      builder,
      new MessageRejected({
        lane: lane.lane,
        messageId: observation.messageId,
        nonce,
        block: observation.block,
        transactionHash: observation.transactionHash,
        logIndex: observation.logIndex,
        reason: "nonce-not-sent-by-block",
        outboxBlock: block(7),
        chainMessageId: null,
        detail: "the block holds no such log",
      }),
      ms,
    )
  }
  return { ...lane, observed, proposed, signed, rejected, by }
}

describe("lane events indexed before the messages they cover", () => {
  const lane = makeLane(777, 12)
  /** Each message's stage when every event below is indexed, in this order. */
  const stagesAfter = (envelopes: ReadonlyArray<Envelope>) => {
    const store = AuditStore.open(":memory:")
    for (const [offset, envelope] of envelopes.entries())
      indexEvent(store, envelope, {
        topic:
          envelope.type === "MessageObserved" ? "chorus.messages.observed" : "chorus.checkpoints.proposed",
        partition: 0,
        offset,
        eventId: envelope.id,
        type: envelope.type,
        at: Date.parse(envelope.time),
      })
    const rows = listMessages(store, {
      status: "all",
      now: T0 + 60_000,
      stuckAfterMs: 120_000,
      limit: 0,
    }).rows
    store.close()
    return Object.fromEntries(rows.map((row) => [row.nonce, { stage: row.stage, lastAt: row.lastAt - T0 }]))
  }
  const checkpoints = () => [
    lane.attested(4, 3000),
    lane.proposed(12, 1000),
    lane.signed(8, 2000),
    lane.proposed(4, 500),
    lane.rootCommitted(lane.attested(2).id, 2, 1, 4000),
  ]
  const observations = () => Array.from({ length: 12 }, (_, nonce) => lane.observed(nonce, 100))
  // Every message takes the furthest stage of the checkpoints covering it, and the time of the latest of them.
  const expected = Object.fromEntries(
    Array.from({ length: 12 }, (_, nonce) => {
      const covering: Array<[Stage, number]> = [
        ["attested", 3000],
        ["proposed", 1000],
        ["signed", 2000],
        ["proposed", 500],
        ["committed", 4000],
      ]
      const counts = [4, 12, 8, 4, 2]
      const cover = covering.filter((_, i) => counts[i]! > nonce)
      const stage = cover.reduce<Stage>((best, [s]) => (rankOf(s) > rankOf(best) ? s : best), "observed")
      return [nonce, { stage, lastAt: Math.max(100, ...cover.map(([, ms]) => ms)) }]
    }),
  )

  it("given every checkpoint's events before the observations, then each message arrives at the furthest stage covering it", () => {
    expect(stagesAfter([...checkpoints(), ...observations()])).toEqual(expected)
  })

  it("given the observations first, or woven between the checkpoint events in any order, then the answer is the same", () => {
    const all = [...checkpoints(), ...observations()]
    expect(stagesAfter([...observations(), ...checkpoints()])).toEqual(expected)
    expect(stagesAfter([...all].reverse())).toEqual(expected)
    // Half the messages before the checkpoints, half after; and a fixed shuffle.
    expect(
      stagesAfter([...observations().slice(0, 6), ...checkpoints(), ...observations().slice(6)]),
    ).toEqual(expected)
    let seed = 7
    const shuffled = [...all]
    for (let i = shuffled.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2147483648
      const j = seed % (i + 1)
      ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
    }
    expect(stagesAfter(shuffled)).toEqual(expected)
  })

  it("given a message observed after a later checkpoint of a lower stage moved the lane past it, then it still takes the higher stage covering it", () => {
    // attested(4) and signed(8) before any message; proposed(12) after messages 0-9; then 10, 11 and a late 2.
    const late = [
      lane.attested(4, 3000),
      lane.signed(8, 2000),
      ...observations().filter(
        (e) =>
          (e.event as MessageObserved).message.nonce < 10 && (e.event as MessageObserved).message.nonce !== 2,
      ),
      lane.proposed(12, 1000),
      lane.observed(10, 100),
      lane.observed(11, 100),
      lane.observed(2, 100),
    ]
    expect(stagesAfter(late)).toEqual(
      Object.fromEntries(
        Array.from({ length: 12 }, (_, nonce) => [
          nonce,
          nonce < 4
            ? { stage: "attested", lastAt: 3000 }
            : nonce < 8
              ? { stage: "signed", lastAt: 2000 }
              : { stage: "proposed", lastAt: 1000 },
        ]),
      ),
    )
  })
})

describe("the same log, caught up in one chunk or many, in this thread or the writer thread", () => {
  let dir: string
  let bus: BusPort

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "chorus-audit-chunks-"))
    bus = await openEmbeddedBus({ dataDir: join(dir, "log"), serve: false })
    await bus.ensureTopics(ALL_TOPICS)
    // Two lanes of 30 messages; checkpoints every 10 with their proofs, signatures, attestations and deliveries,
    // some read before the observations they cover are written; a rejected observation, a stall and a record
    // written twice.
    for (const src of [777, 778]) {
      const lane = makeLane(src, 30)
      const envelopes: Envelope[] = []
      for (let count = 10; count <= 30; count += 10) {
        const ms = count * 1000
        envelopes.push(lane.proposed(count, ms), lane.signed(count, ms + 100))
        for (let nonce = count - 10; nonce < count; nonce++) envelopes.push(lane.observed(nonce, ms - 500))
        envelopes.push(...lane.chunks(count - 10, count, 4, ms + 50), lane.attested(count, ms + 200))
        if (count < 30) {
          const ids = lane.ids.slice(count - 10, count)
          const action = count === 10 ? "commitAndDeliver" : "deliver"
          const submitted = lane.submitted(
            lane.attested(count).id,
            { action, ids, tx: count, nonce: count },
            ms + 300,
          )
          envelopes.push(
            submitted,
            lane.confirmed(
              submitted.id,
              { action, ids, tx: count, results: ids.map((_, i) => (i === 3 ? "failed" : "delivered")) },
              ms + 400,
            ),
          )
        }
      }
      envelopes.push(lane.rejected(25, 40_000), lane.observed(5, 41_000))
      envelopes.push(
        lane.by(
          collector,
          new LaneStalled({ lane: lane.lane, reason: "nonce-gap", treeCount: 30, detail: "30 missing" }),
          42_000,
        ),
      )
      await publishEvents(bus, envelopes)
    }
  })
  afterEach(async () => {
    await bus.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** An hour after the log was written (a record's time is when it was written): what is not settled is stuck. */
  const now = Date.now() + 3_600_000
  /** Every table, and every answer: each message's timeline and every listing. */
  const everything = (store: AuditStore) => {
    const rows = (sql: string) => store.db.prepare(sql).all()
    const ids = (rows("SELECT id FROM messages ORDER BY id") as Array<{ id: string }>).map((r) => r.id)
    return {
      positions: rows("SELECT * FROM positions ORDER BY topic, partition"),
      messages: rows("SELECT * FROM messages ORDER BY id"),
      steps: rows("SELECT * FROM steps ORDER BY message_id, event_id, stage"),
      laneEvents: rows("SELECT * FROM lane_events ORDER BY event_id"),
      traces: ids.map((id) => traceMessage(store, id, { now, stuckAfterMs: 120_000 })),
      lists: (["all", "stuck", "rejected", "delivered", "failed"] as const).map((status) =>
        listMessages(store, { status, now, stuckAfterMs: 120_000, limit: 0 }),
      ),
    }
  }
  const build = async (name: string, options: Parameters<typeof catchUp>[2]) => {
    const store = AuditStore.open(join(dir, `${name}.sqlite`))
    try {
      const result = await catchUp(bus, store, options)
      return { result, index: everything(store) }
    } finally {
      store.close()
    }
  }

  it("given one chunk, chunks of 7 records, and chunks of 13 applied in the writer thread, then the index is the same", async () => {
    const whole = await build("whole", { chunk: 1_000_000, writer: "here" })
    expect(whole.index.messages).toHaveLength(60)
    expect(whole.index.steps.length).toBeGreaterThan(200)
    expect(whole.index.lists[1]!.total).toBeGreaterThan(0)
    const small = await build("small", { chunk: 7, writer: "here" })
    const threaded = await build("threaded", { chunk: 13, writer: "thread" })
    expect(small.result.records).toBe(whole.result.records)
    expect(threaded.result.records).toBe(whole.result.records)
    expect(small.index).toEqual(whole.index)
    expect(threaded.index).toEqual(whole.index)
  })

  it("given two catch-ups of one index at once, one in the writer thread, then every record is indexed once", async () => {
    const alone = await build("alone", { writer: "here" })
    const path = join(dir, "shared.sqlite")
    const first = AuditStore.open(path)
    const second = AuditStore.open(path)
    try {
      await Promise.all([
        catchUp(bus, first, { chunk: 5, writer: "thread" }),
        catchUp(bus, second, { chunk: 3, writer: "here" }),
      ])
      expect(everything(first)).toEqual(alone.index)
      expect((await catchUp(bus, second)).records).toBe(0)
    } finally {
      first.close()
      second.close()
    }
  })

  it("given a catch-up that fails part way, then the index holds whole chunks with their positions, and the next one completes it", async () => {
    const alone = await build("alone", { writer: "here" })
    // A bus whose reads fail after 5 records of every range past the first two.
    let ranges = 0
    const failing = new Proxy(bus, {
      get(target, property) {
        if (property !== "read") {
          const value = Reflect.get(target, property)
          return typeof value === "function" ? value.bind(target) : value
        }
        return (options: Parameters<BusPort["read"]>[0]) =>
          (async function* () {
            let read = 0
            const failsAfter = ++ranges > 2 ? 5 : Number.POSITIVE_INFINITY
            for await (const record of target.read(options)) {
              if (read++ === failsAfter) throw new Error("the log went away")
              yield record
            }
          })()
      },
    })
    for (const writer of ["here", "thread"] as const) {
      ranges = 0
      const path = join(dir, `broken-${writer}.sqlite`)
      const store = AuditStore.open(path)
      try {
        await expect(catchUp(failing, store, { chunk: 9, writer })).rejects.toThrow("the log went away")
        // Every position names the records indexed up to it: nothing past it, nothing missing below it.
        const positions = store.db.prepare("SELECT topic, partition, next FROM positions").all() as Array<{
          topic: string
          partition: number
          next: number
        }>
        const below = store.db
          .prepare(
            "SELECT COUNT(*) AS n FROM steps s JOIN positions p ON s.topic = p.topic AND s.partition = p.partition WHERE s.offset >= p.next",
          )
          .get() as { n: number }
        expect(below.n).toBe(0)
        expect(positions.length).toBeGreaterThan(0)
        await catchUp(bus, store, { writer })
        expect(everything(store)).toEqual(alone.index)
      } finally {
        store.close()
      }
    }
  })
})

describe("a writer that remembers message ids' numbers (the writer thread's)", () => {
  it("given another connection emptied the index and numbered the messages anew, then it finds each message's new number", () => {
    const dir = mkdtempSync(join(tmpdir(), "chorus-audit-keys-"))
    const path = join(dir, "index.sqlite")
    const lane = makeLane(777, 2)
    const writes = (envelope: Envelope, offset: number): IndexWrite[] => {
      const out: IndexWrite[] = []
      indexEvent({ write: (w) => out.push(w) }, envelope, {
        topic: "chorus.messages.observed",
        partition: 0,
        offset,
        eventId: envelope.id,
        type: envelope.type,
        at: T0 + offset,
      })
      return out
    }
    const chunk = (expected: number | undefined, next: number, ...w: IndexWrite[][]) => ({
      topic: "chorus.messages.observed",
      partition: 0,
      expected,
      anchor: "",
      writes: w.flat(),
      next,
    })
    const store = AuditStore.open(path)
    store.setMeta("anchor", "")
    const writer = new IndexWriter(connectIndex(path), { remember: true })
    try {
      // The writer numbers message 0 first.
      expect(writer.applyChunk(chunk(undefined, 1, writes(lane.observed(0), 0)))).toBe(true)
      // Another connection empties the index and meets message 1 first, then message 0.
      store.reset()
      store.setMeta("anchor", "")
      expect(
        store.applyChunk(chunk(undefined, 2, writes(lane.observed(1), 0), writes(lane.observed(0), 1))),
      ).toBe(true)
      // A step of message 0 through the writer lands on message 0, not on whichever holds its old number.
      const proven = lane.proven(0, 1, 1)
      expect(writer.applyChunk({ ...chunk(2, 3), writes: writes(proven, 2) })).toBe(true)
      expect(store.steps(lane.ids[0]!).map((s) => s.stage)).toEqual(["observed", "proven"])
      expect(store.steps(lane.ids[1]!).map((s) => s.stage)).toEqual(["observed"])
      expect(store.message(lane.ids[0]!)?.stageRank).toBe(rankOf("proven"))
      expect(store.message(lane.ids[1]!)?.stageRank).toBe(rankOf("observed"))
    } finally {
      writer.db.close()
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
