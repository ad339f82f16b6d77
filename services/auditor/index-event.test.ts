/**
 * What the index makes of a skipped message: the Inbox status the
 * submitter recorded settles it (delivered or failed), "unknown" leaves it
 * where it was, and its timeline says what the Inbox showed. And how far
 * lane checkpoints move the messages they cover, whichever topic is read
 * first, and that an index of an older version is rebuilt.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  Address,
  AttestationRefused,
  AttestationSigned,
  BlockRef,
  Bytes32,
  Checkpoint,
  CheckpointExpired,
  CheckpointProposed,
  type ChorusEvent,
  type Envelope,
  Hex,
  LaneStalled,
  Message,
  MessageId,
  MessageObserved,
  MessageProven,
  MessageRejected,
  makeEnvelope,
  OperatorEquivocated,
  Producer,
  SignatureVerdict,
  SignedCheckpoint,
  U256,
} from "../../schemas/index.ts"
import { makeTestLane } from "../lifecycle/testing/lane.ts"
import { messageIdOf } from "../runtime/contract-message.ts"
import { foldCore, producerOf } from "../runtime/index.ts"
import { makeSubmitterCore } from "../submitter/core/index.ts"
import { indexEvent } from "./index-event.ts"
import { AuditStore, INDEX_VERSION } from "./index-store.ts"
import { listMessages } from "./list-messages.ts"
import { traceMessage } from "./trace-message.ts"

const lane = makeTestLane(4)
const T = Date.parse("2026-01-01T00:00:00.000Z")

describe("a skipped message in the audit index", () => {
  let store: AuditStore
  let offset: number
  const index = (envelope: Envelope, at: number) =>
    indexEvent(store, envelope, {
      topic: envelope.type === "MessageObserved" ? "chorus.messages.observed" : "chorus.deliveries",
      partition: 0,
      offset: offset++,
      eventId: envelope.id,
      type: envelope.type,
      at,
    })
  const trace = (nonce: number, now = T + 1_000) =>
    traceMessage(store, lane.ids[nonce]!, { now, stuckAfterMs: 120_000 })!
  const skippedStep = (nonce: number) => trace(nonce).steps.find((s) => s.stage === "skipped")!

  beforeEach(() => {
    store = AuditStore.open(":memory:")
    offset = 0
    for (let nonce = 0; nonce < 4; nonce++) index(lane.observed(nonce), T)
    // Given the submitter skipped messages 0–2, the Inbox showing them delivered, failed, and unread
    const attested = lane.attested(4)
    index(
      lane.skipped(attested.id, {
        action: "commitAndDeliver",
        ids: lane.ids.slice(0, 3),
        statuses: ["delivered", "failed", "unknown"],
      }),
      T + 500,
    )
  })
  afterEach(() => store.close())

  it("given the Inbox showed it delivered, then the message is delivered, and its timeline says so", () => {
    expect(trace(0)).toMatchObject({ status: "delivered", stage: "delivered", waiting: [] })
    expect(skippedStep(0)).toMatchObject({
      detail: { action: "commitAndDeliver", reason: "already delivered", status: "delivered" },
      summary:
        "commitAndDeliver skipped it: already delivered; the Inbox on chain 902 showed it delivered (its recipient ran)",
    })
  })

  it("given the Inbox showed it failed, then the message is failed, and its timeline says what the Inbox showed", () => {
    const failed = trace(1)
    expect(failed).toMatchObject({ status: "failed", stage: "failed" })
    expect(skippedStep(1).detail).toMatchObject({ status: "failed" })
    expect(skippedStep(1).summary).toBe(
      "commitAndDeliver skipped it: already delivered; the Inbox on chain 902 showed it failed (its recipient reverted)",
    )
    expect(failed.waiting).toContain(skippedStep(1).summary)
  })

  it("given the Inbox status is unknown, then the message does not move, and its timeline says how to find out", () => {
    // Seen long after, it is stuck where the skip found it: the index cannot tell delivered from failed
    expect(trace(2, T + 3_600_000)).toMatchObject({ status: "stuck", stage: "observed" })
    expect(skippedStep(2).detail).toMatchObject({ status: "unknown" })
    expect(skippedStep(2).summary).toBe(
      "commitAndDeliver skipped it: already delivered; what the Inbox on chain 902 showed for it was not recorded; " +
        "Inbox.messageStatus(777, 0x00000000000000000000000000000000000a11ce, 2) there tells whether it was delivered or failed",
    )
  })

  it("lists each by the status the Inbox showed", () => {
    const options = { now: T + 3_600_000, stuckAfterMs: 120_000, limit: 0 }
    const ids = (status: "delivered" | "failed" | "stuck") =>
      listMessages(store, { ...options, status }).rows.map((row) => row.id)
    expect(ids("delivered")).toEqual([lane.ids[0]])
    expect(ids("failed")).toEqual([lane.ids[1]])
    expect(ids("stuck").sort()).toEqual([lane.ids[2], lane.ids[3]].sort())
  })

  it("given a skip inside a confirmed transaction (the Inbox had attempted it), then it still settles nothing", () => {
    const submitted = lane.submitted(lane.attested(4).id, {
      action: "deliver",
      ids: [lane.ids[3]!],
      tx: 1,
      nonce: 0,
    })
    index(submitted, T + 600)
    index(
      lane.confirmed(submitted.id, { action: "deliver", ids: [lane.ids[3]!], tx: 1, results: ["skipped"] }),
      T + 700,
    )
    expect(trace(3)).toMatchObject({ stage: "submitted" })
  })
})

describe("lane checkpoints in the audit index", () => {
  const block = new BlockRef({ number: 6, hash: Bytes32.make(`0x${"ab".repeat(32)}`) })
  const operator = Address.make(`0x${"0e".repeat(20)}`)
  const collector = new Producer({ service: "attestation-collector", instance: "c", version: "test" })
  const event = (e: ChorusEvent, ms: number) =>
    makeEnvelope(e, { producer: collector, causationId: null, time: new Date(T + ms) })
  /** Checkpoint 2 (nonces 0 and 1) from proposal to committed root, one second apart. */
  const checkpointTwo = (): Envelope[] => [
    event(new CheckpointProposed({ checkpoint: lane.checkpoint(2), previousCount: 0, block }), 1000),
    event(
      new AttestationSigned({
        checkpoint: lane.checkpoint(2),
        epoch: 1,
        digest: Bytes32.make(`0x${"11".repeat(32)}`),
        operator,
        signature: Hex.make("0x1234"),
      }),
      2000,
    ),
    lane.attested(2, 3000),
    lane.rootCommitted(lane.attested(2).id, 2, 1, 4000),
  ]
  /** Checkpoint 4 refused, expired and its lane stalled: none of it moves a message. */
  const troubles = (): Envelope[] => [
    event(
      new AttestationRefused({
        checkpoint: lane.checkpoint(4),
        operator,
        reason: "root-mismatch",
        detail: "x",
      }),
      5000,
    ),
    event(
      new CheckpointExpired({
        checkpoint: lane.checkpoint(4),
        digest: Bytes32.make(`0x${"22".repeat(32)}`),
        signedStake: U256.make("1"),
        requiredStake: U256.make("3"),
        reason: "too few signatures",
      }),
      6000,
    ),
    event(
      new LaneStalled({ lane: lane.lane, reason: "nonce-gap", treeCount: 2, detail: "nonce 2 missing" }),
      7000,
    ),
  ]
  const observations = () => [0, 1, 2, 3].map((nonce) => lane.observed(nonce))

  const indexAll = (envelopes: ReadonlyArray<Envelope>) => {
    const store = AuditStore.open(":memory:")
    for (const [offset, envelope] of envelopes.entries())
      indexEvent(store, envelope, {
        topic: envelope.type === "MessageObserved" ? "chorus.messages.observed" : "chorus.checkpoints",
        partition: 0,
        offset,
        eventId: envelope.id,
        type: envelope.type,
        at: Date.parse(envelope.time),
      })
    const rows = listMessages(store, { status: "all", now: T + 10_000, stuckAfterMs: 120_000, limit: 0 }).rows
    store.close()
    return rows
      .map((row) => ({ nonce: row.nonce, stage: row.stage, lastAt: row.lastAt - T }))
      .sort((a, b) => a.nonce - b.nonce)
  }

  const expected = [
    { nonce: 0, stage: "committed", lastAt: 4000 },
    { nonce: 1, stage: "committed", lastAt: 4000 },
    { nonce: 2, stage: "observed", lastAt: 0 },
    { nonce: 3, stage: "observed", lastAt: 0 },
  ]

  it("given a checkpoint's events after the observations, then it moves only the messages below its count", () => {
    expect(indexAll([...observations(), ...checkpointTwo(), ...troubles()])).toEqual(expected)
  })

  it("given a checkpoint's events read before the observations (another topic first), then the answer is the same", () => {
    expect(indexAll([...troubles(), ...checkpointTwo().reverse(), ...observations()])).toEqual(expected)
  })

  it("given a commitAndDeliver confirmation, then the message is delivered and its timeline shows the commit", () => {
    const store = AuditStore.open(":memory:")
    const submitted = lane.submitted(lane.attested(4).id, {
      action: "commitAndDeliver",
      ids: [lane.ids[0]!],
      tx: 1,
      nonce: 0,
    })
    const confirmed = lane.confirmed(submitted.id, { action: "commitAndDeliver", ids: [lane.ids[0]!], tx: 1 })
    for (const [offset, envelope] of [lane.observed(0), submitted, confirmed].entries())
      indexEvent(store, envelope, {
        topic: "chorus.deliveries",
        partition: 0,
        offset,
        eventId: envelope.id,
        type: envelope.type,
        at: T + offset,
      })
    const trace = traceMessage(store, lane.ids[0]!, { now: T + 10, stuckAfterMs: 120_000 })!
    expect(trace).toMatchObject({ status: "delivered", stage: "delivered" })
    expect(trace.steps.map((s) => s.stage)).toEqual(["observed", "submitted", "committed", "delivered"])
    store.close()
  })
})

describe("a rejected observation in the audit index", () => {
  const builder = new Producer({ service: "proof-builder", instance: "proof-builder", version: "test" })
  const at = (e: ChorusEvent, ms: number) =>
    makeEnvelope(e, { producer: builder, causationId: null, time: new Date(T + ms) })
  const block = (n: number) => new BlockRef({ number: n, hash: Bytes32.make(`0x${"aa".repeat(32)}`) })
  /** A MessageObserved of another message at `nonce`, or of the real one naming another block. */
  const observation = (nonce: number, options: { body?: string; block?: number }) => {
    const real = lane.observed(nonce).event
    const message = new Message({ ...real.message, body: Hex.make(options.body ?? real.message.body) })
    return makeEnvelope(
      new MessageObserved({
        ...real,
        message,
        messageId: MessageId.make(messageIdOf(message)),
        block: block(options.block ?? real.block.number),
      }),
      {
        producer: new Producer({ service: "chain-watcher", instance: "777", version: "test" }),
        causationId: null,
        time: new Date(T),
      },
    )
  }
  const rejectionOf = (observed: MessageObserved, reason: MessageRejected["reason"], ms: number) =>
    at(
      new MessageRejected({
        lane: lane.lane,
        messageId: observed.messageId,
        nonce: observed.message.nonce,
        block: observed.block,
        transactionHash: observed.transactionHash,
        logIndex: observed.logIndex,
        reason,
        outboxBlock: block(7),
        chainMessageId: reason === "not-in-outbox-root" ? lane.ids[observed.message.nonce]! : null,
        detail: "the Outbox's root at block 7 commits to another message at nonce 2",
      }),
      ms,
    )
  const forged = observation(2, { body: "0xdead" })
  const moved = observation(3, { block: 99 })
  const proposedThree = () => [
    at(new CheckpointProposed({ checkpoint: lane.checkpoint(3), previousCount: 0, block: block(7) }), 3000),
    lane.attested(3, 4000),
    lane.rootCommitted(lane.attested(3).id, 3, 1, 5000),
  ]
  /** Every event, in the given order, each at its own envelope time. */
  const indexAll = (envelopes: ReadonlyArray<Envelope>) => {
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
    return store
  }
  const log = () => [
    ...[0, 1, 2, 3].map((nonce) => lane.observed(nonce)),
    forged,
    rejectionOf(forged.event as MessageObserved, "not-in-outbox-root", 2000),
    // The real nonce 3 observed once more, naming a block it is not in: that observation alone is rejected.
    moved,
    rejectionOf(moved.event as MessageObserved, "nonce-not-sent-by-block", 2500),
    ...proposedThree(),
  ]

  it("given a forged observation the proof-builder rejected, then it is listed as rejected, and never as pending or covered", () => {
    for (const order of [log(), [...log()].reverse()]) {
      const store = indexAll(order)
      const options = { now: T + 3_600_000, stuckAfterMs: 120_000, limit: 0 }
      const ids = (status: "rejected" | "stuck" | "in-flight" | "all") =>
        listMessages(store, { ...options, status }).rows.map((row) => row.id)
      const forgedId = (forged.event as MessageObserved).messageId
      expect(ids("rejected")).toEqual([forgedId])
      expect(ids("stuck")).not.toContain(forgedId)
      expect(ids("all")).toContain(forgedId)
      const row = listMessages(store, { ...options, status: "all" }).rows.find((r) => r.id === forgedId)!
      // The checkpoint of 3 covers nonce 2, but it holds the real message, not this one.
      expect(row).toMatchObject({ status: "rejected", stage: "observed" })
      // The real message whose second observation was rejected is still the real one.
      expect(
        listMessages(store, { ...options, status: "all" }).rows.find((r) => r.id === lane.ids[3]),
      ).toMatchObject({ status: "stuck" })
      store.close()
    }
  })

  it("given a forged observation the proof-builder rejected, then its trace says why, and the real message's trace names it", () => {
    const store = indexAll(log())
    const forgedId = (forged.event as MessageObserved).messageId
    const trace = traceMessage(store, forgedId, { now: T + 10_000, stuckAfterMs: 120_000 })!
    expect(trace).toMatchObject({ status: "rejected", stage: "observed" })
    expect(trace.steps.map((s) => s.stage)).toEqual(["observed", "rejected"])
    const rejected = trace.steps.find((s) => s.stage === "rejected")!
    expect(rejected.summary).toContain("not-in-outbox-root")
    expect(rejected.summary).toContain("commits to another message at nonce 2")
    expect(rejected.summary).toContain(lane.ids[2]!)
    expect(trace.waiting).toEqual([expect.stringContaining("rejected")])
    // The real message at that nonce shows the rival that was rejected.
    const real = traceMessage(store, lane.ids[2]!, { now: T + 10_000, stuckAfterMs: 120_000 })!
    expect(real.status).not.toBe("rejected")
    expect(real.steps.find((s) => s.stage === "rival-rejected")?.summary).toContain(forgedId)
    store.close()
  })

  it("given a lane stalled above a message that is not proposed, then its trace shows the stall, and not one a later proposal resolved", () => {
    const stall = (reason: "nonce-gap" | "root-mismatch", treeCount: number, ms: number) =>
      at(new LaneStalled({ lane: lane.lane, reason, treeCount, detail: `${reason} at ${treeCount}` }), ms)
    const store = indexAll([
      ...[0, 1, 2, 3].map((nonce) => lane.observed(nonce)),
      stall("nonce-gap", 1, 1000),
      at(new CheckpointProposed({ checkpoint: lane.checkpoint(2), previousCount: 0, block: block(7) }), 2000),
      stall("root-mismatch", 4, 3000),
    ])
    const trace = traceMessage(store, lane.ids[2]!, { now: T + 10_000, stuckAfterMs: 120_000 })!
    expect(trace.steps.filter((s) => s.stage === "stalled").map((s) => s.detail.why)).toEqual([
      "root-mismatch at 4",
    ])
    expect(trace.waiting).toContain("lane stalled at 4 message(s): root-mismatch — root-mismatch at 4")
    store.close()
  })
})

describe("the signed step of a trace", () => {
  it("given a signature and verdict over another root for the same count, then the signed line counts only signatures over the root that was attested", () => {
    const store = AuditStore.open(":memory:")
    const attested = lane.attested(4)
    const real = attested.event.checkpoint
    const forged = new Checkpoint({ ...real, root: Bytes32.make(`0x${"ee".repeat(32)}`) })
    const [a, b] = [Address.make(`0x${"0a".repeat(20)}`), Address.make(`0x${"0b".repeat(20)}`)]
    const operatorProducer = new Producer({ service: "operator", instance: "x", version: "test" })
    const collector = new Producer({ service: "attestation-collector", instance: "c", version: "test" })
    const digest = Bytes32.make(`0x${"dd".repeat(32)}`)
    const signature = Hex.make(`0x${"11".repeat(65)}`)
    const signed = (checkpoint: Checkpoint, operator: Address) =>
      makeEnvelope(new AttestationSigned({ checkpoint, epoch: 1, digest, operator, signature }), {
        producer: operatorProducer,
        causationId: null,
        time: new Date(T),
      })
    const verdict = (
      checkpoint: Checkpoint,
      operator: Address,
      result: "accepted" | "invalid",
      weight: string,
    ) =>
      makeEnvelope(
        new SignatureVerdict({
          checkpoint,
          digest,
          operator,
          signer: result === "accepted" ? operator : null,
          signature,
          result,
          weight: U256.make(weight),
          epoch: 1,
          reason: result,
        }),
        { producer: collector, causationId: null, time: new Date(T) },
      )
    const events = [
      lane.observed(0),
      signed(real, a),
      verdict(real, a, "accepted", "30"),
      signed(real, b),
      verdict(real, b, "accepted", "40"),
      attested,
      // A stranger publishes a signature over another root, claiming operator a, after the attestation.
      signed(forged, a),
      verdict(forged, a, "invalid", "0"),
    ]
    for (const [offset, envelope] of events.entries())
      indexEvent(store, envelope, {
        topic: "t",
        partition: 0,
        offset,
        eventId: envelope.id,
        type: envelope.type,
        at: T + offset,
      })
    const step = traceMessage(store, lane.ids[0]!, { now: T + 100, stuckAfterMs: 120_000 })!.steps.find(
      (s) => s.stage === "signed",
    )!
    expect(step.detail).toMatchObject({ root: real.root, stake: "70" })
    expect(step.summary).toBe(`signed by 2 operator(s) with 70 stake: ${a} (30), ${b} (40)`)
    store.close()
  })
})

describe("evidence and operator records in the audit index", () => {
  it("given evidence from the collector and a copy claimed by an operator's key, then only the collector's is an operator's record, and invalid verdicts are not the named operator's", () => {
    const store = AuditStore.open(":memory:")
    const real = lane.attested(4).event.checkpoint
    const rival = new Checkpoint({ ...real, root: Bytes32.make(`0x${"ee".repeat(32)}`) })
    const [liar, victim] = [Address.make(`0x${"0a".repeat(20)}`), Address.make(`0x${"0b".repeat(20)}`)]
    const collector = new Producer({ service: "attestation-collector", instance: "c", version: "test" })
    const operatorKey = new Producer({ service: "operator", instance: liar, version: "test" })
    const signedCheckpoint = (checkpoint: Checkpoint) =>
      new SignedCheckpoint({
        checkpoint,
        epoch: 1,
        digest: Bytes32.make(`0x${"dd".repeat(32)}`),
        signature: Hex.make(`0x${"11".repeat(65)}`),
      })
    const evidence = (operator: Address, producer: Producer) =>
      makeEnvelope(
        new OperatorEquivocated({
          operator,
          first: signedCheckpoint(real),
          second: signedCheckpoint(rival),
          reason: "two roots",
        }),
        { producer, causationId: null, time: new Date(T) },
      )
    const invalid = makeEnvelope(
      new SignatureVerdict({
        checkpoint: rival,
        digest: Bytes32.make(`0x${"dd".repeat(32)}`),
        operator: victim,
        signer: null,
        signature: Hex.make(`0x${"11".repeat(65)}`),
        result: "invalid",
        weight: U256.make("0"),
        epoch: 1,
        reason: "does not recover to the publishing operator",
      }),
      { producer: collector, causationId: null, time: new Date(T) },
    )
    const events = [evidence(liar, collector), evidence(victim, operatorKey), invalid]
    for (const [offset, envelope] of events.entries())
      indexEvent(store, envelope, {
        topic: "t",
        partition: 0,
        offset,
        eventId: envelope.id,
        type: envelope.type,
        at: T + offset,
      })
    const records = new Map(store.operatorRecords().map((record) => [record.operator, record]))
    expect(
      records.get(liar)?.evidence.map((row) => [row.count, row.detail.root, row.detail.otherRoot]),
    ).toEqual([[real.count, real.root, rival.root]])
    expect(records.get(victim)).toMatchObject({ evidence: [], verdicts: {} })
    store.close()
  })
})

describe("an index of another version", () => {
  const dir = mkdtempSync(join(tmpdir(), "chorus-index-version-"))
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it("given a version 3 index (lane events without ranks), when it is opened, then it is emptied into the current shape", () => {
    const path = join(dir, "index.sqlite")
    const old = new DatabaseSync(path)
    old.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta VALUES ('version', '3'), ('anchor', '0xabc');
      CREATE TABLE lane_events (
        lane TEXT NOT NULL, count INTEGER NOT NULL, stage TEXT NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL,
        topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE,
        detail TEXT NOT NULL
      );
      INSERT INTO lane_events VALUES ('l', 2, 'attested', 0, 't', 'chorus.checkpoints', 0, 0, '0x01', '{}');
    `)
    old.close()
    const store = AuditStore.open(path)
    try {
      expect(store.meta("version")).toBe(String(INDEX_VERSION))
      expect(store.counts()).toEqual({ messages: 0, steps: 0, laneEvents: 0 })
      // And it indexes into the new shape
      const attested = lane.attested(2)
      const place = {
        topic: "chorus.checkpoints",
        partition: 0,
        offset: 0,
        eventId: attested.id,
        type: attested.type,
      }
      indexEvent(store, attested, { ...place, at: T })
      expect(store.counts().laneEvents).toBe(1)
    } finally {
      store.close()
    }
  })
})

describe("a proof chunk the submitter refused, in the audit index", () => {
  // A chunk [0, 2) of the checkpoint at 4 whose one sibling is forged, refused by the submitter's own core.
  const real = lane.proven(0, 2, 4)
  const forged = makeEnvelope(
    new MessageProven({ ...real.event, proof: [Bytes32.make(`0x${"33".repeat(32)}`)] }),
    { producer: real.producer, causationId: null, time: new Date(T + 1_000) },
  )
  const refusals = foldCore(makeSubmitterCore(902), producerOf("submitter", "902"), [
    { input: forged, reads: [] },
  ]).outputs
  const log = (withRefusal: boolean): Envelope[] => [
    ...[0, 1, 2, 3].map((nonce) => lane.observed(nonce)),
    real,
    forged,
    ...(withRefusal ? refusals : []),
  ]
  const indexAll = (envelopes: ReadonlyArray<Envelope>) => {
    const store = AuditStore.open(":memory:")
    for (const [offset, envelope] of envelopes.entries())
      indexEvent(store, envelope, {
        topic: envelope.type === "ProofRefused" ? "chorus.deliveries" : "chorus.messages.proven",
        partition: 0,
        offset,
        eventId: envelope.id,
        type: envelope.type,
        at: T + offset,
      })
    return store
  }
  const options = { now: T + 10_000, stuckAfterMs: 120_000 }

  it("given the refusal, then each message its chunk listed has a step saying why, and no other message has one", () => {
    expect(refusals.map((r) => r.type)).toEqual(["ProofRefused"])
    const store = indexAll(log(true))
    for (const nonce of [0, 1]) {
      const refused = traceMessage(store, lane.ids[nonce]!, options)!.steps.filter(
        (s) => s.stage === "proof-refused",
      )
      expect(refused).toHaveLength(1)
      expect(refused[0]!.source).toMatchObject({ topic: "chorus.deliveries", type: "ProofRefused" })
      expect(refused[0]!.detail).toMatchObject({
        reason: "root-mismatch",
        start: 0,
        size: 2,
        count: 4,
        root: real.event.checkpoint.root,
        index: null,
      })
      expect(refused[0]!.detail.why).toMatch(
        /^its ids and siblings give 0x[0-9a-f]{64}, not the checkpoint's root/,
      )
      expect(refused[0]!.detail.computedRoot).toMatch(/^0x[0-9a-f]{64}$/)
    }
    for (const nonce of [2, 3])
      expect(traceMessage(store, lane.ids[nonce]!, options)!.steps.map((s) => s.stage)).not.toContain(
        "proof-refused",
      )
    store.close()
  })

  it("given the refusal, then no message moves: stages, statuses and the message list are as without it", () => {
    const [without, withRefusal] = [indexAll(log(false)), indexAll(log(true))]
    const list = (store: AuditStore) =>
      listMessages(store, { ...options, status: "all", limit: 0 }).rows.map((row) => ({
        id: row.id,
        stage: row.stage,
        status: row.status,
      }))
    expect(list(withRefusal)).toEqual(list(without))
    expect(traceMessage(withRefusal, lane.ids[0]!, options)).toMatchObject({ stage: "proven" })
    without.close()
    withRefusal.close()
  })

  it("given the refusal indexed twice, then its step is there once", () => {
    const store = indexAll([...log(true), ...refusals])
    const steps = traceMessage(store, lane.ids[0]!, options)!.steps
    expect(steps.filter((s) => s.stage === "proof-refused")).toHaveLength(1)
    store.close()
  })
})
