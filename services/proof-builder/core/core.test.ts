import type { Hex } from "viem"
import { describe, expect, it } from "vitest"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  type CheckpointProposed,
  type Envelope,
  type LaneStalled,
  MessageId,
  MessageObserved,
  type MessageProven,
  makeEnvelope,
  OutboxLaneRead,
  TxHash,
} from "../../../schemas/index.ts"
import { testMessage } from "../../../test/fixtures/message.ts"
import { provenVerifies } from "../../../test/fixtures/proven.ts"
import { foldCore, producerOf, stampOutputs } from "../../runtime/index.ts"
import { createMerkleTree, getRoot } from "../merkle/index.ts"
import {
  computeMessageId,
  InvalidChunkSizeError,
  makeProofBuilderCore,
  PROOF_BUILDER_READER,
  type ProofBuilderCore,
  type ProofBuilderState,
  type ReadPlan,
} from "./index.ts"

// ---- fixtures: one lane 901 -> 902, a fake Outbox that answers reads from the messages it holds per block ----

const SRC = 901
const DST = 902
const OUTBOX = Address.make("0x00000000000000000000000000000000000a11ce")
const watcher = producerOf("chain-watcher", String(SRC))
const builder = producerOf("proof-builder", "proof-builder")
const T0 = Date.parse("2026-01-01T00:00:00.000Z")

const hashOf = (n: number, fork = 0) =>
  Bytes32.make(`0x${fork.toString(16).padStart(8, "0")}${n.toString(16).padStart(56, "0")}`)
const blockAt = (n: number, fork = 0) => new BlockRef({ number: n, hash: hashOf(n, fork) })

const messageAt = (nonce: number, body = `ping ${nonce}`) =>
  testMessage({ nonce, body, srcChainId: SRC, dstChainId: DST })

/** A message as the chain-watcher reports it, in `block`. */
const observed = (
  nonce: number,
  block: number,
  options: { body?: string; outbox?: Address; fork?: number; messageId?: MessageId } = {},
) => {
  const message = messageAt(nonce, options.body)
  const computed = computeMessageId(message)
  if (!computed.ok) throw new Error(computed.reason)
  return new MessageObserved({
    message,
    messageId: options.messageId ?? MessageId.make(computed.id),
    outbox: options.outbox ?? OUTBOX,
    block: blockAt(block, options.fork),
    blockTimestamp: 1_700_000_000 + block,
    transactionHash: TxHash.make(`0x${(1000 + nonce).toString(16).padStart(64, "0")}`),
    logIndex: 0,
  })
}

let sequence = 0
/** The input envelope, as the watcher publishes it (a distinct cause per publication). */
const input = (event: MessageObserved): Envelope =>
  makeEnvelope(event, {
    producer: watcher,
    causationId: null,
    time: new Date(T0 + sequence++ * 1000),
  })
const republished = (event: MessageObserved, cause: Envelope): Envelope =>
  makeEnvelope(event, { producer: watcher, causationId: cause.id, time: new Date(T0) })

/** The source chain's truth: which of the lane's messages each block holds. */
const fakeOutbox = (sent: ReadonlyArray<MessageObserved>, options: { fork?: number } = {}) => ({
  read: (block: BlockRef, observedInput: Envelope): Envelope => {
    const held = sent.filter((m) => m.block.number <= block.number).map((m) => m.messageId as Hex)
    const read = new OutboxLaneRead({
      reader: PROOF_BUILDER_READER,
      srcChainId: ChainId.make(SRC),
      outbox: OUTBOX,
      dstChainId: ChainId.make(DST),
      block: blockAt(block.number, options.fork),
      finalized: blockAt(block.number + 2, options.fork),
      root: Bytes32.make(getRoot(createMerkleTree(held))),
      count: held.length,
    })
    return makeEnvelope(read, { producer: builder, causationId: observedInput.id, time: new Date(T0) })
  },
})

type Step = { readonly input: Envelope; readonly reads: ReadonlyArray<Envelope> }

/**
 * Runs inputs the way the lane runtime does: plan the read, make it on the fake Outbox, decide, stamp.
 * `from` is advanced in place (lanes are updated in place), so pass each state on once.
 */
const handle = (
  core: ProofBuilderCore,
  outbox: ReturnType<typeof fakeOutbox>,
  inputs: ReadonlyArray<Envelope>,
  from: ProofBuilderState = core.initial,
) => {
  let state = from
  const steps: Step[] = []
  const plans: ReadPlan["kind"][] = []
  const outputs: Envelope[] = []
  for (const envelope of inputs) {
    const plan = core.planRead(state, envelope)
    plans.push(plan.kind)
    const reads = plan.kind === "read" ? [outbox.read(plan.block, envelope)] : []
    steps.push({ input: envelope, reads })
    const decision = core.decide(state, envelope, reads)
    state = decision.state
    outputs.push(...stampOutputs(builder, envelope, decision.outputs))
  }
  return { state, outputs, steps, plans }
}

const ofType = <T>(outputs: ReadonlyArray<Envelope>, type: string) =>
  outputs.filter((o) => o.type === type).map((o) => o.event as T)
const proposals = (outputs: ReadonlyArray<Envelope>) =>
  ofType<CheckpointProposed>(outputs, "CheckpointProposed")
const proofs = (outputs: ReadonlyArray<Envelope>, kind: "range" | "single") =>
  ofType<MessageProven>(outputs, "MessageProven").filter((p) => p.kind === kind)
const stalls = (outputs: ReadonlyArray<Envelope>) => ofType<LaneStalled>(outputs, "LaneStalled")

const laneState = (state: ProofBuilderState) => [...state.lanes.values()][0]!

// ---- the scenarios ----

describe("proof-builder core", () => {
  // Block 10 holds nonces 0..4; blocks 11 and 12 hold 5 and 6.
  const sent = [0, 1, 2, 3, 4].map((n) => observed(n, 10)).concat([observed(5, 11), observed(6, 12)])

  it("proposes once a block's messages are all in the tree, with range and single proofs that verify", () => {
    // given a core with chunks of 2 and an Outbox holding nonces 0..4 in block 10
    const core = makeProofBuilderCore({ chunkSize: 2 })
    const outbox = fakeOutbox(sent)
    // when the five messages of block 10 are observed in order
    const run = handle(core, outbox, sent.slice(0, 5).map(input))
    // then the Outbox is read once (at the first message) and that read serves the rest of the block
    expect(run.plans).toEqual(["read", "reuse", "reuse", "reuse", "reuse"])
    expect(run.steps[0]!.reads[0]!.event).toMatchObject({ count: 5, block: { number: 10 } })
    // and nothing is proposed until the fifth message, then one checkpoint of 5 at block 10
    const byInput = run.steps.map((s) => run.outputs.filter((o) => o.causationId === s.input.id))
    expect(byInput.slice(0, 4).every((o) => o.length === 0)).toBe(true)
    const [proposal] = proposals(run.outputs)
    expect(proposals(run.outputs)).toHaveLength(1)
    expect(proposal!.checkpoint).toMatchObject({ srcChainId: SRC, outbox: OUTBOX, dstChainId: DST, count: 5 })
    expect(proposal!.checkpoint.root).toBe(
      getRoot(createMerkleTree(sent.slice(0, 5).map((m) => m.messageId as Hex))),
    )
    expect(proposal!.previousCount).toBe(0)
    expect(proposal!.block).toEqual(blockAt(10))
    // and the proposal comes first, then chunks [0,2) [2,4) [4,5), then a single proof per message
    expect(
      byInput[4]!.map((o) => (o.type === "MessageProven" ? (o.event as MessageProven).kind : o.type)),
    ).toEqual([
      "CheckpointProposed",
      "range",
      "range",
      "range",
      "single",
      "single",
      "single",
      "single",
      "single",
    ])
    const ranges = proofs(run.outputs, "range")
    expect(ranges.map((r) => [r.start, r.messages.length])).toEqual([
      [0, 2],
      [2, 2],
      [4, 1],
    ])
    const singles = proofs(run.outputs, "single")
    expect(singles.map((s) => s.start)).toEqual([0, 1, 2, 3, 4])
    for (const proven of [...ranges, ...singles]) {
      expect(proven.checkpoint).toEqual(proposal!.checkpoint)
      expect(proven.messages.map((m) => m.nonce)).toEqual(proven.messageIds.map((_, i) => proven.start + i))
      expect(proven.messages.map((m) => (computeMessageId(m) as { id: string }).id)).toEqual(
        proven.messageIds,
      )
      expect(provenVerifies(proven)).toBe(true)
    }
    // a tampered proof does not verify (the check above can fail)
    expect(
      provenVerifies({
        ...ranges[1]!,
        messageIds: [ranges[1]!.messageIds[1]!, ranges[1]!.messageIds[0]!],
      } as MessageProven),
    ).toBe(false)
  })

  it("proposes the next checkpoint from the previous count, with chunks aligned on it", () => {
    // given a lane proposed at count 5
    const core = makeProofBuilderCore({ chunkSize: 4 })
    const outbox = fakeOutbox(sent)
    const first = handle(core, outbox, sent.slice(0, 5).map(input))
    // when nonces 5 (block 11) and 6 (block 12) are observed
    const next = handle(core, outbox, sent.slice(5).map(input), first.state)
    // then each block is read and proposed: [5, 6) and [6, 7)
    expect(next.plans).toEqual(["read", "read"])
    expect(proposals(next.outputs).map((p) => [p.previousCount, p.checkpoint.count, p.block.number])).toEqual(
      [
        [5, 6, 11],
        [6, 7, 12],
      ],
    )
    expect(
      proofs(next.outputs, "range").map((r) => [r.start, r.messages.length, r.checkpoint.count]),
    ).toEqual([
      [5, 1, 6],
      [6, 1, 7],
    ])
    expect(proofs(next.outputs, "range").every(provenVerifies)).toBe(true)
    expect(laneState(next.state).lastProposed).toBe(7)
  })

  it("keeps messages above a gap waiting, reports the gap once, and proposes when it closes", () => {
    // given an Outbox with nonce 0 in block 10, 1 in block 11, 2 and 3 in block 12, 4 in block 13
    const chain = [observed(0, 10), observed(1, 11), observed(2, 12), observed(3, 12), observed(4, 13)]
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox(chain)
    // when they are observed as 0, 2, 3, 4 — nonce 1 missing
    const early = handle(core, outbox, [chain[0]!, chain[2]!, chain[3]!, chain[4]!].map(input))
    // then 0 is proposed, the rest waits without a read, and the gap is reported once
    expect(early.plans).toEqual(["read", "none", "none", "none"])
    expect(proposals(early.outputs).map((p) => p.checkpoint.count)).toEqual([1])
    const gap = stalls(early.outputs)
    expect(gap).toHaveLength(1)
    expect(gap[0]!).toMatchObject({ reason: "nonce-gap", treeCount: 1 })
    expect(gap[0]!.detail).toMatch(/^waiting for nonce 1; have 1 contiguous message and 1 waiting/)
    expect(laneState(early.state).waiting.size).toBe(3)
    // when nonce 1 arrives
    const closed = handle(core, outbox, [input(chain[1]!)], early.state)
    // then the tree takes 1..4 at once, is read at the newest message's block, and proposes [1, 5)
    expect(closed.steps[0]!.reads[0]!.event).toMatchObject({ count: 5, block: { number: 13 } })
    expect(proposals(closed.outputs).map((p) => [p.previousCount, p.checkpoint.count])).toEqual([[1, 5]])
    expect(stalls(closed.outputs)).toEqual([])
    expect(laneState(closed.state).waiting.size).toBe(0)
    expect(proofs(closed.outputs, "single").map((s) => s.start)).toEqual([1, 2, 3, 4])
  })

  it("reports a new gap when a partly closed gap leaves another one", () => {
    // given nonces 0..4, one per block, observed as 0, 2, 4
    const chain = [0, 1, 2, 3, 4].map((n) => observed(n, 10 + n))
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox(chain)
    const early = handle(core, outbox, [chain[0]!, chain[2]!, chain[4]!].map(input))
    expect(stalls(early.outputs).map((s) => s.treeCount)).toEqual([1])
    // when nonce 1 arrives
    const partly = handle(core, outbox, [input(chain[1]!)], early.state)
    // then 1 and 2 are proposed and the gap at 3 is reported, after the proposal's events
    expect(proposals(partly.outputs).map((p) => p.checkpoint.count)).toEqual([3])
    expect(partly.outputs.at(-1)!.type).toBe("LaneStalled")
    expect(stalls(partly.outputs)).toMatchObject([{ reason: "nonce-gap", treeCount: 3 }])
    expect(stalls(partly.outputs)[0]!.detail).toContain("waiting for nonce 3")
  })

  it("treats a message seen again as a no-op, in the tree or waiting", () => {
    // given a lane with nonces 0 in the tree and 2 waiting
    const chain = [observed(0, 10), observed(1, 11), observed(2, 12)]
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox(chain)
    const firstInputs = [input(chain[0]!), input(chain[2]!)]
    const before = handle(core, outbox, firstInputs)
    // when the watcher republishes both (new envelopes, same messages)
    const again = handle(
      core,
      outbox,
      firstInputs.map((e) => republished(e.event as MessageObserved, e)),
      before.state,
    )
    // then nothing is read, nothing is output, and the lane is unchanged
    expect(again.plans).toEqual(["none", "none"])
    expect(again.outputs).toEqual([])
    expect(laneState(again.state).tree.count).toBe(1)
    expect(laneState(again.state).waiting.size).toBe(1)
  })

  it("stalls on a different message claiming a nonce, and keeps the first", () => {
    // given a lane with nonce 0 in the tree and nonce 2 waiting
    const chain = [observed(0, 10), observed(1, 11), observed(2, 12)]
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const before = handle(core, fakeOutbox(chain), [input(chain[0]!), input(chain[2]!)])
    // when other messages claim nonces 0 and 2
    const conflicts = handle(
      core,
      fakeOutbox(chain),
      [input(observed(0, 10, { body: "forged" })), input(observed(2, 12, { body: "forged" }))],
      before.state,
    )
    // then each is a conflicting-message stall naming both ids, and the lane keeps the first ones
    expect(conflicts.plans).toEqual(["none", "none"])
    const found = stalls(conflicts.outputs)
    expect(found.map((s) => [s.reason, s.treeCount])).toEqual([
      ["conflicting-message", 1],
      ["conflicting-message", 1],
    ])
    expect(found[0]!.detail).toContain(chain[0]!.messageId)
    expect(found[1]!.detail).toContain(chain[2]!.messageId)
    expect(laneState(conflicts.state).ids).toEqual([chain[0]!.messageId])
    expect(laneState(conflicts.state).waiting.get(2)!.messageId).toBe(chain[2]!.messageId)
  })

  it("refuses an event whose id is not its message's id", () => {
    // given an empty lane
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const wrongId = MessageId.make(`0x${"ab".repeat(32)}`)
    // when a message arrives with a forged id
    const run = handle(core, fakeOutbox([]), [input(observed(0, 10, { messageId: wrongId }))])
    // then it stalls as a conflicting message, explaining the id, and the tree stays empty
    expect(run.plans).toEqual(["none"])
    expect(stalls(run.outputs)).toMatchObject([{ reason: "conflicting-message", treeCount: 0 }])
    expect(stalls(run.outputs)[0]!.detail).toContain("keccak256(abi.encode(message))")
    expect(run.state.lanes.size).toBe(0)
  })

  it("stalls with both roots when the Outbox holds other messages, and proposes nothing", () => {
    // given an Outbox whose nonce 1 differs from the observed one
    const truth = [observed(0, 10), observed(1, 11, { body: "the real one" })]
    const seen = [observed(0, 10), observed(1, 11)]
    const core = makeProofBuilderCore({ chunkSize: 32 })
    // when both are observed
    const run = handle(core, fakeOutbox(truth), seen.map(input))
    // then 0 is proposed, and 1 stalls with a root mismatch naming both roots
    expect(proposals(run.outputs).map((p) => p.checkpoint.count)).toEqual([1])
    const [stall] = stalls(run.outputs)
    expect(stall).toMatchObject({ reason: "root-mismatch", treeCount: 2 })
    const treeRoot = getRoot(createMerkleTree(seen.map((m) => m.messageId as Hex)))
    const outboxRoot = getRoot(createMerkleTree(truth.map((m) => m.messageId as Hex)))
    expect(stall!.detail).toContain(treeRoot)
    expect(stall!.detail).toContain(outboxRoot)
    expect(laneState(run.state).lastProposed).toBe(1)
  })

  it("stalls when the tree has more messages than the Outbox, or the read is of another block", () => {
    const core = makeProofBuilderCore({ chunkSize: 32 })
    // given an Outbox that holds only nonce 0 at block 10, while the watcher saw 0 and 1 in block 10
    const ahead = handle(core, fakeOutbox([observed(0, 10)]), [observed(0, 10), observed(1, 10)].map(input))
    // then the first message is proposed, and the second stalls: the tree is ahead of the Outbox
    expect(stalls(ahead.outputs)).toMatchObject([{ reason: "root-mismatch", treeCount: 2 }])
    expect(stalls(ahead.outputs)[0]!.detail).toContain("the tree holds 2 messages, but the Outbox counts 1")
    expect(proposals(ahead.outputs).map((p) => p.checkpoint.count)).toEqual([1])
    // given an RPC on another fork: block 10 has another hash there
    const fork = handle(core, fakeOutbox([observed(0, 10)], { fork: 7 }), [input(observed(0, 10))])
    // then the read does not count: root-mismatch naming both blocks, and no proposal
    expect(stalls(fork.outputs)).toMatchObject([{ reason: "root-mismatch", treeCount: 1 }])
    expect(stalls(fork.outputs)[0]!.detail).toContain(hashOf(10, 7))
    expect(stalls(fork.outputs)[0]!.detail).toContain(hashOf(10))
    expect(proposals(fork.outputs)).toEqual([])
  })

  it("waits without a read: the tree is never proposed unchecked", () => {
    // given a step with no read recorded (a replay of a log whose reads are missing)
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const { outputs, state } = foldCore(core, builder, [{ input: input(observed(0, 10)), reads: [] }])
    // then the message is in the tree and nothing is proposed
    expect(outputs).toEqual([])
    expect(laneState(state).tree.count).toBe(1)
  })

  it("ignores messages from an outbox that is not a configured source", () => {
    // given a core configured with chain 901's outbox
    const core = makeProofBuilderCore({ chunkSize: 32, sources: [{ chainId: SRC, outbox: OUTBOX }] })
    const stranger = Address.make("0x00000000000000000000000000000000000b0b00")
    // when a message from another outbox arrives
    const run = handle(core, fakeOutbox([]), [input(observed(0, 10, { outbox: stranger }))])
    // then it is not read, not output and not kept
    expect(core.planRead(core.initial, run.steps[0]!.input)).toEqual({
      kind: "none",
      reason: "unconfigured-outbox",
    })
    expect(run.outputs).toEqual([])
    expect(run.state.lanes.size).toBe(0)
    // and the configured outbox (in any letter case) is accepted
    expect(core.accepts(observed(0, 10))).toBe(true)
    const upper = makeProofBuilderCore({
      chunkSize: 1,
      sources: [{ chainId: SRC, outbox: OUTBOX.toUpperCase().replace("0X", "0x") }],
    })
    expect(upper.accepts(observed(0, 10))).toBe(true)
  })

  it("changes its proofs, and only its proofs, with the chunk size", () => {
    // given the same log folded with chunks of 2 and of 3
    const outbox = fakeOutbox(sent)
    const inputs = sent.map(input)
    const two = handle(makeProofBuilderCore({ chunkSize: 2 }), outbox, inputs)
    const three = handle(makeProofBuilderCore({ chunkSize: 3 }), outbox, inputs)
    // then the checkpoints and single proofs are the same events, the range proofs are not
    const ids = (outputs: ReadonlyArray<Envelope>, pick: (e: Envelope) => boolean) =>
      outputs.filter(pick).map((e) => e.id)
    const isProposal = (e: Envelope) => e.type === "CheckpointProposed"
    const isRange = (e: Envelope) => e.type === "MessageProven" && (e.event as MessageProven).kind === "range"
    const isSingle = (e: Envelope) =>
      e.type === "MessageProven" && (e.event as MessageProven).kind === "single"
    expect(ids(two.outputs, isProposal)).toEqual(ids(three.outputs, isProposal))
    expect(ids(two.outputs, isSingle)).toEqual(ids(three.outputs, isSingle))
    expect(ids(two.outputs, isRange)).not.toEqual(ids(three.outputs, isRange))
    expect(proofs(three.outputs, "range").map((r) => [r.start, r.messages.length])).toEqual([
      [0, 3],
      [3, 2],
      [5, 1],
      [6, 1],
    ])
  })

  it("gives the same ids and state when the log is folded again, from scratch or resumed", () => {
    // given a log with a gap, a duplicate, a conflict and two proposals
    const core = makeProofBuilderCore({ chunkSize: 2 })
    const first = input(sent[0]!)
    const log = [
      first,
      ...[2, 1, 3, 4].map((n) => input(sent[n]!)),
      republished(sent[0]!, first),
      input(observed(1, 10, { body: "forged" })),
      input(sent[6]!),
      input(sent[5]!),
    ]
    const live = handle(core, fakeOutbox(sent), log)
    // when the recorded steps are folded again from the initial state (a restart), and in two halves
    const rebuilt = foldCore(core, builder, live.steps)
    const half = foldCore(core, builder, live.steps.slice(0, 4))
    const resumed = foldCore(core, builder, live.steps.slice(4), half.state)
    // then every output has the same id, and the states are equal
    expect(live.outputs.length).toBeGreaterThan(10)
    expect(rebuilt.outputs.map((o) => o.id)).toEqual(live.outputs.map((o) => o.id))
    expect([...half.outputs, ...resumed.outputs].map((o) => o.id)).toEqual(live.outputs.map((o) => o.id))
    expect(rebuilt.state).toEqual(live.state)
    expect(resumed.state).toEqual(live.state)
    expect(laneState(live.state).lastProposed).toBe(7)
    // and the initial state was never touched
    expect(core.initial.lanes.size).toBe(0)
  })

  it("rejects a chunk size that is not a positive integer", () => {
    expect(() => makeProofBuilderCore({ chunkSize: 0 })).toThrow(InvalidChunkSizeError)
    expect(() => makeProofBuilderCore({ chunkSize: 1.5 })).toThrow(/positive integer/)
  })
})
