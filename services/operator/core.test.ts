import { keccak256, parseSignature, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { hashCheckpoint, recoverCheckpointSigner, signCheckpoint } from "../../contracts/index.ts"
import {
  Address,
  AttestationRefused,
  AttestationSigned,
  BlockRef,
  type Bytes32,
  ChainHeadRead,
  ChainId,
  type CheckpointProposed,
  CheckpointResignRequested,
  type Envelope,
  LaneStalled,
  makeEnvelope,
  OutboxLaneRead,
  toAddress,
} from "../../schemas/index.ts"
import {
  bytes32,
  inboxEpochReadOf,
  proposalOf,
  TEST_DOMAIN,
  TEST_LANE,
  testCheckpoint,
} from "../../test/fixtures/checkpoint.ts"
import { foldCore, producerOf } from "../runtime/index.ts"
import { makeOperatorCore, type OperatorState } from "./core.ts"
import { toTypedCheckpoint } from "./sign-checkpoint.ts"
import { SIGNED_PER_LANE } from "./signed-roots.ts"

const KEY = keccak256(stringToHex("operator-core-test"))
const ME = toAddress(privateKeyToAccount(KEY).address)
const chains = [
  { chainId: 901, outbox: "0xE7f1725E7734CE288F8367e1Bb143E90bb3F0512" },
  { chainId: 902, outbox: "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0" },
]
const proofBuilder = producerOf("proof-builder", "proof-builder")
const operatorProducer = producerOf("operator", privateKeyToAccount(KEY).address)
const T0 = new Date("2026-01-01T00:00:00.000Z")

const ROOT = bytes32("aa")
const OTHER_ROOT = bytes32("bb")
const BLOCK = new BlockRef({ number: 40, hash: bytes32("40") })

const propose = (checkpoint = testCheckpoint(), block = BLOCK, time = T0): Envelope =>
  proposalOf(checkpoint, block, time)

/** The operator's own read for `proposal`, showing what its RPC showed. */
const readFor = (
  proposal: Envelope,
  seen: { root?: Bytes32; count?: number; hash?: Bytes32; finalized?: number; reader?: string } = {},
): Envelope => {
  const event = proposal.event as CheckpointProposed
  return makeEnvelope(
    new OutboxLaneRead({
      reader: seen.reader ?? ME,
      srcChainId: event.checkpoint.srcChainId,
      outbox: event.checkpoint.outbox,
      dstChainId: event.checkpoint.dstChainId,
      block: new BlockRef({ number: event.block.number, hash: seen.hash ?? event.block.hash }),
      finalized: new BlockRef({ number: seen.finalized ?? event.block.number + 2, hash: bytes32("f1") }),
      root: seen.root ?? event.checkpoint.root,
      count: seen.count ?? event.checkpoint.count,
    }),
    { producer: operatorProducer, causationId: proposal.id, time: T0 },
  )
}

/** The operator's own read of the destination Inbox's epoch, recorded for `proposal`: what it signs under. */
const epochFor = (proposal: Envelope, epoch = 1, reader: string = ME): Envelope =>
  makeEnvelope(inboxEpochReadOf(proposal, reader, epoch), {
    producer: operatorProducer,
    causationId: proposal.id,
    time: T0,
  })

/** The operator's own RPC's latest head of the source chain, recorded for `proposal`. */
const headFor = (
  proposal: Envelope,
  latest: number,
  seen: { reader?: string; chainId?: number } = {},
): Envelope =>
  makeEnvelope(
    new ChainHeadRead({
      reader: seen.reader ?? ME,
      lane: TEST_LANE,
      chainId: ChainId.make(seen.chainId ?? TEST_LANE.srcChainId),
      latest: new BlockRef({ number: latest, hash: bytes32("1e") }),
    }),
    { producer: operatorProducer, causationId: proposal.id, time: T0 },
  )

type Step = { readonly input: Envelope; readonly reads: ReadonlyArray<Envelope> }

const MAX_BLOCKS_AHEAD = 64

const run = (steps: ReadonlyArray<Step>, from?: OperatorState) => {
  const core = makeOperatorCore({
    privateKey: KEY,
    domain: TEST_DOMAIN,
    chains,
    maxBlocksAhead: MAX_BLOCKS_AHEAD,
  })
  return foldCore(core, operatorProducer, steps, from ?? core.initial)
}

const only = (outputs: ReadonlyArray<Envelope>) => {
  expect(outputs).toHaveLength(1)
  return outputs[0]!.event
}

const refusalOf = (outputs: ReadonlyArray<Envelope>) => {
  const event = only(outputs)
  expect(event).toBeInstanceOf(AttestationRefused)
  return event as AttestationRefused
}

describe("operator core", () => {
  it("signs a proposal its own finalized read confirms, exactly as signCheckpoint would", async () => {
    // given a proposal and the operator's own read showing the same root, count and block
    const proposal = propose()
    // when it decides
    const { outputs, state } = run([{ input: proposal, reads: [readFor(proposal), epochFor(proposal)] }])
    // then it signs the EIP-712 digest with a 65-byte low-s signature the contracts' helpers agree with
    const signed = only(outputs) as AttestationSigned
    expect(signed).toBeInstanceOf(AttestationSigned)
    const typed = toTypedCheckpoint(testCheckpoint(), 1)
    expect(signed.digest).toBe(hashCheckpoint({ domain: TEST_DOMAIN, checkpoint: typed }))
    expect(signed.operator).toBe(ME)
    expect(signed.signature).toBe(
      (
        await signCheckpoint({ account: privateKeyToAccount(KEY), domain: TEST_DOMAIN, checkpoint: typed })
      ).toLowerCase(),
    )
    expect([27n, 28n]).toContain(parseSignature(signed.signature as `0x${string}`).v)
    expect(
      (
        await recoverCheckpointSigner({
          domain: TEST_DOMAIN,
          checkpoint: typed,
          signature: signed.signature as `0x${string}`,
        })
      ).toLowerCase(),
    ).toBe(ME)
    expect(outputs[0]!.causationId).toBe(proposal.id)
    expect(state.signed.size).toBe(1)
  })

  it.each([
    ["root-mismatch", { root: OTHER_ROOT }, /root 0xbb/],
    ["count-mismatch", { count: 4, root: OTHER_ROOT }, /count 4/],
    ["block-mismatch", { hash: bytes32("41") }, /block 40 is 0x4141/],
    ["not-finalized", { finalized: 39 }, /finalized head 39/],
  ] as const)("refuses with %s when its own read disagrees", (reason, seen, detail) => {
    // given a proposal and a read of the operator's RPC that differs from it
    const proposal = propose()
    // when it decides
    const { outputs, state } = run([
      { input: proposal, reads: [readFor(proposal, seen), epochFor(proposal)] },
    ])
    // then it refuses with the reason and a detail naming what it saw, and remembers nothing signed
    const refusal = refusalOf(outputs)
    expect(refusal.reason).toBe(reason)
    expect(refusal.detail).toMatch(detail)
    expect(refusal.operator).toBe(ME)
    expect(state.signed.size).toBe(0)
  })

  it("refuses with not-finalized when its RPC gave no read, or only another operator's read", () => {
    // given a proposal with no read, and one with another reader's read
    const first = propose()
    const second = propose(testCheckpoint({ count: 6 }), new BlockRef({ number: 41, hash: bytes32("41") }))
    // when it decides both
    const { outputs } = run([
      { input: first, reads: [] },
      {
        input: second,
        reads: [readFor(second, { reader: "0x0000000000000000000000000000000000000001" }), epochFor(second)],
      },
    ])
    // then both are refused as not finalized: it signs only its own reads
    expect(outputs.map((o) => (o.event as AttestationRefused).reason)).toEqual([
      "not-finalized",
      "not-finalized",
    ])
  })

  it.each([
    ["an unconfigured source chain", { srcChainId: ChainId.make(999) }, /source chain 999/],
    ["an unconfigured destination chain", { dstChainId: ChainId.make(999) }, /destination chain 999/],
    [
      "another outbox",
      { outbox: Address.make("0x0000000000000000000000000000000000000bad") },
      /configured Outbox is 0xe7f1/,
    ],
  ] as const)(
    "refuses with wrong-network a lane with %s, even with a matching read",
    (_what, lane, detail) => {
      // given a proposal for a lane outside the configured network
      const proposal = propose(testCheckpoint(lane))
      // when it decides
      const { outputs } = run([{ input: proposal, reads: [readFor(proposal), epochFor(proposal)] }])
      // then it refuses as wrong-network
      const refusal = refusalOf(outputs)
      expect(refusal.reason).toBe("wrong-network")
      expect(refusal.detail).toMatch(detail)
    },
  )

  it("never signs a second root for the same lane and count, also after a rebuild from its log", () => {
    // given it signed root A at count 5
    const first = propose()
    const log: Step[] = [{ input: first, reads: [readFor(first), epochFor(first)] }]
    const before = run(log)
    expect(only(before.outputs)).toBeInstanceOf(AttestationSigned)
    // when a proposal for the same lane and count with root B arrives — even with a read showing B —
    // to the live state, and to a state rebuilt from the same log by a fresh core (a restart)
    const conflicting = propose(
      testCheckpoint({ root: OTHER_ROOT }),
      new BlockRef({ number: 41, hash: bytes32("41") }),
    )
    const step = { input: conflicting, reads: [readFor(conflicting), epochFor(conflicting)] }
    const live = run([step], before.state)
    const rebuilt = run([...log, step])
    // then both refuse with conflicting-signature, naming the root it signed
    for (const outputs of [live.outputs, rebuilt.outputs.slice(1)]) {
      const refusal = refusalOf(outputs)
      expect(refusal.reason).toBe("conflicting-signature")
      expect(refusal.detail).toContain(ROOT)
    }
    // and a different count of the same lane is still signed
    const next = propose(
      testCheckpoint({ root: OTHER_ROOT, count: 6 }),
      new BlockRef({ number: 42, hash: bytes32("42") }),
    )
    expect(
      only(run([{ input: next, reads: [readFor(next), epochFor(next)] }], rebuilt.state).outputs),
    ).toBeInstanceOf(AttestationSigned)
  })

  it("signs the same checkpoint proposed again with the same signature", () => {
    // given it signed a checkpoint
    const first = propose()
    // when the same checkpoint is proposed again, read at a later block of a lane that did not move
    const again = propose(testCheckpoint(), new BlockRef({ number: 41, hash: bytes32("41") }))
    const { outputs } = run([
      { input: first, reads: [readFor(first), epochFor(first)] },
      { input: again, reads: [readFor(again), epochFor(again)] },
    ])
    // then it signs again with the byte-identical signature (RFC 6979), as a new event
    expect(outputs).toHaveLength(2)
    const [a, b] = outputs.map((o) => o.event as AttestationSigned)
    expect(b!.signature).toBe(a!.signature)
    expect(outputs[1]!.id).not.toBe(outputs[0]!.id)
  })

  it("ignores a LaneStalled on the proposals topic", () => {
    // given a stall event
    const stall = makeEnvelope(
      new LaneStalled({
        lane: TEST_LANE,
        reason: "nonce-gap",
        treeCount: 3,
        detail: "nonce 3 missing",
      }),
      { producer: proofBuilder, causationId: null, time: T0 },
    )
    // when it decides
    const { outputs, state } = run([{ input: stall, reads: [] }])
    // then nothing is output and nothing remembered
    expect(outputs).toEqual([])
    expect(state.signed.size).toBe(0)
  })

  it("given a lane signed past the counts it keeps, then it holds only the bound, still refuses a second root for a held count, and signs nothing at or below its floor", () => {
    const rootAt = (count: number) => `0x${count.toString(16).padStart(64, "0")}` as Bytes32
    // given proposals for counts 1..SIGNED_PER_LANE+10 of one lane, each confirmed by the operator's read
    const steps = Array.from({ length: SIGNED_PER_LANE + 10 }, (_, i) => {
      const proposal = propose(testCheckpoint({ count: i + 1, root: rootAt(i + 1) }))
      return { input: proposal, reads: [readFor(proposal), epochFor(proposal)] }
    })
    // when it decides them all
    const { outputs, state } = run(steps)
    // then it signed every one, and keeps the roots of the last SIGNED_PER_LANE counts only
    expect(outputs.every((o) => o.event instanceof AttestationSigned)).toBe(true)
    expect(outputs).toHaveLength(SIGNED_PER_LANE + 10)
    expect(state.signed.size).toBe(SIGNED_PER_LANE)
    // when another root comes for a count it holds, and the same root again
    const held = SIGNED_PER_LANE + 5
    const conflicting = propose(testCheckpoint({ count: held, root: OTHER_ROOT }))
    const same = propose(testCheckpoint({ count: held, root: rootAt(held) }), BLOCK, new Date(1))
    const later = run(
      [
        { input: conflicting, reads: [readFor(conflicting), epochFor(conflicting)] },
        { input: same, reads: [readFor(same), epochFor(same)] },
      ],
      state,
    )
    // then it refuses the other root and signs the same one again
    expect(later.outputs.map((o) => o.event._tag)).toEqual(["AttestationRefused", "AttestationSigned"])
    expect((later.outputs[0]!.event as AttestationRefused).reason).toBe("conflicting-signature")
    // when a root comes for a count it forgot (the 10 oldest), even the root it signed there
    const forgotten = propose(testCheckpoint({ count: 10, root: rootAt(10) }), BLOCK, new Date(2))
    const refused = refusalOf(
      run([{ input: forgotten, reads: [readFor(forgotten), epochFor(forgotten)] }], state).outputs,
    )
    // then it refuses: it cannot tell whether it signed another root there
    expect(refused.reason).toBe("conflicting-signature")
    expect(refused.detail).toMatch(/count 10 is at or below .* floor 10/)
  })

  it("gives every shard its own state", () => {
    // given one core
    const core = makeOperatorCore({ privateKey: KEY, domain: TEST_DOMAIN, chains, maxBlocksAhead: 64 })
    // when one shard's state is updated in place
    const proposal = propose()
    const a = core.initial
    core.decide(a, proposal, [readFor(proposal), epochFor(proposal)])
    // then a fresh initial state is still empty
    expect(a.signed.size).toBe(1)
    expect(core.initial.signed.size).toBe(0)
  })

  it("given a core that decides as one operator but signs with another key (a replay), then it answers as that operator with a signature that does not recover to it", async () => {
    const throwaway = keccak256(stringToHex("a throwaway key"))
    const shadow = makeOperatorCore({
      privateKey: throwaway,
      operator: ME as `0x${string}`,
      domain: TEST_DOMAIN,
      chains,
      maxBlocksAhead: MAX_BLOCKS_AHEAD,
    })
    const proposal = propose()
    const [signed] = shadow.decide(shadow.initial, proposal, [readFor(proposal), epochFor(proposal)]).outputs
    expect(signed?._tag).toBe("AttestationSigned")
    const event = signed as AttestationSigned
    expect(event.operator).toBe(ME)
    const recovered = recoverCheckpointSigner({
      domain: TEST_DOMAIN,
      checkpoint: toTypedCheckpoint(event.checkpoint, event.epoch),
      signature: event.signature as `0x${string}`,
    })
    expect((await recovered).toLowerCase()).not.toBe(ME)
  })

  describe("a proposal for a block its own chain has not reached (issue 11: far-future proposals)", () => {
    const FAR = new BlockRef({ number: 1_000_000, hash: bytes32("ff") })

    it("given its own RPC's recorded latest head 100 and a proposal for block 1,000,000, when it decides, then it refuses at once as not-finalized, naming the block, the head and the margin", () => {
      // given
      const proposal = propose(testCheckpoint(), FAR)
      // when: the only read is its head (it did not wait, so it read no Outbox)
      const { outputs, state } = run([{ input: proposal, reads: [headFor(proposal, 100)] }])
      // then
      const refusal = refusalOf(outputs)
      expect(refusal.reason).toBe("not-finalized")
      expect(refusal.detail).toMatch(/block 1000000/)
      expect(refusal.detail).toMatch(/latest block is 100\b/)
      expect(refusal.detail).toMatch(/999900 blocks past it/)
      expect(refusal.detail).toMatch(/maxBlocksAhead 64/)
      expect(state.signed.size).toBe(0)
    })

    it("given the same log folded again by a fresh core (a replay, no RPC), then it makes the same refusal with the same id", () => {
      // given a log holding the proposal and the head read recorded for it
      const proposal = propose(testCheckpoint(), FAR)
      const log: Step[] = [{ input: proposal, reads: [headFor(proposal, 100)] }]
      // when two fresh cores fold it
      const [first, second] = [run(log), run(log)]
      // then both refuse, with byte-identical events
      expect(refusalOf(first.outputs).reason).toBe("not-finalized")
      expect(second.outputs.map((o) => o.id)).toEqual(first.outputs.map((o) => o.id))
      expect(second.outputs.map((o) => o.event)).toEqual(first.outputs.map((o) => o.event))
    })

    it.each([
      ["within the margin", 150],
      ["exactly at the margin", 100 + MAX_BLOCKS_AHEAD],
    ])(
      "given a proposal %s of its recorded head, and its own finalized read at the block, when it decides, then the head read is no reason to refuse and it signs",
      (_what, blockNumber) => {
        // given an honest proposal whose block its RPC reached late (it waited, then read)
        const proposal = propose(testCheckpoint(), new BlockRef({ number: blockNumber, hash: bytes32("40") }))
        // when
        const { outputs } = run([
          { input: proposal, reads: [headFor(proposal, 100), readFor(proposal), epochFor(proposal)] },
        ])
        // then
        expect(only(outputs)).toBeInstanceOf(AttestationSigned)
      },
    )

    it("given a head read of another operator, or of another chain, when it decides, then it is not its own and changes nothing", () => {
      // given a proposal read in full by this operator, beside head reads it did not make (planted, say)
      const proposal = propose(testCheckpoint(), new BlockRef({ number: 500, hash: bytes32("40") }))
      const planted = [
        headFor(proposal, 1, { reader: "0x0000000000000000000000000000000000000001" }),
        headFor(proposal, 1, { chainId: 902 }),
      ]
      // when
      const { outputs } = run([
        { input: proposal, reads: [...planted, readFor(proposal), epochFor(proposal)] },
      ])
      // then it signs on its own read
      expect(only(outputs)).toBeInstanceOf(AttestationSigned)
    })

    it("given its own read of the proposal's block made before the block was final, showing another root, when it decides, then it refuses root-mismatch, saying the block was not final yet; one that agrees confirms nothing", () => {
      // given
      const proposal = propose()
      const early = (root?: Bytes32) =>
        readFor(proposal, { finalized: 30, ...(root === undefined ? {} : { root }) })
      // when
      const refuted = run([{ input: proposal, reads: [headFor(proposal, 45), early(OTHER_ROOT)] }])
      const agreeing = run([{ input: proposal, reads: [headFor(proposal, 45), early()] }])
      // then
      const refusal = refusalOf(refuted.outputs)
      expect(refusal.reason).toBe("root-mismatch")
      expect(refusal.detail).toMatch(/had not finalized yet \(finalized head 30\)/)
      expect(refusalOf(agreeing.outputs).reason).toBe("not-finalized")
    })

    it("given a log recorded before head reads existed (no head read), when it is folded, then it decides as it did then", () => {
      // given a proposal whose only read is the Outbox read at its block
      const proposal = propose(testCheckpoint(), FAR)
      // when
      const { outputs } = run([{ input: proposal, reads: [readFor(proposal), epochFor(proposal)] }])
      // then it signs on that read, as the operator did when it recorded it
      expect(only(outputs)).toBeInstanceOf(AttestationSigned)
    })
  })
})

describe("operator core: signatures bound to an epoch", () => {
  const resignOf = (proposal: Envelope, epoch: number): Envelope => {
    const { checkpoint, previousCount, block } = proposal.event as CheckpointProposed
    return makeEnvelope(
      new CheckpointResignRequested({ checkpoint, previousCount, block, epoch, reason: "the Inbox moved" }),
      { producer: producerOf("attestation-collector", "attestation-collector"), causationId: null, time: T0 },
    )
  }

  it("given no read of its own of the destination Inbox's epoch (or only another operator's), when it decides, then it refuses rpc-invalid and signs nothing", () => {
    const proposal = propose()
    const alone = refusalOf(run([{ input: proposal, reads: [readFor(proposal)] }]).outputs)
    expect(alone.reason).toBe("rpc-invalid")
    expect(alone.detail).toMatch(/destination 902 showed no epoch/)
    const others = run([
      {
        input: proposal,
        reads: [readFor(proposal), epochFor(proposal, 3, "0x000000000000000000000000000000000000beef")],
      },
    ])
    expect(refusalOf(others.outputs).reason).toBe("rpc-invalid")
  })

  it("signs under the epoch its own read showed, and that epoch is part of the digest", () => {
    const proposal = propose()
    const signed = only(run([{ input: proposal, reads: [readFor(proposal), epochFor(proposal, 4)] }]).outputs)
    expect(signed).toBeInstanceOf(AttestationSigned)
    const event = signed as AttestationSigned
    expect(event.epoch).toBe(4)
    const under = (epoch: number) =>
      hashCheckpoint({ domain: TEST_DOMAIN, checkpoint: toTypedCheckpoint(testCheckpoint(), epoch) })
    expect(event.digest).toBe(under(4))
    expect(event.digest).not.toBe(under(3))
  })

  it("given a request to sign again naming an epoch, then it decides it as the proposal, signs the same root under the epoch it read (not the one named), and that is no second root", () => {
    const proposal = propose()
    const { outputs, state } = run([{ input: proposal, reads: [readFor(proposal), epochFor(proposal, 1)] }])
    const request = resignOf(proposal, 9)
    const again = run([{ input: request, reads: [readFor(request), epochFor(request, 2)] }], state)
    const [first, second] = [only(outputs), only(again.outputs)] as AttestationSigned[]
    expect([first!.epoch, second!.epoch]).toEqual([1, 2])
    expect(second!.checkpoint).toEqual(first!.checkpoint)
    expect(second!.signature).not.toBe(first!.signature)
    // A request its own Outbox read refutes is refused like a proposal.
    const refuted = run([
      { input: request, reads: [readFor(request, { root: OTHER_ROOT }), epochFor(request, 2)] },
    ])
    expect(refusalOf(refuted.outputs).reason).toBe("root-mismatch")
  })
})
