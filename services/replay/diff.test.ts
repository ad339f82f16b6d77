import { describe, expect, it } from "vitest"
import {
  Address,
  AttestationSigned,
  BlockRef,
  Bytes32,
  ChainId,
  Checkpoint,
  CheckpointProposed,
  type Envelope,
  EventId,
  Hex,
  MessageId,
  MessageProven,
  makeEnvelope,
} from "../../schemas/index.ts"
import { testMessage } from "../../test/fixtures/message.ts"
import { producerOf } from "../runtime/index.ts"
import { diffEvents, diffFields } from "./diff.ts"

const builder = producerOf("proof-builder", "proof-builder")
const T0 = Date.parse("2026-01-01T00:00:00.000Z")
const OUTBOX = Address.make("0x00000000000000000000000000000000000a11ce")
const hash = (n: number) => Bytes32.make(`0x${n.toString(16).padStart(64, "0")}`)
const idOf = (n: number) => MessageId.make(`0x${(0xa000 + n).toString(16).padStart(64, "0")}`)
const cause = (n: number) => EventId.make(`0x${(0xc000 + n).toString(16).padStart(64, "0")}`)

const checkpoint = (count: number) =>
  new Checkpoint({
    srcChainId: ChainId.make(901),
    outbox: OUTBOX,
    dstChainId: ChainId.make(902),
    root: hash(count),
    count,
  })

/** A range proof of messages `[start, start + n)` of lane 901 → 902, derived from input `from`. */
const proven = (options: { start: number; n: number; from: number; proof?: ReadonlyArray<number> }) =>
  makeEnvelope(
    new MessageProven({
      checkpoint: checkpoint(12),
      kind: "range",
      start: options.start,
      messages: Array.from({ length: options.n }, (_, i) =>
        testMessage({ nonce: options.start + i, body: `m${options.start + i}` }),
      ),
      messageIds: Array.from({ length: options.n }, (_, i) => idOf(options.start + i)),
      proof: (options.proof ?? [1, 2, 3]).map(hash),
    }),
    { producer: builder, causationId: cause(options.from), time: new Date(T0 + options.from) },
  )

const proposed = (from: number, count: number) =>
  makeEnvelope(
    new CheckpointProposed({
      checkpoint: checkpoint(count),
      previousCount: 0,
      block: new BlockRef({ number: 7, hash: hash(7) }),
    }),
    { producer: builder, causationId: cause(from), time: new Date(T0 + from) },
  )

const kinds = (envelopes: ReturnType<typeof diffEvents>) => envelopes.differences.map((d) => d.kind)

describe("diffEvents", () => {
  it("given the same events on both sides, when diffed, then nothing differs", () => {
    const events = [proposed(1, 12), proven({ start: 0, n: 4, from: 1 })]
    const diff = diffEvents(events, [...events].reverse())
    expect(diff.differences).toEqual([])
    expect(diff.counts).toMatchObject({
      production: 2,
      shadow: 2,
      identical: 2,
      changed: 0,
      missing: 0,
      extra: 0,
    })
  })

  it("given a copy republished in production, when diffed, then the copy is counted, not reported", () => {
    const event = proven({ start: 0, n: 4, from: 1 })
    const diff = diffEvents([event, event], [event])
    expect(diff.differences).toEqual([])
    expect(diff.counts).toMatchObject({ identical: 1, productionDuplicates: 1, shadowDuplicates: 0 })
  })

  it("given an event only production wrote, when diffed, then it is missing and names its messages", () => {
    const gone = proven({ start: 4, n: 2, from: 2 })
    const diff = diffEvents([proposed(1, 12), gone], [proposed(1, 12)])
    expect(kinds(diff)).toEqual(["missing"])
    const [missing] = diff.differences
    expect(missing).toMatchObject({ kind: "missing", production: { id: gone.id } })
    expect(missing!.messages).toEqual([idOf(4), idOf(5)])
    expect(diff.counts).toMatchObject({ identical: 1, missing: 1, extra: 0, changed: 0 })
  })

  it("given an event only the shadow wrote, when diffed, then it is extra and names its messages", () => {
    const added = proven({ start: 0, n: 1, from: 3 })
    const diff = diffEvents([], [added])
    expect(diff.differences).toEqual([{ kind: "extra", shadow: added, messages: [idOf(0)] }])
  })

  it("given the same cause, type and key with other content, when diffed, then it is changed with field paths", () => {
    const before = proven({ start: 0, n: 2, from: 1, proof: [1, 2, 3] })
    const after = proven({ start: 0, n: 3, from: 1, proof: [1, 9, 3] })
    const diff = diffEvents([before], [after])
    expect(kinds(diff)).toEqual(["changed"])
    const changed = diff.differences[0]!
    if (changed.kind !== "changed") throw new Error("expected a changed event")
    expect(changed.production.id).toBe(before.id)
    expect(changed.shadow.id).toBe(after.id)
    const paths = changed.fields.map((f) => f.path)
    expect(paths).toContain("proof[1]")
    expect(paths).toContain("messageIds[2]")
    expect(paths).toContain("messages[2]")
    expect(changed.fields.find((f) => f.path === "proof[1]")).toEqual({
      path: "proof[1]",
      production: hash(2),
      shadow: hash(9),
    })
    expect(changed.fields.find((f) => f.path === "messageIds[2]")).toEqual({
      path: "messageIds[2]",
      production: undefined,
      shadow: idOf(2),
    })
    expect(changed.messages).toEqual([idOf(0), idOf(1), idOf(2)])
  })

  it("given one chunk in production and three in the shadow for one input, when diffed, then the first pairs and the rest are extra", () => {
    const whole = proven({ start: 0, n: 6, from: 1 })
    const chunks = [0, 2, 4].map((start) => proven({ start, n: 2, from: 1 }))
    const diff = diffEvents([whole], chunks)
    expect(kinds(diff)).toEqual(["changed", "extra", "extra"])
    const [changed] = diff.differences
    expect(changed).toMatchObject({
      kind: "changed",
      production: { id: whole.id },
      shadow: { id: chunks[0]!.id },
    })
    expect(diff.counts).toMatchObject({ changed: 1, extra: 2, missing: 0, identical: 0 })
  })

  it("given events of different causes, when diffed, then they are never paired", () => {
    const diff = diffEvents([proven({ start: 0, n: 2, from: 1 })], [proven({ start: 0, n: 2, from: 2 })])
    expect(kinds(diff)).toEqual(["missing", "extra"])
  })

  it("given a resolver, when diffed, then each difference names what it resolves", () => {
    const gone = proposed(1, 12)
    const diff = diffEvents([gone], [], { messagesOf: (e: Envelope) => (e.id === gone.id ? [idOf(7)] : []) })
    expect(diff.differences[0]!.messages).toEqual([idOf(7)])
  })
})

describe("diffFields", () => {
  it("given nested objects and arrays, when compared, then each differing leaf is named by its path", () => {
    expect(
      diffFields(
        { checkpoint: { root: "0x1", count: 3 }, proof: ["a", "b"], kind: "range" },
        { checkpoint: { root: "0x2", count: 3 }, proof: ["a"], kind: "range", extra: true },
      ),
    ).toEqual([
      { path: "checkpoint.root", production: "0x1", shadow: "0x2" },
      { path: "extra", production: undefined, shadow: true },
      { path: "proof[1]", production: "b", shadow: undefined },
    ])
  })

  it("given equal values, when compared, then there is no difference", () => {
    expect(diffFields({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toEqual([])
  })

  describe("a shadow that signs with a throwaway key", () => {
    const operator = producerOf("operator", "0x000000000000000000000000000000000000000a")
    const signed = (root: number, signature: string) =>
      makeEnvelope(
        new AttestationSigned({
          checkpoint: new Checkpoint({ ...checkpoint(12), root: hash(root) }),
          epoch: 1,
          digest: hash(0xd),
          operator: Address.make("0x000000000000000000000000000000000000000a"),
          signature: Hex.make(signature),
        }),
        { producer: operator, causationId: cause(1), time: new Date(T0) },
      )
    const resigned = { AttestationSigned: ["signature"] }

    it("given production and shadow signatures over the same checkpoint, then they are identical", () => {
      const diff = diffEvents([signed(12, `0x${"11".repeat(65)}`)], [signed(12, `0x${"22".repeat(65)}`)], {
        resigned,
      })
      expect(diff.counts).toMatchObject({ identical: 1, changed: 0, missing: 0, extra: 0 })
      expect(diff.differences).toEqual([])
    })

    it("given a shadow signature over another root, then it is changed, naming the root and not the signature", () => {
      const diff = diffEvents([signed(12, `0x${"11".repeat(65)}`)], [signed(13, `0x${"22".repeat(65)}`)], {
        resigned,
      })
      expect(diff.counts).toMatchObject({ identical: 0, changed: 1 })
      const [difference] = diff.differences
      expect(difference!.kind === "changed" && difference!.fields.map((f) => f.path)).toEqual([
        "checkpoint.root",
      ])
    })
  })
})
