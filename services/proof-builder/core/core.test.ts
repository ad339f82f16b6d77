import { serialize } from "node:v8"
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
import { createMerkleTree, getLeaves, getRoot } from "../merkle/index.ts"
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

/**
 * The source chain's truth: which of the lane's messages each block holds, and (when given) how far it is
 * final. `advance` sends more messages and moves finality, as the chain does between two inputs.
 */
const fakeOutbox = (
  sent: ReadonlyArray<MessageObserved>,
  options: { fork?: number; finalized?: number } = {},
) => {
  const chain = { sent: [...sent], finalized: options.finalized }
  return {
    advance: (more: ReadonlyArray<MessageObserved>, finalized?: number) => {
      chain.sent.push(...more)
      if (finalized !== undefined) chain.finalized = finalized
    },
    read: (block: BlockRef, observedInput: Envelope): Envelope => {
      // A block past the finalized head is not read: the service reads the finalized head instead.
      const at =
        chain.finalized !== undefined && block.number > chain.finalized ? chain.finalized : block.number
      const held = chain.sent.filter((m) => m.block.number <= at).map((m) => m.messageId as Hex)
      const read = new OutboxLaneRead({
        reader: PROOF_BUILDER_READER,
        srcChainId: ChainId.make(SRC),
        outbox: OUTBOX,
        dstChainId: ChainId.make(DST),
        block: blockAt(at, options.fork),
        finalized: blockAt(chain.finalized ?? at + 2, options.fork),
        root: Bytes32.make(getRoot(createMerkleTree(held))),
        count: held.length,
      })
      return makeEnvelope(read, { producer: builder, causationId: observedInput.id, time: new Date(T0) })
    },
  }
}

type Step = { readonly input: Envelope; readonly reads: ReadonlyArray<Envelope> }

/** Reads one input may make before it is decided (the service's bound, with room to spare). */
const READS_PER_INPUT = 4

/**
 * Runs inputs the way the lane runtime does: plan a read, make it on the fake Outbox, plan again with what was
 * read (until the core needs nothing more), decide, stamp.
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
    const reads: Envelope[] = []
    let plan = core.planRead(state, envelope, reads)
    plans.push(plan.kind)
    while (plan.kind === "read" && reads.length < READS_PER_INPUT) {
      const block = plan.block.number
      if (reads.some((r) => (r.event as OutboxLaneRead).block.number === block)) break
      reads.push(outbox.read(plan.block, envelope))
      plan = core.planRead(state, envelope, reads)
    }
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
    // then 0 is proposed; the rest waits, each read once per block (so a forged one would be refuted at once)
    expect(early.plans).toEqual(["read", "read", "reuse", "read"])
    expect(proposals(early.outputs).map((p) => p.checkpoint.count)).toEqual([1])
    const gap = stalls(early.outputs)
    expect(gap).toHaveLength(1)
    expect(gap[0]!).toMatchObject({ reason: "nonce-gap", treeCount: 1 })
    expect(gap[0]!.detail).toMatch(/^waiting for nonce 1; have 1 contiguous message and 1 waiting/)
    expect(laneState(early.state).candidates.size).toBe(3)
    // when nonce 1 arrives
    const closed = handle(core, outbox, [input(chain[1]!)], early.state)
    // then the read of the newest message's block (13, count 5) proves 1..4 at once: no new read, one proposal
    expect(closed.steps[0]!.reads).toEqual([])
    expect(closed.plans).toEqual(["none"])
    expect(
      proposals(closed.outputs).map((p) => [p.previousCount, p.checkpoint.count, p.block.number]),
    ).toEqual([[1, 5, 13]])
    expect(stalls(closed.outputs)).toEqual([])
    expect(laneState(closed.state).candidates.size).toBe(0)
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
    expect(laneState(again.state).candidates.size).toBe(1)
  })

  it("rejects another message claiming a proven nonce, and keeps every claim of a nonce not settled yet", () => {
    // given a lane with nonce 0 proven and nonce 2 waiting
    const chain = [observed(0, 10), observed(1, 11), observed(2, 12)]
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox(chain)
    const before = handle(core, outbox, [input(chain[0]!), input(chain[2]!)])
    // when other messages claim nonces 0 and 2
    const forged0 = observed(0, 10, { body: "forged" })
    const forged2 = observed(2, 12, { body: "forged" })
    const conflicts = handle(core, outbox, [input(forged0), input(forged2)], before.state)
    // then the claim on the proven nonce is rejected at once, naming the proven message
    expect(conflicts.plans).toEqual(["none", "reuse"])
    expect(rejections(conflicts.outputs)).toMatchObject([
      { messageId: forged0.messageId, reason: "not-in-outbox-root", chainMessageId: chain[0]!.messageId },
    ])
    expect(rejections(conflicts.outputs)[0]!.detail).toContain(chain[0]!.messageId)
    // and the other waits beside the first claim of nonce 2: neither is kept for arriving first
    expect(stalls(conflicts.outputs)).toEqual([])
    const tree = laneState(conflicts.state).tree
    expect(getLeaves(tree, 0, tree.count)).toEqual([chain[0]!.messageId])
    expect(
      laneState(conflicts.state)
        .candidates.get(2)!
        .map((c) => c.observed.messageId),
    ).toEqual([chain[2]!.messageId, forged2.messageId])
    // when nonce 1 arrives, the chain's root settles nonce 2
    const closed = handle(core, outbox, [input(chain[1]!)], conflicts.state)
    expect(proposals(closed.outputs).map((p) => [p.previousCount, p.checkpoint.count])).toEqual([[1, 3]])
    expect(rejections(closed.outputs)).toMatchObject([
      { messageId: forged2.messageId, reason: "not-in-outbox-root", chainMessageId: chain[2]!.messageId },
    ])
  })

  it("rejects an event whose id is not its message's id, without a read or a stall", () => {
    // given an empty lane
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const wrongId = MessageId.make(`0x${"ab".repeat(32)}`)
    // when a message arrives with a forged id
    const run = handle(core, fakeOutbox([]), [input(observed(0, 10, { messageId: wrongId }))])
    // then it is rejected, explaining the id, and the lane holds nothing
    expect(run.plans).toEqual(["none"])
    expect(rejections(run.outputs)).toMatchObject([
      { messageId: wrongId, nonce: 0, reason: "mismatched-id", outboxBlock: null, chainMessageId: null },
    ])
    expect(rejections(run.outputs)[0]!.detail).toContain("keccak256(abi.encode(message))")
    expect(stalls(run.outputs)).toEqual([])
    expect(run.state.lanes.size).toBe(0)
  })

  it("rejects with both roots an observation the Outbox's root refutes, and proposes nothing for it", () => {
    // given an Outbox whose nonce 1 differs from the observed one
    const truth = [observed(0, 10), observed(1, 11, { body: "the real one" })]
    const seen = [observed(0, 10), observed(1, 11)]
    const core = makeProofBuilderCore({ chunkSize: 32 })
    // when both are observed
    const run = handle(core, fakeOutbox(truth), seen.map(input))
    // then 0 is proposed, and 1 is rejected with a detail naming both roots; the lane waits for the real 1
    expect(proposals(run.outputs).map((p) => p.checkpoint.count)).toEqual([1])
    const [rejection] = rejections(run.outputs)
    expect(rejection).toMatchObject({ nonce: 1, reason: "not-in-outbox-root", outboxBlock: { number: 11 } })
    const treeRoot = getRoot(createMerkleTree(seen.map((m) => m.messageId as Hex)))
    const outboxRoot = getRoot(createMerkleTree(truth.map((m) => m.messageId as Hex)))
    expect(rejection!.detail).toContain(treeRoot)
    expect(rejection!.detail).toContain(outboxRoot)
    expect(stalls(run.outputs)).toEqual([])
    expect(laneState(run.state).lastProposed).toBe(1)
    expect(laneState(run.state).candidates.size).toBe(0)
  })

  it("rejects a message the Outbox had not sent by its block, and stalls when the RPC has another block", () => {
    const core = makeProofBuilderCore({ chunkSize: 32 })
    // given an Outbox that holds only nonce 0 at block 10, while the watcher saw 0 and 1 in block 10
    const ahead = handle(core, fakeOutbox([observed(0, 10)]), [observed(0, 10), observed(1, 10)].map(input))
    // then the first message is proposed, and the second rejected: the Outbox counts 1 at block 10
    expect(rejections(ahead.outputs)).toMatchObject([{ nonce: 1, reason: "nonce-not-sent-by-block" }])
    expect(rejections(ahead.outputs)[0]!.detail).toContain("the Outbox counted 1 message(s) at block 10")
    expect(stalls(ahead.outputs)).toEqual([])
    expect(proposals(ahead.outputs).map((p) => p.checkpoint.count)).toEqual([1])
    // given an RPC on another fork: block 10 has another hash there
    const fork = handle(core, fakeOutbox([observed(0, 10)], { fork: 7 }), [input(observed(0, 10))])
    // then the read does not count for it: root-mismatch naming both blocks, no proposal, no rejection
    expect(stalls(fork.outputs)).toMatchObject([{ reason: "root-mismatch", treeCount: 1 }])
    expect(stalls(fork.outputs)[0]!.detail).toContain(hashOf(10, 7))
    expect(stalls(fork.outputs)[0]!.detail).toContain(hashOf(10))
    expect(proposals(fork.outputs)).toEqual([])
    expect(rejections(fork.outputs)).toEqual([])
  })

  it("waits without a read: nothing is proposed unchecked", () => {
    // given a step with no read recorded (a replay of a log whose reads are missing)
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const { outputs, state } = foldCore(core, builder, [{ input: input(observed(0, 10)), reads: [] }])
    // then the message waits as a candidate, the tree is empty and nothing is proposed
    expect(outputs).toEqual([])
    expect(laneState(state).tree.count).toBe(0)
    expect(
      laneState(state)
        .candidates.get(0)!
        .map((c) => c.observed.message.nonce),
    ).toEqual([0])
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

// ---- conflicting observations (issue 11): whoever can publish a MessageObserved cannot block a lane ----

interface Rejected {
  readonly messageId: string
  readonly nonce: number
  readonly reason: string
  readonly chainMessageId: string | null
  readonly detail: string
  readonly outboxBlock: { readonly number: number } | null
}
const rejections = (outputs: ReadonlyArray<Envelope>) => ofType<Rejected>(outputs, "MessageRejected")
const causedBy = (outputs: ReadonlyArray<Envelope>, input: Envelope) =>
  outputs.filter((o) => o.causationId === input.id)
const rootOf = (messages: ReadonlyArray<MessageObserved>) =>
  getRoot(createMerkleTree(messages.map((m) => m.messageId as Hex)))

describe("proof-builder core: memory", () => {
  it("keeps no message once it is proposed: a lane grows by its tree's leaves, not by what the messages carry", () => {
    // given messages of 1 KB each, one per block, so each is proposed as it arrives
    const big = (nonce: number) => observed(nonce, 100 + nonce, { body: "x".repeat(1024) })
    const chain = Array.from({ length: 400 }, (_, nonce) => big(nonce))
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox(chain)
    // when 200 of them are handled, then 200 more
    const first = handle(core, outbox, chain.slice(0, 200).map(input))
    const sizeAt200 = serialize(laneState(first.state)).length
    const second = handle(core, outbox, chain.slice(200).map(input), first.state)
    const sizeAt400 = serialize(laneState(second.state)).length
    // then every message was proposed and carried in its proofs
    expect(proposals(first.outputs).length + proposals(second.outputs).length).toBe(400)
    expect(proofs(second.outputs, "range").at(-1)!.messages[0]!.body).toBe(chain[399]!.message.body)
    // and the lane kept 64 bytes or so a message (a leaf and its share of the inner nodes), not the 1 KB bodies
    expect(laneState(second.state).unproposed).toEqual([])
    expect((sizeAt400 - sizeAt200) / 200).toBeLessThan(160)
    // and a proven nonce is still known by its leaf: the same message again is a duplicate, another one refused
    const again = handle(
      core,
      outbox,
      [input(chain[7]!), input(observed(7, 107, { body: "forged" }))],
      second.state,
    )
    expect(rejections(again.outputs)).toMatchObject([
      { reason: "not-in-outbox-root", chainMessageId: chain[7]!.messageId },
    ])
    expect(again.outputs).toHaveLength(1)
  })
})

describe("proof-builder core: conflicting observations are settled against the chain", () => {
  // The real lane: nonce 0 in block 10; the forger targets nonce 1.
  const real0 = observed(0, 10)

  it("forged first, at a block where the chain had not sent its nonce: rejected at once, and the real message is proposed", () => {
    // given a lane proposed at 1, and a chain that has not sent nonce 1 yet (finalized up to block 20)
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox([real0], { finalized: 20 })
    const start = handle(core, outbox, [input(real0)])
    // when a forged nonce 1 claiming block 11 arrives first
    const forged = input(observed(1, 11, { body: "forged" }))
    const attack = handle(core, outbox, [forged], start.state)
    // then it is rejected on the Outbox's count at block 11, and the lane is not reported stalled
    expect(rejections(attack.outputs)).toMatchObject([
      {
        messageId: (forged.event as MessageObserved).messageId,
        nonce: 1,
        reason: "nonce-not-sent-by-block",
        outboxBlock: { number: 11 },
      },
    ])
    expect(rejections(attack.outputs)[0]!.detail).toContain("block 11")
    expect(stalls(attack.outputs)).toEqual([])
    // when the real nonce 1 is sent in block 12 and observed
    const real1 = observed(1, 12)
    outbox.advance([real1], 30)
    const after = handle(core, outbox, [input(real1)], attack.state)
    // then it is proposed with the Outbox's root, and nothing stalls
    expect(proposals(after.outputs).map((p) => [p.previousCount, p.checkpoint.count])).toEqual([[1, 2]])
    expect(proposals(after.outputs)[0]!.checkpoint.root).toBe(rootOf([real0, real1]))
    expect(stalls(after.outputs)).toEqual([])
    expect(proofs(after.outputs, "single").map((p) => p.messageIds)).toEqual([[real1.messageId]])
  })

  it("forged first, claiming the real message's own block among others: the chain's root picks the real leaf", () => {
    // given a chain with nonce 0 in block 10, and nonces 1 and 2 in block 12
    const real1 = observed(1, 12)
    const real2 = observed(2, 12)
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox([real0, real1, real2])
    // when a forged nonce 1 claiming block 12 (its real hash) arrives before the real 1 and 2
    const forged = observed(1, 12, { body: "forged" })
    const run = handle(core, outbox, [real0, forged, real1, real2].map(input))
    // then the real messages are proposed with the Outbox's root at block 12
    expect(proposals(run.outputs).map((p) => [p.previousCount, p.checkpoint.count, p.block.number])).toEqual([
      [0, 1, 10],
      [1, 3, 12],
    ])
    expect(proposals(run.outputs)[1]!.checkpoint.root).toBe(rootOf([real0, real1, real2]))
    expect(proofs(run.outputs, "range").flatMap((p) => p.messageIds)).toEqual(
      [real0, real1, real2].map((m) => m.messageId),
    )
    // and the forgery is rejected, naming the message the chain holds at its nonce; nothing stalls
    expect(rejections(run.outputs)).toMatchObject([
      {
        messageId: forged.messageId,
        nonce: 1,
        reason: "not-in-outbox-root",
        chainMessageId: real1.messageId,
        outboxBlock: { number: 12 },
      },
    ])
    expect(stalls(run.outputs)).toEqual([])
  })

  it("forged first, alone in the block it claims: the Outbox's root at that block refutes it", () => {
    // given a chain whose block 11 holds only the real nonce 1
    const real1 = observed(1, 11)
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox([real0, real1])
    const forged = observed(1, 11, { body: "forged" })
    // when the forgery arrives before the real message
    const run = handle(core, outbox, [real0, forged, real1].map(input))
    // then it is rejected at once, the real message is proposed, and nothing stalls
    expect(rejections(causedBy(run.outputs, run.steps[1]!.input))).toMatchObject([
      { messageId: forged.messageId, reason: "not-in-outbox-root", outboxBlock: { number: 11 } },
    ])
    expect(rejections(run.outputs)[0]!.detail).toContain(rootOf([real0, real1]))
    expect(proposals(run.outputs).map((p) => p.checkpoint.count)).toEqual([1, 2])
    expect(stalls(run.outputs)).toEqual([])
  })

  it("real first, then forged: a forgery of a proven nonce is rejected without a read", () => {
    // given a lane whose nonce 1 is proposed
    const real1 = observed(1, 11)
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox([real0, real1])
    const start = handle(core, outbox, [real0, real1].map(input))
    // when a forged nonce 1 arrives
    const forged = observed(1, 11, { body: "forged" })
    const attack = handle(core, outbox, [input(forged)], start.state)
    // then it is rejected, naming the proven message, with no read and no stall
    expect(attack.steps[0]!.reads).toEqual([])
    expect(rejections(attack.outputs)).toMatchObject([
      {
        messageId: forged.messageId,
        nonce: 1,
        reason: "not-in-outbox-root",
        chainMessageId: real1.messageId,
      },
    ])
    expect(stalls(attack.outputs)).toEqual([])
    // and the lane goes on
    const real2 = observed(2, 12)
    outbox.advance([real2])
    const after = handle(core, outbox, [input(real2)], attack.state)
    expect(proposals(after.outputs).map((p) => [p.previousCount, p.checkpoint.count])).toEqual([[2, 3]])
  })

  it("real first, then forged, in a block not settled yet: the forgery waits as a candidate and loses", () => {
    // given nonces 1 and 2 in block 12; the real 1 arrives, then a forged 1, then the real 2
    const real1 = observed(1, 12)
    const real2 = observed(2, 12)
    const forged = observed(1, 12, { body: "forged" })
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const run = handle(core, fakeOutbox([real0, real1, real2]), [real0, real1, forged, real2].map(input))
    // then the real messages are proposed, the forgery rejected, and no stall reported
    expect(proposals(run.outputs).map((p) => p.checkpoint.count)).toEqual([1, 3])
    expect(proposals(run.outputs)[1]!.checkpoint.root).toBe(rootOf([real0, real1, real2]))
    expect(rejections(run.outputs)).toMatchObject([
      { messageId: forged.messageId, reason: "not-in-outbox-root", chainMessageId: real1.messageId },
    ])
    expect(stalls(run.outputs)).toEqual([])
  })

  it("forged waiting above a gap: it does not hold the real messages back", () => {
    // given a chain with nonce 1 in block 12 and nonce 2 in block 13
    const real1 = observed(1, 12)
    const real2 = observed(2, 13)
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox([real0, real1, real2])
    // when a forged nonce 2 claiming block 13 arrives before nonce 1, then the real 2, then the real 1
    const forged = observed(2, 13, { body: "forged" })
    const run = handle(core, outbox, [real0, forged, real2, real1].map(input))
    // then the real messages are proposed together, and the forgery is rejected naming the real nonce 2
    expect(proposals(run.outputs).map((p) => [p.previousCount, p.checkpoint.count])).toEqual([
      [0, 1],
      [1, 3],
    ])
    expect(proposals(run.outputs)[1]!.checkpoint.root).toBe(rootOf([real0, real1, real2]))
    expect(rejections(run.outputs)).toMatchObject([
      {
        messageId: forged.messageId,
        nonce: 2,
        reason: "not-in-outbox-root",
        chainMessageId: real2.messageId,
      },
    ])
    // and only the real gap (nonce 1 exists on chain and was not observed yet) was reported
    expect(stalls(run.outputs).map((s) => s.reason)).toEqual(["nonce-gap"])
  })

  it("forged waiting above a gap, at a block where its nonce was not sent: rejected at once, no gap reported", () => {
    // given a chain with nonce 1 in block 12 and nonce 2 in block 13
    const real1 = observed(1, 12)
    const real2 = observed(2, 13)
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox([real0, real1, real2])
    // when a forged nonce 2 claiming block 11 arrives, then the real messages in order
    const forged = input(observed(2, 11, { body: "forged" }))
    const run = handle(core, outbox, [input(real0), forged, input(real1), input(real2)])
    // then the forgery is rejected when it arrives, and no stall of any kind is reported
    expect(rejections(causedBy(run.outputs, forged))).toMatchObject([
      { nonce: 2, reason: "nonce-not-sent-by-block", outboxBlock: { number: 11 } },
    ])
    expect(stalls(run.outputs)).toEqual([])
    expect(proposals(run.outputs).map((p) => p.checkpoint.count)).toEqual([1, 2, 3])
  })

  it("forged with a block the chain has not reached: the partition is not held, and the real message wins", () => {
    // given a lane proposed at 1, on a chain finalized up to block 20 that has not sent nonce 1
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox([real0], { finalized: 20 })
    const start = handle(core, outbox, [input(real0)])
    // when a forged nonce 1 claims block 1,000,000
    const forged = input(observed(1, 1_000_000, { body: "forged" }))
    const attack = handle(core, outbox, [forged], start.state)
    // then the core asked for one read (the service answers with the finalized head), and did not ask again
    expect(attack.steps[0]!.reads.map((r) => (r.event as OutboxLaneRead).block.number)).toEqual([20])
    expect(core.planRead(attack.state, forged, attack.steps[0]!.reads).kind).not.toBe("read")
    // and nothing is proposed, rejected or stalled: it cannot be settled yet
    expect(attack.outputs).toEqual([])
    // when the chain sends the real nonce 1 in block 25 and finalizes it
    const real1 = observed(1, 25)
    outbox.advance([real1], 30)
    const after = handle(core, outbox, [input(real1)], attack.state)
    // then the real message is proposed and the forgery rejected: the chain sent nonce 1 before the block it names
    expect(proposals(after.outputs).map((p) => [p.previousCount, p.checkpoint.count])).toEqual([[1, 2]])
    expect(proposals(after.outputs)[0]!.checkpoint.root).toBe(rootOf([real0, real1]))
    expect(rejections(after.outputs)).toMatchObject([
      {
        messageId: (forged.event as MessageObserved).messageId,
        nonce: 1,
        reason: "nonce-sent-before-block",
        outboxBlock: { number: 25 },
      },
    ])
    expect(stalls([...attack.outputs, ...after.outputs])).toEqual([])
  })

  it("forged with a block the chain has not reached, after the real nonce was sent: rejected at once", () => {
    // given a chain that sent nonce 1 in block 12, finalized up to block 20
    const real1 = observed(1, 12)
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox([real0, real1], { finalized: 20 })
    // when the lane is at 1 and a forged nonce 1 claims block 1,000,000, then the real 1 arrives
    const forged = input(observed(1, 1_000_000, { body: "forged" }))
    const run = handle(core, outbox, [input(real0), forged, input(real1)])
    // then the forgery is rejected on the Outbox's count at the finalized head, and the real one proposed
    expect(rejections(causedBy(run.outputs, forged))).toMatchObject([
      { nonce: 1, reason: "nonce-sent-before-block", outboxBlock: { number: 20 } },
    ])
    expect(proposals(run.outputs).map((p) => p.checkpoint.count)).toEqual([1, 2])
    expect(stalls(run.outputs)).toEqual([])
  })

  it("a copy of the real message naming another block hash proposes nothing, until the real observation arrives", () => {
    // given a chain whose block 11 holds nonce 1
    const real1 = observed(1, 11)
    const core = makeProofBuilderCore({ chunkSize: 32 })
    const outbox = fakeOutbox([real0, real1])
    // when the real message's content arrives first under a block hash the chain does not have
    const copy = observed(1, 11, { fork: 9 })
    expect(copy.messageId).toBe(real1.messageId)
    const early = handle(core, outbox, [real0, copy].map(input))
    // then nothing is proposed for it: the watcher and the chain disagree, which is reported
    expect(proposals(early.outputs).map((p) => p.checkpoint.count)).toEqual([1])
    expect(stalls(early.outputs)).toMatchObject([{ reason: "root-mismatch" }])
    expect(stalls(early.outputs)[0]!.detail).toContain(hashOf(11, 9))
    // when the real observation arrives
    const after = handle(core, outbox, [input(real1)], early.state)
    // then it is proposed at the chain's block, and the copy is dropped without a rejection (it is no forgery)
    expect(proposals(after.outputs).map((p) => [p.checkpoint.count, p.block.hash])).toEqual([[2, hashOf(11)]])
    expect(rejections(after.outputs)).toEqual([])
  })

  it("gives the same ids and state when a log with forgeries is folded again, from scratch or resumed", () => {
    // given a log with forgeries of every kind above, and the real messages
    const real1 = observed(1, 12)
    const real2 = observed(2, 12)
    const real3 = observed(3, 13)
    const chain = [real0, real1, real2, real3]
    const log = [
      real0,
      observed(1, 12, { body: "forged" }),
      observed(3, 13, { body: "forged" }),
      observed(2, 11, { body: "forged" }),
      observed(1, 1_000_000, { body: "forged" }),
      real1,
      real3,
      real2,
      observed(0, 10, { body: "forged" }),
    ].map(input)
    const core = makeProofBuilderCore({ chunkSize: 2 })
    const live = handle(core, fakeOutbox(chain, { finalized: 20 }), log)
    // when the recorded steps are folded again from the initial state, and in two halves
    const rebuilt = foldCore(core, builder, live.steps)
    const half = foldCore(core, builder, live.steps.slice(0, 5))
    const resumed = foldCore(core, builder, live.steps.slice(5), half.state)
    // then every output has the same id, and the states are equal
    expect(rebuilt.outputs.map((o) => o.id)).toEqual(live.outputs.map((o) => o.id))
    expect([...half.outputs, ...resumed.outputs].map((o) => o.id)).toEqual(live.outputs.map((o) => o.id))
    expect(rebuilt.state).toEqual(live.state)
    expect(resumed.state).toEqual(live.state)
    // and the live run proposed the chain's root with every forgery rejected
    expect(proposals(live.outputs).at(-1)!.checkpoint).toMatchObject({ count: 4, root: rootOf(chain) })
    expect(rejections(live.outputs)).toHaveLength(5)
    expect(stalls(live.outputs).filter((s) => s.reason !== "nonce-gap")).toEqual([])
  })
})
