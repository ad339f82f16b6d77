/**
 * The events a chain resume adds (issue 12, part 3): `AttestationRefused`
 * version 3 (the reason `chain-halted`), `ChainResumed` on the halts topic,
 * the operator's `ChainHaltRead`, and `resumedBy` on a watcher's cursor and
 * reads, optional so that a record written before it still reads as it was.
 */
import { describe, expect, it } from "vitest"
import { EventCatalog } from "./catalog.ts"
import { eventId } from "./envelope.ts"
import { AttestationRefused } from "./events/attestation-refused.ts"
import { ChainHaltRead, HaltSeen } from "./events/chain-halt-read.ts"
import { ChainResumed, ResumedLaneCount } from "./events/chain-resumed.ts"
import { WatcherCursor } from "./events/watcher-cursor.ts"
import { makeEnvelope, Producer } from "./index.ts"
import { BlockRef, Checkpoint, Lane } from "./lane.ts"
import { Address, Bytes32, ChainId, EventId } from "./primitives.ts"
import { decodeRecord, encodeEnvelope } from "./record-codec.ts"

const checkpoint = new Checkpoint({
  srcChainId: ChainId.make(901),
  outbox: Address.make(`0x${"33".repeat(20)}`),
  dstChainId: ChainId.make(902),
  root: Bytes32.make(`0x${"aa".repeat(32)}`),
  count: 5,
})
const operator = Address.make(`0x${"0a".repeat(20)}`)
const haltId = EventId.make(`0x${"4a".repeat(32)}`)
const trusted = new BlockRef({ number: 40, hash: Bytes32.make(`0x${"40".repeat(32)}`) })
const bytes = (json: unknown) => new TextEncoder().encode(JSON.stringify(json))
const context = (service: string, instance: string) => ({
  producer: new Producer({ service, instance, version: "test" }),
  causationId: null,
  time: new Date(0),
})
const roundTrip = <E extends Parameters<typeof makeEnvelope>[0]>(
  event: E,
  service: string,
  instance: string,
) => {
  const envelope = makeEnvelope(event, context(service, instance))
  const record = encodeEnvelope(envelope)
  const decoded = decodeRecord(record)
  if (!decoded.ok) throw decoded.error
  return { envelope, record, decoded: decoded.value }
}

describe("AttestationRefused, version 3", () => {
  it("is at version 3, and a refusal for chain-halted goes round the codec", () => {
    expect(EventCatalog.AttestationRefused.version).toBe(3)
    const { decoded } = roundTrip(
      new AttestationRefused({
        checkpoint,
        operator,
        reason: "chain-halted",
        detail: "source chain 901 is halted at block 41",
      }),
      "operator",
      operator,
    )
    expect(decoded).toMatchObject({ version: 3, event: { reason: "chain-halted" } })
  })

  it("given a version-2 refusal (rpc-invalid) from an older log, when it is decoded, then it reads as it was, with its own id", () => {
    const payload = {
      _tag: "AttestationRefused",
      checkpoint: { ...checkpoint },
      operator,
      reason: "rpc-invalid",
      detail: "its own RPC answered garbage",
    }
    const id = eventId({ type: "AttestationRefused", version: 2, causationId: null, payload })
    const wire = {
      id,
      type: "AttestationRefused",
      version: 2,
      time: "2026-06-01T12:00:00.000Z",
      producer: { service: "operator", instance: operator, version: "0.4.0" },
      correlationId: null,
      causationId: null,
      payload,
    }
    const decoded = decodeRecord({ key: "901-902", value: bytes(wire), headers: {} })
    if (!decoded.ok) throw decoded.error
    expect(decoded.value).toMatchObject({ id, version: 3, event: { reason: "rpc-invalid", operator } })
  })
})

describe("ChainResumed", () => {
  it("goes round the codec, keyed by its chain like ChainHalted, and names no owner (a tool writes it)", () => {
    const resumed = new ChainResumed({
      chainId: ChainId.make(901),
      outbox: checkpoint.outbox,
      block: trusted,
      lanes: [new ResumedLaneCount({ dstChainId: ChainId.make(902), count: 3 })],
      halt: haltId,
      by: "alice@ops",
      reason: "the sequencer's RPC was replaced",
    })
    const { envelope, record, decoded } = roundTrip(resumed, "chain-resume", "alice@ops")
    expect(decoded).toEqual(envelope)
    expect(record.key).toBe("901")
    expect(EventCatalog.ChainResumed.owner(resumed)).toBeNull()
  })
})

describe("ChainHaltRead", () => {
  it("goes round the codec, keyed by the lane it was read for, owned by its reader", () => {
    const read = new ChainHaltRead({
      reader: operator,
      lane: new Lane({
        srcChainId: ChainId.make(901),
        outbox: checkpoint.outbox,
        dstChainId: ChainId.make(902),
      }),
      chainId: ChainId.make(901),
      halt: new HaltSeen({ eventId: haltId, blockNumber: 41, reason: "rewritten" }),
      resumed: null,
    })
    const { envelope, record, decoded } = roundTrip(read, "operator", operator)
    expect(decoded).toEqual(envelope)
    expect(record.key).toBe("901-902")
    expect(EventCatalog.ChainHaltRead.owner(read)).toBe(operator)
  })
})

describe("resumedBy on a watcher's cursor", () => {
  it("given a cursor written before resumedBy existed, when it is decoded, then it has no resumedBy and keeps its id", () => {
    const payload = { _tag: "WatcherCursor", chainId: 901, block: { number: 40, hash: trusted.hash } }
    const id = eventId({ type: "WatcherCursor", version: 1, causationId: null, payload })
    const wire = {
      id,
      type: "WatcherCursor",
      version: 1,
      time: "2026-06-01T12:00:00.000Z",
      producer: { service: "chain-watcher", instance: "901", version: "0.4.0" },
      correlationId: null,
      causationId: null,
      payload,
    }
    const decoded = decodeRecord({ key: "901", value: bytes(wire), headers: {} })
    if (!decoded.ok) throw decoded.error
    expect(decoded.value.id).toBe(id)
    expect(decoded.value.event).toBeInstanceOf(WatcherCursor)
    expect("resumedBy" in decoded.value.event).toBe(false)
  })

  it("given a cursor after a resume, then resumedBy goes round the codec", () => {
    const cursor = new WatcherCursor({ chainId: ChainId.make(901), block: trusted, resumedBy: haltId })
    const { decoded } = roundTrip(cursor, "chain-watcher", "901")
    expect(decoded.event).toMatchObject({ resumedBy: haltId })
  })
})
