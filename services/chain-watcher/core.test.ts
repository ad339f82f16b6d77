import { keccak256, stringToHex } from "viem"
import { describe, expect, it } from "vitest"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  decodeRecord,
  type Envelope,
  EventId,
  encodeEnvelope,
  eventId,
  Hex,
  Message,
  type MessageObserved,
  makeEnvelope,
  OutboxBlock,
  OutboxLaneCount,
  OutboxLog,
  OutboxNonceRead,
  OutboxRangeRead,
  TxHash,
  U256,
  WatcherCursor,
} from "../../schemas/index.ts"
import { messageIdOf } from "../runtime/contract-message.ts"
import { foldCore, producerOf, stampOutputs } from "../runtime/index.ts"
import { makeWatcherCore, type WatcherState } from "./core.ts"

const CHAIN = ChainId.make(901)
const OUTBOX = Address.make(`0x${"0a".repeat(20)}`)
const producer = producerOf("chain-watcher", "901")
const core = makeWatcherCore(CHAIN)

const hashOf = (label: string) => Bytes32.make(keccak256(stringToHex(label)))
/** Block `n` of a chain history named `fork`: another fork gives the same number another hash. */
const block = (n: number, fork = "a") => new BlockRef({ number: n, hash: hashOf(`${fork}-${n}`) })

const message = (nonce: number, dst = 902) =>
  new Message({
    version: 1,
    nonce,
    srcChainId: CHAIN,
    sender: Address.make(`0x${"be".repeat(20)}`),
    dstChainId: ChainId.make(dst),
    recipient: Address.make(`0x${"de".repeat(20)}`),
    gasLimit: U256.make("100000"),
    body: Hex.make(stringToHex(`ping ${nonce}`)),
  })

const withLogs = (n: number, messages: ReadonlyArray<Message>, fork = "a") =>
  new OutboxBlock({
    block: block(n, fork),
    timestamp: 1_700_000_000 + n,
    logs: messages.map(
      (m, i) =>
        new OutboxLog({ transactionHash: TxHash.make(hashOf(`tx-${n}-${i}`)), logIndex: i, message: m }),
    ),
  })

const read = (
  fields: {
    cursorCheck: BlockRef | null
    fromBlock: number
    to: BlockRef
    blocks?: OutboxBlock[]
    lanes?: OutboxLaneCount[] | null
    rpc?: string | null
    resumedBy?: EventId
  },
  time = 1_700_000_000_000 + fields.to.number,
): Envelope<OutboxRangeRead> =>
  makeEnvelope(
    new OutboxRangeRead({
      chainId: CHAIN,
      outbox: OUTBOX,
      cursorCheck: fields.cursorCheck,
      fromBlock: fields.fromBlock,
      to: fields.to,
      blocks: fields.blocks ?? [],
      lanes: fields.lanes ?? null,
      rpc: fields.rpc ?? null,
      ...(fields.resumedBy === undefined ? {} : { resumedBy: fields.resumedBy }),
    }),
    { producer, causationId: null, time: new Date(time) },
  )

/** A lane's Outbox count before the range and at its end. */
const lane = (dst: number, before: number, after: number) =>
  new OutboxLaneCount({ dstChainId: ChainId.make(dst), before, after })

const at = (cursor: BlockRef): WatcherState => ({ cursor, halted: false })

describe("watcher core", () => {
  it("given no cursor, when a read with logs arrives, then one MessageObserved per log in order, then the cursor", () => {
    const input = read({
      cursorCheck: null,
      fromBlock: 0,
      to: block(10),
      blocks: [withLogs(3, [message(0), message(0, 903)]), withLogs(7, [message(1)])],
    })

    const { state, outputs, outcome } = core.decide(core.initial, input)

    expect(outputs.map((e) => e._tag)).toEqual([
      "MessageObserved",
      "MessageObserved",
      "MessageObserved",
      "WatcherCursor",
    ])
    const observed = outputs.slice(0, 3).map((e) => {
      if (e._tag !== "MessageObserved") throw new Error("expected MessageObserved")
      return e
    })
    expect(observed.map((e) => [e.block.number, e.logIndex, e.message.nonce, e.message.dstChainId])).toEqual([
      [3, 0, 0, 902],
      [3, 1, 0, 903],
      [7, 0, 1, 902],
    ])
    for (const e of observed) {
      expect(e.messageId).toBe(messageIdOf(e.message))
      expect(e.outbox).toBe(OUTBOX)
      expect(e.blockTimestamp).toBe(1_700_000_000 + e.block.number)
    }
    expect(outputs[3]).toEqual(new WatcherCursor({ chainId: CHAIN, block: block(10) }))
    expect(state).toEqual({ cursor: block(10), halted: false })
    expect(outcome).toEqual({ kind: "advanced", from: 0, to: block(10), messages: 3 })

    const envelopes = stampOutputs(producer, input, outputs)
    for (const envelope of envelopes) {
      expect(envelope.causationId).toBe(input.id)
      expect(envelope.time).toBe(input.time)
    }
    expect(envelopes[0]!.correlationId).toBe(observed[0]!.messageId)
  })

  it("given a cursor, when the next read confirms it, then it advances; an empty range emits only the cursor", () => {
    const { state, outputs, outcome } = core.decide(
      at(block(10)),
      read({ cursorCheck: block(10), fromBlock: 11, to: block(20) }),
    )

    expect(outputs).toEqual([new WatcherCursor({ chainId: CHAIN, block: block(20) })])
    expect(state.cursor).toEqual(block(20))
    expect(outcome).toMatchObject({ kind: "advanced", messages: 0 })
  })

  it("given a cursor, when the read sees another block at its height, then ChainHalted and the core halts", () => {
    const rewritten = block(10, "b")

    const { state, outputs, outcome } = core.decide(
      at(block(10)),
      read({
        cursorCheck: rewritten,
        fromBlock: 11,
        to: block(20, "b"),
        blocks: [withLogs(12, [message(5)], "b")],
      }),
    )

    expect(outputs).toHaveLength(1)
    const halt = outputs[0]!
    if (halt._tag !== "ChainHalted") throw new Error(`expected ChainHalted, got ${halt._tag}`)
    expect(halt).toMatchObject({
      chainId: CHAIN,
      blockNumber: 10,
      expectedHash: block(10).hash,
      observedHash: rewritten.hash,
    })
    expect(halt.reason).toBe(
      `block 10 was ${block(10).hash} when read, now ${rewritten.hash}: the chain was rewritten below the watcher's cursor (finality violated); stopping`,
    )
    expect(state).toEqual({ cursor: block(10), halted: true })
    expect(outcome.kind).toBe("halted")

    const after = core.decide(state, read({ cursorCheck: block(10), fromBlock: 11, to: block(30) }))
    expect(after.outputs).toEqual([])
    expect(after.outcome.kind).toBe("stale")
  })

  it("given a cursor, when a check-only read (no block covered) shows a rewrite while idle, then it halts", () => {
    const { outputs, outcome } = core.decide(
      at(block(10)),
      read({ cursorCheck: block(10, "b"), fromBlock: 11, to: block(10, "b") }),
    )

    expect(outputs.map((e) => e._tag)).toEqual(["ChainHalted"])
    expect(outcome.kind).toBe("halted")
  })

  it("given a cursor, when a read carries no cursor check, then it halts rather than trust it", () => {
    const { outputs, state } = core.decide(
      at(block(10)),
      read({ cursorCheck: null, fromBlock: 11, to: block(20) }),
    )

    expect(outputs.map((e) => e._tag)).toEqual(["ChainHalted"])
    const halt = outputs[0]!
    if (halt._tag !== "ChainHalted") throw new Error("expected ChainHalted")
    expect(halt.reason).toMatch(/carries no check/)
    expect(state.halted).toBe(true)
  })

  it("given a cursor, when a stale or duplicate read arrives, then nothing is emitted and the state is unchanged", () => {
    const first = read({ cursorCheck: null, fromBlock: 0, to: block(10) })
    const second = read({ cursorCheck: block(10), fromBlock: 11, to: block(20) })
    const after = core.decide(core.decide(core.initial, first).state, second).state

    for (const stale of [
      first,
      second,
      read({ cursorCheck: block(20), fromBlock: 25, to: block(30) }),
      read({ cursorCheck: block(20), fromBlock: 21, to: block(20) }),
    ]) {
      const decision = core.decide(after, stale)
      expect(decision.outputs).toEqual([])
      expect(decision.state).toBe(after)
      expect(decision.outcome.kind).toBe("stale")
    }
  })

  it("ignores reads of another chain", () => {
    const foreign = makeEnvelope(
      new OutboxRangeRead({
        chainId: ChainId.make(902),
        outbox: OUTBOX,
        cursorCheck: null,
        fromBlock: 0,
        to: block(5),
        blocks: [withLogs(1, [message(0)])],
      }),
      { producer, causationId: null, time: new Date(0) },
    )

    const decision = core.decide(core.initial, foreign)

    expect(decision.outputs).toEqual([])
    expect(decision.outcome).toMatchObject({ kind: "ignored" })
  })

  it("replaying the same reads reproduces the same outputs with the same ids", () => {
    const reads = [
      read({
        cursorCheck: null,
        fromBlock: 0,
        to: block(10),
        blocks: [withLogs(4, [message(0), message(1)])],
      }),
      read({ cursorCheck: block(10), fromBlock: 11, to: block(15) }),
      read({ cursorCheck: block(15), fromBlock: 16, to: block(40), blocks: [withLogs(33, [message(2)])] }),
    ]
    const steps = reads.map((input) => ({ input, reads: [] }))

    const live = foldCore(core, producer, steps)
    // Without the runtime's dedup by input id: the core itself must turn redelivered reads into no-ops.
    let state = core.initial
    const replayed: Envelope[] = []
    for (const input of [...reads, ...reads]) {
      const decision = core.decide(state, input)
      state = decision.state
      replayed.push(...stampOutputs(producer, input, decision.outputs))
    }

    expect(replayed.map((e) => e.id)).toEqual(live.outputs.map((e) => e.id))
    expect(replayed).toEqual(live.outputs)
    expect(live.outputs.map((e) => e.type)).toEqual([
      "MessageObserved",
      "MessageObserved",
      "WatcherCursor",
      "WatcherCursor",
      "MessageObserved",
      "WatcherCursor",
    ])
    expect(new Set(live.outputs.map((e) => e.id)).size).toBe(live.outputs.length)
    expect(state).toEqual(live.state)
    expect(live.state).toEqual({ cursor: block(40), halted: false })
  })

  describe("completeness (issue 12)", () => {
    const tags = (outputs: ReadonlyArray<{ _tag: string }>) => outputs.map((e) => e._tag)

    it("given a read whose logs hold every nonce its lane counts name, then it advances and keeps each lane's count at the cursor", () => {
      const input = read({
        cursorCheck: block(10),
        fromBlock: 11,
        to: block(20),
        blocks: [withLogs(12, [message(4), message(0, 903)]), withLogs(15, [message(5)])],
        lanes: [lane(901, 0, 0), lane(902, 4, 6), lane(903, 0, 1)],
      })

      const { state, outputs, outcome } = core.decide(at(block(10)), input)

      expect(tags(outputs)).toEqual([
        "MessageObserved",
        "MessageObserved",
        "MessageObserved",
        "WatcherCursor",
      ])
      expect(outcome).toEqual({ kind: "advanced", from: 11, to: block(20), messages: 3 })
      expect(state.cursor).toEqual(block(20))
      expect(state.lanes).toEqual(
        new Map([
          [901, 0],
          [902, 6],
          [903, 1],
        ]),
      )
    })

    it("given a read whose lane counts name nonces its logs lack (an RPC dropped them), then nothing is emitted, the cursor stays, and the outcome names the missing nonces", () => {
      const before = at(block(10))
      const input = read({
        cursorCheck: block(10),
        fromBlock: 11,
        to: block(20),
        blocks: [withLogs(12, [message(4)]), withLogs(15, [message(6)])],
        lanes: [lane(902, 4, 8), lane(903, 0, 1)],
        rpc: "http://rpc-a.invalid",
      })

      const { state, outputs, outcome } = core.decide(before, input)

      expect(outputs).toEqual([])
      expect(state).toBe(before)
      expect(outcome).toMatchObject({
        kind: "incomplete",
        verdict: {
          kind: "short",
          shortfall: [
            { dstChainId: 902, before: 4, after: 8, missing: [5, 7] },
            { dstChainId: 903, before: 0, after: 1, missing: [0] },
          ],
        },
      })
      expect(outcome.kind === "incomplete" && outcome.reason).toBe(
        "the Outbox counts 3 more messages in blocks 11..20 than the logs hold (lane 902: nonces 5, 7; lane 903: nonce 0) from http://rpc-a.invalid: a short eth_getLogs answer",
      )
    })

    it("given a short read, when the range's complete re-read follows, then its messages are emitted once and the cursor passes the range", () => {
      const blocks = [withLogs(12, [message(0)]), withLogs(13, [message(1)]), withLogs(18, [message(2)])]
      const lanes = [lane(902, 0, 3)]
      const short = read({
        cursorCheck: block(10),
        fromBlock: 11,
        to: block(20),
        blocks: [blocks[1]!],
        lanes,
      })
      const reread = read(
        { cursorCheck: block(10), fromBlock: 11, to: block(20), blocks, lanes, rpc: "http://rpc-b.invalid" },
        1_700_000_000_999,
      )

      const folded = foldCore(core, producer, [
        { input: short, reads: [] },
        { input: reread, reads: [] },
      ])

      expect(folded.outputs.map((e) => e.type)).toEqual([
        "MessageObserved",
        "MessageObserved",
        "MessageObserved",
        "WatcherCursor",
      ])
      expect(folded.outputs.every((e) => e.causationId === reread.id)).toBe(true)
      expect(folded.state.cursor).toEqual(block(20))
    })

    it.each<[string, { blocks?: OutboxBlock[]; lanes: OutboxLaneCount[] }, RegExp]>([
      [
        "a log of a lane the read did not count",
        { blocks: [withLogs(12, [message(0, 904)])], lanes: [lane(902, 0, 0)] },
        /lane 904 nonce 0 .* is of a lane the read did not count/,
      ],
      [
        "a log whose nonce the counts say was not sent in the range",
        { blocks: [withLogs(12, [message(9)])], lanes: [lane(902, 3, 4)] },
        /lane 902 nonce 9 .* is outside the lane's nonces 3\.\.3 in this range/,
      ],
      [
        "a nonce logged twice",
        { blocks: [withLogs(12, [message(3)]), withLogs(13, [message(3)])], lanes: [lane(902, 3, 5)] },
        /repeats a nonce already logged/,
      ],
      ["a count that goes backwards", { lanes: [lane(902, 3, 2)] }, /count goes backwards/],
      [
        "a lane proven at the cursor that the read does not count",
        { lanes: [lane(903, 0, 0)] },
        /lane 902, proven at block 10, is not counted/,
      ],
      [
        "a count before the range unlike the one proven at the cursor",
        { lanes: [lane(902, 2, 2)] },
        /count before the range is 2, but 3 was proven at block 10/,
      ],
    ])(
      "given %s, then the read is not folded: logs and counts contradict each other",
      (_, fields, expected) => {
        const proven: WatcherState = { cursor: block(10), halted: false, lanes: new Map([[902, 3]]) }

        const { state, outputs, outcome } = core.decide(
          proven,
          read({ cursorCheck: block(10), fromBlock: 11, to: block(20), ...fields }),
        )

        expect(outputs).toEqual([])
        expect(state).toBe(proven)
        expect(outcome).toMatchObject({ kind: "incomplete", verdict: { kind: "inconsistent" } })
        expect(outcome.kind === "incomplete" && outcome.reason).toMatch(expected)
      },
    )

    it("given a short read that also shows a rewrite under the cursor, then it halts: the rewrite is checked first", () => {
      const { outcome } = core.decide(
        at(block(10)),
        read({ cursorCheck: block(10, "b"), fromBlock: 11, to: block(20, "b"), lanes: [lane(902, 0, 1)] }),
      )

      expect(outcome.kind).toBe("halted")
    })

    it("given a version-1 read from an older log, when it is decoded, then it carries no counts and is folded as it was when written", () => {
      const payload = {
        _tag: "OutboxRangeRead",
        chainId: 901,
        outbox: OUTBOX,
        cursorCheck: null,
        fromBlock: 0,
        to: { number: 10, hash: block(10).hash },
        blocks: [],
      }
      const current = encodeEnvelope(read({ cursorCheck: null, fromBlock: 0, to: block(10) }))
      const wire = JSON.parse(new TextDecoder().decode(current.value)) as Record<string, unknown>
      const id = eventId({ type: "OutboxRangeRead", version: 1, causationId: null, payload })
      const v1 = { ...wire, id, version: 1, payload }
      const headers = { ...current.headers, "chorus-id": id, "chorus-version": "1" }

      const decoded = decodeRecord({
        ...current,
        headers,
        value: new TextEncoder().encode(JSON.stringify(v1)),
      })

      if (!decoded.ok) throw decoded.error
      expect(decoded.value.version).toBe(2)
      expect(decoded.value.id).toBe(id)
      expect(decoded.value.event).toMatchObject({ _tag: "OutboxRangeRead", lanes: null, rpc: null })
      const { outputs, state } = core.decide(core.initial, decoded.value)
      expect(tags(outputs)).toEqual(["WatcherCursor"])
      expect(state).toEqual({ cursor: block(10), halted: false })
    })
  })
})

describe("watcher core, after a resume", () => {
  const tags = (events: ReadonlyArray<{ readonly _tag: string }>) => events.map((e) => e._tag)
  const RESUME = EventId.make(`0x${"5e".repeat(32)}`)
  const LATER = EventId.make(`0x${"6e".repeat(32)}`)
  // History "a" up to block 20, then rewritten from block 16 on: history "b" shares blocks up to 15.
  const beforeHalt = [
    read({
      cursorCheck: null,
      fromBlock: 0,
      to: block(10),
      lanes: [lane(902, 0, 1)],
      blocks: [withLogs(5, [message(0)])],
    }),
    read({
      cursorCheck: block(10),
      fromBlock: 11,
      to: block(20),
      lanes: [lane(902, 1, 3)],
      blocks: [withLogs(14, [message(1)]), withLogs(18, [message(2)])],
    }),
  ]
  const rewrite = read({ cursorCheck: block(20, "b"), fromBlock: 21, to: block(20, "b") })
  // The watcher restarted from the trusted block 15 (history "a" and "b" agree there): count 2 on lane 902.
  const resumed = read({
    cursorCheck: block(15),
    fromBlock: 16,
    to: block(25, "b"),
    lanes: [lane(902, 2, 3)],
    blocks: [withLogs(19, [message(2)], "b")],
    resumedBy: RESUME,
  })

  it("given a halted state, when a read naming a resume arrives, then it starts from the read's check of the trusted block and the counts there, and every cursor names the resume", () => {
    const halted: WatcherState = { cursor: block(20), halted: true }

    const { state, outputs, outcome } = core.decide(halted, resumed)

    expect(outcome).toEqual({ kind: "advanced", from: 16, to: block(25, "b"), messages: 1 })
    expect(tags(outputs)).toEqual(["MessageObserved", "WatcherCursor"])
    expect(outputs.at(-1)).toEqual(
      new WatcherCursor({ chainId: CHAIN, block: block(25, "b"), resumedBy: RESUME }),
    )
    expect(state).toEqual({
      cursor: block(25, "b"),
      halted: false,
      lanes: new Map([[902, 3]]),
      resumedBy: RESUME,
    })
    // and the next read, naming the same resume, folds on that state as any other
    const next = core.decide(
      state,
      read({
        cursorCheck: block(25, "b"),
        fromBlock: 26,
        to: block(30, "b"),
        lanes: [lane(902, 3, 3)],
        resumedBy: RESUME,
      }),
    )
    expect(next.outputs).toEqual([
      new WatcherCursor({ chainId: CHAIN, block: block(30, "b"), resumedBy: RESUME }),
    ])
  })

  it("given a read naming a resume but no check of the block it starts after, then it is ignored and the state stays", () => {
    const halted: WatcherState = { cursor: block(20), halted: true }
    const { state, outputs, outcome } = core.decide(
      halted,
      read({ cursorCheck: null, fromBlock: 16, to: block(25, "b"), resumedBy: RESUME }),
    )
    expect(outputs).toEqual([])
    expect(state).toBe(halted)
    expect(outcome).toMatchObject({
      kind: "ignored",
      reason: expect.stringMatching(/carries no check of the trusted block/),
    })
  })

  it("given the whole log of a chain halted and resumed twice, when replayed from the start, then it halts where the live watcher halted and resumes where it resumed", () => {
    const second = read({
      cursorCheck: block(25, "c"),
      fromBlock: 26,
      to: block(27, "c"),
      lanes: [lane(902, 3, 3)],
      resumedBy: LATER,
    })
    const log = [
      ...beforeHalt,
      rewrite,
      resumed,
      read({ cursorCheck: block(25, "x"), fromBlock: 26, to: block(25, "x"), resumedBy: RESUME }),
      second,
    ]
    const { outputs, state } = foldCore(
      core,
      producer,
      log.map((input) => ({ input, reads: [] })),
    )

    expect(outputs.map((e) => e.type)).toEqual([
      "MessageObserved",
      "WatcherCursor",
      "MessageObserved",
      "MessageObserved",
      "WatcherCursor",
      "ChainHalted",
      "MessageObserved",
      "WatcherCursor",
      "ChainHalted",
      "WatcherCursor",
    ])
    expect(state).toMatchObject({ cursor: block(27, "c"), halted: false, resumedBy: LATER })
  })
})

describe("watcher core, a targeted re-read of one nonce (issue 12)", () => {
  /** The proof-builder's `LaneStalled` the read answers (its cause). */
  const STALL = EventId.make(`0x${"57".repeat(32)}`)
  const proven: WatcherState = { cursor: block(20), halted: false, lanes: new Map([[902, 4]]) }
  const nonceRead = (fields: {
    readonly cursor: BlockRef
    readonly nonce: number
    readonly found: OutboxBlock | null
    readonly chainId?: number
  }): Envelope<OutboxNonceRead> =>
    makeEnvelope(
      new OutboxNonceRead({
        chainId: ChainId.make(fields.chainId ?? CHAIN),
        outbox: OUTBOX,
        dstChainId: ChainId.make(902),
        nonce: fields.nonce,
        count: 4,
        cursor: fields.cursor,
        fromBlock: 0,
        found: fields.found,
        rpc: null,
      }),
      { producer, causationId: STALL, time: new Date(1_700_000_000_500) },
    )

  it("given a cursor, when a read of a nonce below it finds its log, then one MessageObserved, as a range read would emit it, and the cursor stays", () => {
    // given
    const found = withLogs(13, [message(2)])
    // when
    const { state, outputs, outcome } = core.decide(proven, nonceRead({ cursor: block(20), nonce: 2, found }))
    // then
    expect(outputs.map((e) => e._tag)).toEqual(["MessageObserved"])
    const observed = outputs[0] as MessageObserved
    expect(observed.messageId).toBe(messageIdOf(message(2)))
    expect(observed).toMatchObject({ outbox: OUTBOX, block: block(13), logIndex: 0 })
    // the same event a range read of that block emits, so the same message id and the same fields
    const ranged = core.decide(
      at(block(10)),
      read({ cursorCheck: block(10), fromBlock: 11, to: block(20), blocks: [found] }),
    ).outputs[0]
    expect(observed).toEqual(ranged)
    expect(state).toEqual(proven)
    expect(outcome).toMatchObject({ kind: "nonce-observed", dstChainId: 902, nonce: 2 })
  })

  it.each<[string, WatcherState, Parameters<typeof nonceRead>[0]]>([
    [
      "a read of another chain",
      proven,
      { cursor: block(20), nonce: 2, found: withLogs(13, [message(2)]), chainId: 902 },
    ],
    ["a read that found no log", proven, { cursor: block(20), nonce: 2, found: null }],
    [
      "a read made under another cursor",
      proven,
      { cursor: block(18), nonce: 2, found: withLogs(13, [message(2)]) },
    ],
    [
      "a log above the cursor",
      { cursor: block(12), halted: false },
      { cursor: block(12), nonce: 2, found: withLogs(13, [message(2)]) },
    ],
    [
      "a halted chain",
      { ...proven, halted: true },
      { cursor: block(20), nonce: 2, found: withLogs(13, [message(2)]) },
    ],
    ["no cursor yet", core.initial, { cursor: block(20), nonce: 2, found: withLogs(13, [message(2)]) }],
    [
      "a log of another nonce than the read asked for",
      proven,
      { cursor: block(20), nonce: 1, found: withLogs(13, [message(2)]) },
    ],
  ])("given %s, then nothing is emitted and the state stays", (_, given, fields) => {
    const { state, outputs } = core.decide(given, nonceRead(fields))

    expect(outputs).toEqual([])
    expect(state).toBe(given)
  })

  it("given the reads log with a nonce read between range reads, when replayed, then the same outputs with the same ids, and only range reads move the cursor", () => {
    const reads: Envelope[] = [
      read({ cursorCheck: null, fromBlock: 0, to: block(10), blocks: [withLogs(4, [message(0)])] }),
      nonceRead({ cursor: block(10), nonce: 0, found: withLogs(4, [message(0)]) }),
      read({ cursorCheck: block(10), fromBlock: 11, to: block(20) }),
    ]

    const live = foldCore(
      core,
      producer,
      reads.map((input) => ({ input, reads: [] })),
    )
    const replayed = foldCore(
      core,
      producer,
      reads.map((input) => ({ input, reads: [] })),
    )

    expect(live.outputs.map((e) => e.type)).toEqual([
      "MessageObserved",
      "WatcherCursor",
      "MessageObserved",
      "WatcherCursor",
    ])
    expect(live.outputs[2]!.causationId).toBe(reads[1]!.id)
    expect((live.outputs[2]!.event as MessageObserved).messageId).toBe(
      (live.outputs[0]!.event as MessageObserved).messageId,
    )
    expect(replayed.outputs).toEqual(live.outputs)
    expect(live.state.cursor).toEqual(block(20))
  })
})
