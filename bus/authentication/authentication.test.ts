import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  BlockRef,
  Bytes32,
  ChainId,
  DeadLetter,
  type Envelope,
  encodeEnvelope,
  makeEnvelope,
  Producer,
  WatcherCursor,
} from "../../schemas/index.ts"
import { useEmbeddedBusPerTest } from "../../test/fixtures/embedded-bus.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { waitFor } from "../contract/index.ts"
import { collect } from "../contract/support.ts"
import { DEAD_LETTER_TOPIC } from "../dead-letter.ts"
import { publishEvents, readEvents, subscribeEvents } from "../events/index.ts"
import {
  authenticatedBus,
  checkSignature,
  deriveSigningKey,
  type ProducerGrant,
  producerPolicy,
  signerFromSeed,
  UnauthenticatedRecordError,
  withPlacement,
} from "./index.ts"

const seed = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as const
const watcherKey = signerFromSeed(seed(1))
const operatorA = signerFromSeed(seed(2))
const operatorB = signerFromSeed(seed(3))
const stranger = signerFromSeed(seed(4))

const grants: ReadonlyArray<ProducerGrant> = [
  {
    service: "chain-watcher",
    instance: null,
    publicKey: watcherKey.publicKey,
    topics: new Set([TOPICS.watcherCursors.name, TOPICS.messagesObserved.name, DEAD_LETTER_TOPIC]),
  },
  {
    service: "operator",
    instance: "0xA",
    publicKey: operatorA.publicKey,
    topics: new Set([TOPICS.attestationsSigned.name, DEAD_LETTER_TOPIC]),
  },
  {
    service: "operator",
    instance: "0xB",
    publicKey: operatorB.publicKey,
    topics: new Set([TOPICS.attestationsSigned.name, DEAD_LETTER_TOPIC]),
  },
]
const policy = producerPolicy(grants, [DEAD_LETTER_TOPIC])

const cursor = (
  n: number,
  producer = new Producer({ service: "chain-watcher", instance: "901", version: "0.4.0" }),
) =>
  makeEnvelope(
    new WatcherCursor({
      chainId: ChainId.make(901),
      block: new BlockRef({ number: n, hash: Bytes32.make(seed(n)) }),
    }),
    { producer, causationId: null, time: new Date(1_700_000_000_000 + n) },
  )

/** A record as a producer with `signer` would write it on `topic`. */
const signed = (envelope: Envelope, signer = watcherKey, topic: string = TOPICS.watcherCursors.name) => {
  const record = encodeEnvelope(envelope)
  return { topic, ...record, headers: { ...record.headers, ...signer.sign(topic, record.key, record.value) } }
}

describe("record signatures", () => {
  it("given a signed record, when nothing changed, then it verifies under the key it names", () => {
    expect(checkSignature(signed(cursor(1)))).toEqual({ ok: true, signer: watcherKey.publicKey })
  })

  it("given a signed record, when its value, key or topic changes, then the signature no longer verifies", () => {
    const record = signed(cursor(1))
    const other = encodeEnvelope(cursor(2))
    for (const altered of [
      { ...record, value: other.value },
      { ...record, key: "902" },
      { ...record, key: null },
      { ...record, topic: TOPICS.messagesObserved.name },
    ]) {
      expect(checkSignature(altered)).toMatchObject({ ok: false, reason: "bad-signature" })
    }
  })

  it("given headers that are missing or not keys, then it says unsigned or malformed", () => {
    const record = signed(cursor(1))
    expect(checkSignature({ ...record, headers: {} })).toMatchObject({ ok: false, reason: "unsigned" })
    expect(
      checkSignature({ ...record, headers: { ...record.headers, "chorus-signer": "0x1234" } }),
    ).toMatchObject({ ok: false, reason: "malformed-signature" })
    expect(
      checkSignature({ ...record, headers: { ...record.headers, "chorus-signature": "zz" } }),
    ).toMatchObject({ ok: false, reason: "malformed-signature" })
  })

  it("derives a bus key from a chain key that is stable and never the chain key itself", () => {
    const chainKey = seed(99)
    expect(deriveSigningKey(chainKey)).toBe(deriveSigningKey(chainKey))
    expect(deriveSigningKey(chainKey)).not.toBe(chainKey)
    expect(signerFromSeed(deriveSigningKey(chainKey)).publicKey).toMatch(/^0x[0-9a-f]{64}$/)
  })
})

describe("the producer policy", () => {
  it("given a watcher's record signed by the watcher's key, then it stands", () => {
    expect(policy.authenticate(signed(cursor(1)))).toMatchObject({
      ok: true,
      grant: { service: "chain-watcher" },
    })
  })

  it("given a key no grant lists, then it is an unknown signer", () => {
    expect(policy.authenticate(signed(cursor(1), stranger))).toMatchObject({
      ok: false,
      reason: "unknown-signer",
    })
  })

  it("given a listed key on a topic its service does not write, then the topic is not allowed", () => {
    const onProposals = signed(cursor(1), watcherKey, TOPICS.checkpointsProposed.name)
    expect(policy.authenticate(onProposals)).toMatchObject({ ok: false, reason: "topic-not-allowed" })
  })

  it("given an operator's key writing as another operator, or as a watcher, then the producer does not match", () => {
    const asB = cursor(1, new Producer({ service: "operator", instance: "0xB", version: "0.4.0" }))
    expect(policy.authenticate(signed(asB, operatorA, TOPICS.attestationsSigned.name))).toMatchObject({
      ok: false,
      reason: "producer-mismatch",
    })
    const asA = cursor(1, new Producer({ service: "operator", instance: "0xA", version: "0.4.0" }))
    expect(policy.authenticate(signed(asA, operatorA, TOPICS.attestationsSigned.name))).toMatchObject({
      ok: true,
    })
  })

  it("given an envelope whose producer header was stripped, then it is refused, but a dead letter needs none", () => {
    const record = signed(cursor(1))
    const { "chorus-producer": _, ...headers } = record.headers
    expect(policy.authenticate({ ...record, headers })).toMatchObject({
      ok: false,
      reason: "producer-mismatch",
    })
    const value = new TextEncoder().encode("{}")
    const letter = {
      topic: DEAD_LETTER_TOPIC,
      key: "k",
      value,
      headers: operatorA.sign(DEAD_LETTER_TOPIC, "k", value),
    }
    expect(policy.authenticate(letter)).toMatchObject({ ok: true })
  })
})

describe("the decode edge on an authenticating bus", () => {
  const bus = useEmbeddedBusPerTest(ALL_TOPICS, "chorus-authentication-")

  it("given an unsigned and a foreign-signed record among good ones, when a consumer runs, then it handles only the good ones and dead-letters the rest as unauthenticated", async () => {
    const topic = TOPICS.watcherCursors.name
    const watcher = authenticatedBus(bus(), { signer: watcherKey, policy })
    const hostile = authenticatedBus(bus(), { signer: stranger })
    await publishEvents(bus(), [cursor(1)])
    await publishEvents(hostile, [cursor(2)])
    await publishEvents(watcher, [cursor(3)])

    const handled: number[] = []
    const consumer = authenticatedBus(bus(), { signer: operatorA, policy })
    const sub = await subscribeEvents(consumer, {
      groupId: "chorus.test",
      topics: [topic],
      handler: async (envelope) => {
        handled.push((envelope.event as WatcherCursor).block.number)
      },
    })
    await waitFor("the signed record", () => handled.length === 1, { timeoutMs: 10_000 })
    await waitFor(
      "two dead letters",
      async () => (await collect(bus().read({ topic: DEAD_LETTER_TOPIC, from: "earliest" }))).length === 2,
      { timeoutMs: 10_000 },
    )
    await sub.stop()
    expect(handled).toEqual([3])

    const letters = (await collect(bus().read({ topic: DEAD_LETTER_TOPIC, from: "earliest" }))).map(
      (record) => ({
        record,
        letter: Schema.decodeUnknownSync(DeadLetter)(JSON.parse(new TextDecoder().decode(record.value))),
      }),
    )
    expect(letters.map((l) => [l.letter.source.offset, l.letter.reason])).toEqual([
      [0, "unauthenticated"],
      [1, "unauthenticated"],
    ])
    expect(letters[0]!.letter.error.message).toMatch(/unsigned/)
    expect(letters[1]!.letter.error.message).toMatch(/unknown-signer/)
    // The dead letters are themselves signed by the consumer that wrote them.
    for (const { record } of letters) expect(policy.authenticate(record)).toMatchObject({ ok: true })
  })

  it("given a watcher bound to chain 901, when it writes a cursor of chain 902 under its own name, then readers refuse it as owner-mismatch", async () => {
    const bound = producerPolicy([{ ...grants[0]!, instance: "901" }], [DEAD_LETTER_TOPIC])
    const ofChain = (chainId: number) =>
      makeEnvelope(
        new WatcherCursor({
          chainId: ChainId.make(chainId),
          block: new BlockRef({ number: 1, hash: Bytes32.make(seed(1)) }),
        }),
        {
          producer: new Producer({ service: "chain-watcher", instance: "901", version: "0.4.0" }),
          causationId: null,
          time: new Date(0),
        },
      )
    await publishEvents(authenticatedBus(bus(), { signer: watcherKey }), [ofChain(902), ofChain(901)])
    const read = await collect(
      readEvents(authenticatedBus(bus(), { policy: bound }), {
        topic: TOPICS.watcherCursors.name,
        from: "earliest",
      }),
    )
    const outcomes = read.map((r) => (r.ok ? "ok" : (r.error as UnauthenticatedRecordError).failure))
    expect(outcomes.sort()).toEqual(["ok", "owner-mismatch"])
  })

  it("given a signed record copied onto another partition of its topic, then the copy is refused as misplaced and the original stands", async () => {
    const topic = TOPICS.watcherCursors.name
    const [original] = await publishEvents(authenticatedBus(bus(), { signer: watcherKey }), [cursor(1)])
    const [record] = await collect(bus().read({ topic, from: "earliest", partitions: [original!.partition] }))
    const count = await bus().partitions(topic)
    const elsewhere = (original!.partition + 1) % count
    await bus().publish([
      { topic, key: record!.key, value: record!.value, headers: record!.headers, partition: elsewhere },
    ])
    const placed = withPlacement(policy, new Map([[topic, count]]))
    const read = await collect(
      readEvents(authenticatedBus(bus(), { policy: placed }), { topic, from: "earliest" }),
    )
    const outcomes = read.map((r) => [
      r.record.partition,
      r.ok ? "ok" : (r.error as UnauthenticatedRecordError).failure,
    ])
    expect(outcomes.sort()).toEqual(
      [
        [original!.partition, "ok"],
        [elsewhere, "misplaced"],
      ].sort(),
    )
  })

  it("given a forged record, when a reader reads the range, then it gets a failure naming why, not the event", async () => {
    await publishEvents(bus(), [cursor(1)])
    await publishEvents(authenticatedBus(bus(), { signer: watcherKey }), [cursor(2)])
    const reader = authenticatedBus(bus(), { policy })
    const read = await collect(readEvents(reader, { topic: TOPICS.watcherCursors.name, from: "earliest" }))
    expect(read[0]).toMatchObject({ ok: false })
    expect(read[0]!.ok ? undefined : read[0]!.error).toBeInstanceOf(UnauthenticatedRecordError)
    expect(read[1]).toMatchObject({ ok: true })
  })
})

describe("the bytes a record signature covers", () => {
  it("are the same as every earlier Chorus signed: fixed vectors (Ed25519 signs deterministically)", () => {
    const signer = signerFromSeed(`0x${"11".repeat(32)}`)
    const text = (s: string) => new TextEncoder().encode(s)
    expect(signer.publicKey).toBe("0xd04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737")
    expect(signer.sign(TOPICS.watcherCursors.name, "901", text('{"a":1}'))["chorus-signature"]).toBe(
      "0x80c588352148c93f2334de1bdb538fdcef0c78d2e1c714b0364b3dfe72be405b85b96e5c6973795c2cc794f7ec3ec010436e7114f7b2282c41f13cbe15859f0b",
    )
    expect(signer.sign(DEAD_LETTER_TOPIC, null, text(""))["chorus-signature"]).toBe(
      "0x9e9333f95ba2c9b09893b55fd8b0d6132d5f9cdd8fbd1f398de9551dcc133417380bd23e41e5098a0d457d0bc1cb3246327d5269d4184f0f358d0a4773b59704",
    )
    expect(
      signer.sign(TOPICS.messagesObserved.name, "clé-€", text("x".repeat(300)))["chorus-signature"],
    ).toBe(
      "0x9638de2048ca08fe47466c7bb1854b7fedb012eec0c5276e2ced68dfb14b10510d909c57ca25543c5632a52498e0d316c4bab9f7bee6409689db188005b71909",
    )
  })
})
