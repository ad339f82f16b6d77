import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  BlockRef,
  Bytes32,
  ChainId,
  DeadLetter,
  type Envelope,
  makeEnvelope,
  Producer,
  WatcherCursor,
} from "../../schemas/index.ts"
import { useEmbeddedBusPerTest } from "../../test/fixtures/embedded-bus.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { waitFor } from "../contract/index.ts"
import { collect } from "../contract/support.ts"
import { subscribeDecoding } from "../dead-letter.ts"
import {
  assertDeclared,
  isShadowSuffix,
  parseShadowTopic,
  publishEvents,
  readEvents,
  shadowTopicName,
  subscribeEvents,
  UndeclaredTopicError,
} from "./index.ts"

const producer = new Producer({ service: "chain-watcher", instance: "w-1", version: "0.1.0" })
const cursorAt = (n: number) =>
  makeEnvelope(
    new WatcherCursor({
      chainId: ChainId.make(901),
      block: new BlockRef({ number: n, hash: Bytes32.make(`0x${n.toString(16).padStart(64, "0")}`) }),
    }),
    { producer, causationId: null, time: new Date(1_700_000_000_000 + n) },
  )

describe("events on the bus", () => {
  const bus = useEmbeddedBusPerTest(ALL_TOPICS, "chorus-events-")
  /** What a watcher's consumer of `topic` handles until it has handled one record. */
  const handledUntilOne = async (topic: string): Promise<Envelope[]> => {
    const handled: Envelope[] = []
    const sub = await subscribeEvents(bus(), {
      groupId: "chorus.chain-watcher.901",
      topics: [topic],
      handler: async (envelope) => {
        handled.push(envelope)
      },
    })
    await waitFor("a record handled after the bad one", () => handled.length === 1, { timeoutMs: 10_000 })
    await sub.stop()
    return handled
  }
  const deadLetters = async (): Promise<DeadLetter[]> =>
    (await collect(bus().read({ topic: TOPICS.deadLetters.name, from: "earliest" }))).map((record) =>
      Schema.decodeUnknownSync(DeadLetter)(JSON.parse(new TextDecoder().decode(record.value))),
    )

  it("publishes on the declared topic under the event's key, and reads it back decoded", async () => {
    const [position] = await publishEvents(bus(), [cursorAt(7)])
    expect(position!.topic).toBe(TOPICS.watcherCursors.name)
    const read: Envelope[] = []
    for await (const item of readEvents(bus(), { topic: TOPICS.watcherCursors.name, from: "earliest" })) {
      if (item.ok) read.push(item.envelope)
      expect(item.record.key).toBe("901")
    }
    expect(read).toEqual([cursorAt(7)])
  })

  it("dead-letters a malformed record with the field and reason, and carries on", async () => {
    const topic = TOPICS.watcherCursors.name
    const good = cursorAt(1)
    const broken = JSON.stringify({ ...JSON.parse(JSON.stringify({ id: good.id })), type: "WatcherCursor" })
    await bus().publish([
      { topic, key: "901", value: new TextEncoder().encode(broken), headers: { "x-origin": "test" } },
    ])
    await publishEvents(bus(), [good])

    const handled = await handledUntilOne(topic)
    expect(handled[0]!.id).toBe(good.id)

    const letters = await deadLetters()
    expect(letters).toHaveLength(1)
    const letter = letters[0]!
    expect(letter.source).toMatchObject({ topic, offset: 0 })
    expect(letter.consumer.groupId).toBe("chorus.chain-watcher.901")
    expect(Buffer.from(letter.raw.valueBase64, "base64").toString("utf8")).toBe(broken)
    expect(letter.raw.headers).toEqual({ "x-origin": "test" })
    expect(letter.error.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(["version", "time", "producer", "correlationId", "causationId"]),
    )
    expect(letter.error.message).toMatch(/Not a valid Chorus event/)
  })

  it("dead-letters a record whose payload no id can be derived from (a number JSON reads as infinite), and carries on", async () => {
    const topic = TOPICS.watcherCursors.name
    const good = cursorAt(2)
    const [encoded] = [cursorAt(1)].map((e) => JSON.stringify({ ...e, payload: undefined }))
    const hostile = encoded!.replace(/\}$/, ',"payload":{"extra":1e999}}')
    await bus().publish([{ topic, key: "901", value: new TextEncoder().encode(hostile), headers: {} }])
    await publishEvents(bus(), [good])

    const handled = await handledUntilOne(topic)
    expect(handled[0]!.id).toBe(good.id)
    const letters = await deadLetters()
    expect(letters).toHaveLength(1)
    const letter = letters[0]!
    expect(letter.source).toMatchObject({ topic, offset: 0 })
    expect(letter.error.issues).toEqual([expect.objectContaining({ path: "payload" })])
  })

  it("dead-letters a record whose decode throws, naming the throw, and carries on (a redelivery would throw again)", async () => {
    const topic = TOPICS.watcherCursors.name
    await publishEvents(bus(), [cursorAt(1), cursorAt(2)])
    const handled: number[] = []
    const sub = await subscribeDecoding(bus(), {
      groupId: "chorus.chain-watcher.901",
      topics: [topic],
      decode: (record) => {
        if (record.offset === 0) throw new RangeError("Maximum call stack size exceeded")
        return { ok: true, value: record.offset }
      },
      handler: async (offset) => {
        handled.push(offset)
      },
    })
    await waitFor("the record after the one whose decode threw", () => handled.length === 1, {
      timeoutMs: 10_000,
    })
    await sub.stop()
    expect(handled).toEqual([1])
    const [letter] = await deadLetters()
    expect(letter!.source).toMatchObject({ topic, offset: 0 })
    expect(letter.error.message).toMatch(
      /decoding the record threw \(RangeError: Maximum call stack size exceeded\)/,
    )
  })

  it("refuses to subscribe to or read a topic the topology does not declare", async () => {
    await expect(
      subscribeEvents(bus(), { groupId: "g", topics: ["chorus.typo"], handler: async () => {} }),
    ).rejects.toBeInstanceOf(UndeclaredTopicError)
    const reading = async () => {
      for await (const _ of readEvents(bus(), { topic: "chorus.typo", from: "earliest" })) {
        // unreachable
      }
    }
    await expect(reading()).rejects.toThrow(/not declared in topology/)
  })

  it("reads a shadow of a declared topic", async () => {
    const shadow = shadowTopicName("fix-1", TOPICS.watcherCursors.name)
    await bus().ensureTopics([{ ...TOPICS.watcherCursors, name: shadow }])
    const event = cursorAt(3)
    const [position] = await publishEvents(bus(), [event])
    const record = (await collect(bus().read({ topic: position!.topic, from: "earliest" })))[0]!
    await bus().publish([{ topic: shadow, key: record.key, value: record.value, headers: record.headers }])
    const read = await collect(readEvents(bus(), { topic: shadow, from: "earliest" }))
    expect(read.map((r) => (r.ok ? r.envelope : r.error))).toEqual([event])
  })
})

describe("shadow topic names", () => {
  it("names a shadow shadow.<suffix>.<topic> and takes it apart again", () => {
    const name = shadowTopicName("proof-builder-20261121T160200", "chorus.checkpoints.proposed")
    expect(name).toBe("shadow.proof-builder-20261121T160200.chorus.checkpoints.proposed")
    expect(parseShadowTopic(name)).toEqual({
      suffix: "proof-builder-20261121T160200",
      topic: "chorus.checkpoints.proposed",
    })
  })

  it("refuses a suffix that would make the name ambiguous or illegal", () => {
    for (const bad of ["", "a.b", "-x", "x y", "é", "x".repeat(101)]) {
      expect(isShadowSuffix(bad), bad).toBe(false)
      expect(() => shadowTopicName(bad, TOPICS.messagesProven.name), bad).toThrow(
        /letters, digits and dashes/,
      )
    }
  })

  it("does not take a production name, or a shadow without a topic, for a shadow", () => {
    expect(parseShadowTopic("chorus.messages.proven")).toBeUndefined()
    expect(parseShadowTopic("shadow.fix-1")).toBeUndefined()
    expect(parseShadowTopic("shadow..chorus.messages.proven")).toBeUndefined()
    expect(parseShadowTopic("shadow.fix-1.")).toBeUndefined()
  })

  it("declares the shadow of a declared topic, and nothing else", () => {
    expect(() => assertDeclared("shadow.fix-1.chorus.messages.proven")).not.toThrow()
    expect(() => assertDeclared("shadow.fix-1.chorus.typo")).toThrow(UndeclaredTopicError)
    expect(() => assertDeclared("shadow.fix-1.manifest")).toThrow(UndeclaredTopicError)
    expect(() => assertDeclared("shadow.chorus.messages.proven")).toThrow(UndeclaredTopicError)
    expect(() => assertDeclared("chorus.typo")).toThrow(/not declared in topology/)
  })
})
