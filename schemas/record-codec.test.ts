import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  type ChorusEvent,
  DeliverySkipped,
  decodeRecord,
  EVENT_TYPES,
  EventCatalog,
  EventId,
  encodeEnvelope,
  eventId,
  Lane,
  MessageId,
  makeEnvelope,
  Producer,
  type RecordBytes,
  WatcherCursor,
} from "./index.ts"
import * as arb from "./testing/arbitraries.ts"
import { events } from "./testing/arbitraries.ts"

const producer = new Producer({ service: "test", instance: "t-1", version: "0.0.0" })
const context = { producer, causationId: null, time: new Date("2026-01-01T00:00:00.000Z") }

const cursor = new WatcherCursor({
  chainId: ChainId.make(901),
  block: new BlockRef({ number: 42, hash: Bytes32.make(`0x${"ab".repeat(32)}`) }),
})

const bytes = (json: unknown) => new TextEncoder().encode(JSON.stringify(json))
const wireOf = (record: RecordBytes) =>
  JSON.parse(new TextDecoder().decode(record.value)) as Record<string, unknown>
const issuesOf = (record: RecordBytes) => {
  const decoded = decodeRecord(record)
  if (decoded.ok) throw new Error("expected a decode failure")
  return decoded.error.issues
}

describe("record codec", () => {
  it("round-trips every event type through a record", () => {
    fc.assert(
      fc.property(arb.event, fc.option(arb.eventIdArb, { nil: null }), (event: ChorusEvent, causationId) => {
        const envelope = makeEnvelope(event, { ...context, causationId })
        const decoded = decodeRecord(encodeEnvelope(envelope))
        expect(decoded.ok).toBe(true)
        if (!decoded.ok) return
        expect(decoded.value).toEqual(envelope)
        expect(decoded.value.event).toBeInstanceOf(event.constructor)
      }),
      { numRuns: 300 },
    )
  })

  it("has an arbitrary for every catalog type", () => {
    expect(Object.keys(events).sort()).toEqual([...EVENT_TYPES].sort())
  })

  it("derives the same id from the same content and cause, whatever the time or instance", () => {
    fc.assert(
      fc.property(arb.event, arb.eventIdArb, (event, cause) => {
        const a = makeEnvelope(event, { ...context, causationId: cause })
        const b = makeEnvelope(event, {
          producer: new Producer({ service: "test", instance: "other", version: "9.9.9" }),
          causationId: cause,
          time: new Date("2030-05-05T05:05:05.005Z"),
        })
        expect(b.id).toBe(a.id)
      }),
      { numRuns: 100 },
    )
  })

  it("derives a different id for a different cause", () => {
    const a = makeEnvelope(cursor, { ...context, causationId: EventId.make(`0x${"01".repeat(32)}`) })
    const b = makeEnvelope(cursor, { ...context, causationId: EventId.make(`0x${"02".repeat(32)}`) })
    expect(a.id).not.toBe(b.id)
  })

  it("puts the key, type, version and ids into the record", () => {
    const record = encodeEnvelope(makeEnvelope(cursor, context))
    expect(record.key).toBe("901")
    expect(record.headers["chorus-type"]).toBe("WatcherCursor")
    expect(record.headers["chorus-version"]).toBe("1")
    expect(record.headers["chorus-id"]).toBe(wireOf(record).id)
  })
})

describe("record codec rejections", () => {
  const good = encodeEnvelope(makeEnvelope(cursor, context))
  const withWire = (patch: (wire: Record<string, unknown>) => void): RecordBytes => {
    const wire = wireOf(good)
    patch(wire)
    return { ...good, headers: {}, value: bytes(wire) }
  }

  it("rejects bytes that are not JSON", () => {
    expect(
      issuesOf({ key: null, value: new Uint8Array([0xff, 0xfe, 0x00]), headers: {} })[0]!.message,
    ).toMatch(/not UTF-8 JSON/)
    expect(issuesOf({ key: null, value: bytes("x").subarray(0, 2), headers: {} })[0]!.message).toMatch(
      /not UTF-8 JSON/,
    )
  })

  it("names every broken envelope field", () => {
    const issues = issuesOf({
      key: "901",
      headers: {},
      value: bytes({ id: "nope", type: "", version: -1, time: "yesterday" }),
    })
    const paths = issues.map((i) => i.path)
    expect(paths).toEqual(
      expect.arrayContaining(["id", "type", "version", "time", "producer", "correlationId", "causationId"]),
    )
    expect(issues.find((i) => i.path === "id")!.message).toMatch(/event id/)
  })

  it("rejects an unknown type", () => {
    expect(issuesOf(withWire((w) => (w.type = "MessageTeleported")))).toEqual([
      { path: "type", message: 'unknown event type "MessageTeleported"' },
    ])
  })

  it("rejects a version newer than this build reads", () => {
    expect(issuesOf(withWire((w) => (w.version = 2)))[0]).toMatchObject({
      path: "version",
      message: /upgrade this consumer/,
    })
  })

  it("names the payload field that is wrong, and why", () => {
    const issues = issuesOf(
      withWire((w) => {
        ;(w.payload as { block: { hash: string } }).block.hash = "0xABC"
        ;(w.payload as { chainId: number }).chainId = 0
      }),
    )
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: "payload.block.hash", message: "expected 32 bytes: 0x and 64 lowercase hex digits" },
        { path: "payload.chainId", message: "expected a positive safe integer" },
      ]),
    )
  })

  it("rejects a payload no id can be derived from (a number JSON reads as infinite, nesting past the stack), naming it, without throwing", () => {
    const text = new TextDecoder().decode(good.value)
    const infinite = text.replace(/"payload":\{/, '"payload":{"extra":1e999,')
    const deep = text.replace(
      /"payload":\{/,
      `"payload":{"extra":${"[".repeat(200_000)}${"]".repeat(200_000)},`,
    )
    for (const hostile of [infinite, deep]) {
      const record = { ...good, headers: {}, value: new TextEncoder().encode(hostile) }
      expect(() => decodeRecord(record)).not.toThrow()
      expect(issuesOf(record)[0]).toMatchObject({ path: "payload", message: /no event id can be derived/ })
    }
  })

  it("rejects an id that does not match the content", () => {
    expect(issuesOf(withWire((w) => (w.id = `0x${"00".repeat(32)}`)))[0]).toMatchObject({ path: "id" })
  })

  it("rejects a tampered payload even when it is well-formed", () => {
    const issues = issuesOf(withWire((w) => ((w.payload as { block: { number: number } }).block.number = 43)))
    expect(issues.map((i) => i.path)).toEqual(["id"])
  })

  it("rejects a key that disagrees with the content", () => {
    expect(issuesOf({ ...good, key: "902" })).toEqual([
      { path: "key", message: 'record key "902" is not the key its content implies ("901")' },
    ])
  })

  it("rejects headers that disagree with the body", () => {
    const issues = issuesOf({ ...good, headers: { ...good.headers, "chorus-type": "ChainHalted" } })
    expect(issues[0]).toMatchObject({ path: "headers.chorus-type" })
  })

  it("rejects a wrong correlation id", () => {
    const issues = issuesOf(withWire((w) => (w.correlationId = `0x${"11".repeat(32)}`)))
    expect(issues.map((i) => i.path)).toContain("correlationId")
  })

  it("explains itself in the error message", () => {
    const decoded = decodeRecord({ ...good, key: "902" })
    expect(decoded.ok).toBe(false)
    if (decoded.ok) return
    expect(decoded.error.shortMessage).toMatch(/^Not a valid Chorus event: key: record key "902"/)
    expect(decoded.error.message).toMatch(/key: record key "902".*\nThe record was dead-lettered/)
  })
})

describe("upcasting", () => {
  it("lifts an old wire version through the catalog's upcasters", () => {
    const definition = EventCatalog.WatcherCursor as unknown as {
      version: number
      upcasters: Record<number, unknown>
    }
    const saved = { version: definition.version, upcasters: definition.upcasters }
    // Pretend v1 was written with the block number under an old field name; v2 is today's shape.
    Object.assign(definition, {
      version: 2,
      upcasters: {
        1: (p: { height: number; [k: string]: unknown }) => {
          const { height, ...rest } = p
          return { ...rest, block: { ...(rest.block as object), number: height } }
        },
      },
    })
    try {
      const current = makeEnvelope(cursor, context)
      const wire = wireOf(encodeEnvelope(current))
      const payload = wire.payload as { block: { number?: number; hash: string } }
      const v1Payload = { ...payload, height: payload.block.number, block: { hash: payload.block.hash } }
      const v1 = {
        ...wire,
        version: 1,
        payload: v1Payload,
        id: eventId({ type: "WatcherCursor", version: 1, causationId: null, payload: v1Payload }),
      }
      const decoded = decodeRecord({ key: "901", headers: {}, value: bytes(v1) })
      expect(decoded.ok).toBe(true)
      if (decoded.ok) {
        expect(decoded.value.version).toBe(2)
        expect(decoded.value.event).toEqual(cursor)
      }
    } finally {
      Object.assign(definition, saved)
    }
  })
})

describe("DeliverySkipped version 2 (statuses)", () => {
  const lane = { srcChainId: 777, outbox: `0x${"00".repeat(18)}a11c`, dstChainId: 902 }
  const a = `0x${"a1".repeat(32)}`
  const b = `0x${"b2".repeat(32)}`
  /** A record exactly as a version-1 submitter wrote it: no `statuses`, version 1, its id derived from both. */
  const v1Record = (messageIds: ReadonlyArray<string>): RecordBytes => {
    const payload = {
      _tag: "DeliverySkipped",
      lane,
      action: "deliver",
      messageIds,
      reason: "2 of 2 messages already delivered (by another relayer or an earlier flight)",
    }
    const causationId = `0x${"c3".repeat(32)}`
    const id = eventId({ type: "DeliverySkipped", version: 1, causationId, payload })
    const correlationId = messageIds.length === 1 ? messageIds[0]! : null
    const wire = {
      id,
      type: "DeliverySkipped",
      version: 1,
      time: "2025-06-01T12:00:00.000Z",
      producer: { service: "submitter", instance: "902", version: "0.1.0" },
      correlationId,
      causationId,
      payload,
    }
    const headers: Record<string, string> = {
      "chorus-id": id,
      "chorus-type": "DeliverySkipped",
      "chorus-version": "1",
      "chorus-causation-id": causationId,
      "content-type": "application/json",
    }
    if (correlationId !== null) headers["chorus-correlation-id"] = correlationId
    return { key: "777-902", value: bytes(wire), headers }
  }

  it("given a version-1 record from an older log, when it is decoded, then it is today's event with every status unknown", () => {
    const decoded = decodeRecord(v1Record([a, b]))
    if (!decoded.ok) throw decoded.error
    expect(decoded.value.version).toBe(2)
    expect(decoded.value.event).toBeInstanceOf(DeliverySkipped)
    expect(decoded.value.event).toMatchObject({
      _tag: "DeliverySkipped",
      messageIds: [a, b],
      statuses: ["unknown", "unknown"],
      reason: "2 of 2 messages already delivered (by another relayer or an earlier flight)",
    })
    // The id stays the one the old record carries, so replays and diffs still match it.
    expect(decoded.value.id).toBe(wireOf(v1Record([a, b])).id)
  })

  it("given a version-1 skip of a commit (no messages), when it is decoded, then its statuses are empty", () => {
    const decoded = decodeRecord(v1Record([]))
    if (!decoded.ok) throw decoded.error
    expect(decoded.value.event).toMatchObject({ messageIds: [], statuses: [] })
  })

  it("given a version-1 record whose messageIds is not a list, when it is decoded, then the schema names the field", () => {
    const record = v1Record([a])
    const wire = wireOf(record)
    const payload = { ...(wire.payload as object), messageIds: "all of them" }
    const broken = {
      ...wire,
      payload,
      id: eventId({ type: "DeliverySkipped", version: 1, causationId: wire.causationId as string, payload }),
    }
    const issues = issuesOf({ key: "777-902", headers: {}, value: bytes(broken) })
    expect(issues.map((i) => i.path)).toContain("payload.messageIds")
  })

  /** The lane the skips below are about (777 → 902, the fixture's outbox). */
  const skipLane = new Lane({
    srcChainId: ChainId.make(777),
    outbox: Address.make(lane.outbox),
    dstChainId: ChainId.make(902),
  })
  /** A skip of a deliver of messages a and b, one delivered and one failed. */
  const skipOfAB = (reason: string) =>
    new DeliverySkipped({
      lane: skipLane,
      action: "deliver",
      messageIds: [MessageId.make(a), MessageId.make(b)],
      statuses: ["delivered", "failed"],
      reason,
    })

  it("writes version 2 with one status per message, and reads it back", () => {
    const event = skipOfAB("2 of 2 messages already delivered")
    const record = encodeEnvelope(makeEnvelope(event, context))
    expect(record.headers["chorus-version"]).toBe("2")
    expect((wireOf(record).payload as { statuses: unknown }).statuses).toEqual(["delivered", "failed"])
    const decoded = decodeRecord(record)
    if (!decoded.ok) throw decoded.error
    expect(decoded.value.event).toEqual(event)
  })

  it("rejects statuses that do not pair up with the message ids, saying so", () => {
    const record = encodeEnvelope(makeEnvelope(skipOfAB("x"), context))
    const wire = wireOf(record)
    const payload = { ...(wire.payload as object), statuses: ["delivered"] }
    const tampered = {
      ...wire,
      payload,
      id: eventId({ type: "DeliverySkipped", version: 2, causationId: null, payload }),
    }
    expect(issuesOf({ key: "777-902", headers: {}, value: bytes(tampered) })).toEqual([
      {
        path: "payload.statuses",
        message:
          "has 1 entries but messageIds has 2: give exactly one status per message id, in the same order",
      },
    ])
  })

  it("refuses to construct a skip whose statuses do not pair up with its message ids", () => {
    expect(
      () =>
        new DeliverySkipped({
          lane: skipLane,
          action: "deliver",
          messageIds: [MessageId.make(a)],
          statuses: [],
          reason: "x",
        }),
    ).toThrow()
  })
})
