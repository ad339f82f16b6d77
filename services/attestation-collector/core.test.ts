import {
  concat,
  encodeErrorResult,
  keccak256,
  type LocalAccount,
  numberToHex,
  size,
  slice,
  stringToHex,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { inboxAbi, signCheckpoint } from "../../contracts/index.ts"
import {
  Address,
  AttestationRefused,
  AttestationSigned,
  BlockRef,
  Bytes32,
  type Checkpoint,
  CheckpointAttested,
  CheckpointExpired,
  type CheckpointProposed,
  DeliveryFailed,
  type Envelope,
  Hex,
  makeEnvelope,
  OperatorAttestedInvalid,
  OperatorEquivocated,
  OperatorSetRead,
  OperatorWeight,
  OutboxLaneRead,
  RootCommitted,
  SignatureVerdict,
  SignedCheckpoint,
  TxHash,
  toAddress,
  toU256,
} from "../../schemas/index.ts"
import {
  bytes32,
  proposalOf,
  TEST_DOMAIN,
  TEST_LANE,
  testCheckpoint,
} from "../../test/fixtures/checkpoint.ts"
import { toTypedCheckpoint } from "../operator/sign-checkpoint.ts"
import { foldCore, producerOf, stampOutputs } from "../runtime/index.ts"
import { checkpointKey } from "./checkpoint-record.ts"
import { makeCollectorCore } from "./core.ts"
import { checkpointDigest } from "./verify-signature.ts"

const TTL = 60_000
const T0 = Date.parse("2026-01-01T00:00:00.000Z")
const INBOX = Address.make("0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0")
const collector = producerOf("attestation-collector", "attestation-collector")

/** Four operators, ascending by address, with unequal weights: total 10, 6667 bps → 7 required. */
const [A, B, C, D] = Array.from({ length: 4 }, (_, i) =>
  privateKeyToAccount(keccak256(stringToHex(`collector-core-${i}`))),
).sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1)) as [
  LocalAccount,
  LocalAccount,
  LocalAccount,
  LocalAccount,
]
const OUTSIDER = privateKeyToAccount(keccak256(stringToHex("collector-core-outsider")))
const EPOCH_1: ReadonlyArray<readonly [LocalAccount, bigint]> = [
  [A, 5n],
  [B, 3n],
  [C, 1n],
  [D, 1n],
]
const addressOf = (account: LocalAccount) => toAddress(account.address)

const at = (ms: number) => new Date(T0 + ms)

const propose = (checkpoint = testCheckpoint(), time = 0): Envelope =>
  proposalOf(checkpoint, new BlockRef({ number: checkpoint.count * 10, hash: bytes32("0b") }), at(time))

const signatureOf = async (account: LocalAccount, checkpoint: Checkpoint, on = TEST_DOMAIN, epoch = 1) =>
  Hex.make(
    (
      await signCheckpoint({ account, domain: on, checkpoint: toTypedCheckpoint(checkpoint, epoch) })
    ).toLowerCase(),
  )

/** An operator's AttestationSigned, as the operator publishes it (its own key, unless forged). */
const signed = async (
  account: LocalAccount,
  checkpoint = testCheckpoint(),
  over: { operator?: LocalAccount; signature?: Hex; digest?: Bytes32; time?: number; epoch?: number } = {},
): Promise<Envelope> => {
  const operator = over.operator ?? account
  const epoch = over.epoch ?? 1
  return makeEnvelope(
    new AttestationSigned({
      checkpoint,
      epoch,
      digest: over.digest ?? checkpointDigest(TEST_DOMAIN, checkpoint, epoch),
      operator: addressOf(operator),
      signature: over.signature ?? (await signatureOf(account, checkpoint, TEST_DOMAIN, epoch)),
    }),
    { producer: producerOf("operator", operator.address), causationId: null, time: at(over.time ?? 0) },
  )
}

const refused = (account: LocalAccount, checkpoint = testCheckpoint(), time = 0): Envelope =>
  makeEnvelope(
    new AttestationRefused({
      checkpoint,
      operator: addressOf(account),
      reason: "root-mismatch",
      detail: "its own RPC shows root 0xcc…",
    }),
    { producer: producerOf("operator", account.address), causationId: null, time: at(time) },
  )

/** The collector's read of destination 902's operator set, recorded for `input`. */
const setRead = (input: Envelope, epoch: number, members = EPOCH_1): Envelope =>
  makeEnvelope(
    new OperatorSetRead({
      lane: TEST_LANE,
      inbox: INBOX,
      epoch,
      block: new BlockRef({ number: 100 + epoch, hash: bytes32("0e") }),
      operators: [...members]
        .sort(([x], [y]) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1))
        .map(
          ([account, weight]) => new OperatorWeight({ address: addressOf(account), weight: toU256(weight) }),
        ),
      thresholdBps: 6667,
    }),
    { producer: collector, causationId: input.id, time: new Date(input.time) },
  )

/** A collector fed one input at a time, as the runtime does; the first input brings epoch 1's set. */
const startCollector = () => {
  const core = makeCollectorCore({ domain: TEST_DOMAIN, proposalTtlMs: TTL })
  let state = core.initial
  let first = true
  return {
    feed: (input: Envelope, reads: ReadonlyArray<Envelope> = []) => {
      const all = first && reads.length === 0 ? [setRead(input, 1)] : reads
      first = false
      const decision = core.decide(state, input, all)
      state = decision.state
      return stampOutputs(collector, input, decision.outputs)
    },
    get state() {
      return state
    },
  }
}

const verdictsOf = (outputs: ReadonlyArray<Envelope>) =>
  outputs.map((o) => o.event).filter((e): e is SignatureVerdict => e instanceof SignatureVerdict)
const attestedOf = (outputs: ReadonlyArray<Envelope>) =>
  outputs.map((o) => o.event).filter((e): e is CheckpointAttested => e instanceof CheckpointAttested)
const expiredOf = (outputs: ReadonlyArray<Envelope>) =>
  outputs.map((o) => o.event).filter((e): e is CheckpointExpired => e instanceof CheckpointExpired)
const resultsOf = (outputs: ReadonlyArray<Envelope>) => verdictsOf(outputs).map((v) => v.result)

describe("attestation-collector core", () => {
  it("attests once signed stake meets the Inbox's threshold with unequal weights", async () => {
    // given a proposal and epoch 1 (A 5, B 3, C 1, D 1: 7 of 10 required at 6667 bps)
    const c = startCollector()
    expect(c.feed(propose())).toEqual([])
    // when C (1) and A (5) sign: 6 — one short
    const short = [...c.feed(await signed(C)), ...c.feed(await signed(A))]
    // then both are accepted with their weights, and nothing is attested yet
    expect(verdictsOf(short).map((v) => [v.result, v.weight, v.epoch])).toEqual([
      ["accepted", "1", 1],
      ["accepted", "5", 1],
    ])
    expect(attestedOf(short)).toEqual([])
    // when D (1) signs: 7, exactly the required stake
    const outputs = c.feed(await signed(D))
    // then the checkpoint is attested with A, C, D strictly ascending, their stake and the set's
    expect(resultsOf(outputs)).toEqual(["accepted"])
    const [attested] = attestedOf(outputs)
    expect(attested).toBeDefined()
    expect(attested!.signatures.map((s) => s.signer)).toEqual([A, C, D].map(addressOf))
    expect(attested!.signedStake).toBe("7")
    expect(attested!.totalStake).toBe("10")
    expect(attested!.thresholdBps).toBe(6667)
    expect(attested!.epoch).toBe(1)
    expect(attested!.digest).toBe(checkpointDigest(TEST_DOMAIN, testCheckpoint(), 1))
    expect(attested!.signatures[0]!.signature).toBe(await signatureOf(A, testCheckpoint()))
  })

  it("judges a second signature from the same signer a duplicate, counted once", async () => {
    // given a proposal and A's signature
    const c = startCollector()
    c.feed(propose())
    c.feed(await signed(A))
    // when A's signature arrives again, then B's (A counted twice would make 10 ≥ 7; once is 5 + 3 = 8)
    const again = c.feed(await signed(A, testCheckpoint(), { time: 1 }))
    // then it is a duplicate, with no weight
    expect(verdictsOf(again).map((v) => [v.result, v.weight])).toEqual([["duplicate", "0"]])
    expect(attestedOf(again)).toEqual([])
    const [attested] = attestedOf(c.feed(await signed(B)))
    expect(attested!.signedStake).toBe("8")
  })

  it("judges a signer outside the destination's set an unknown signer", async () => {
    // given a proposal
    const c = startCollector()
    c.feed(propose())
    // when a valid signature from a key outside the set arrives
    const [verdict] = verdictsOf(c.feed(await signed(OUTSIDER)))
    // then it is an unknown signer, recovered but not counted
    expect(verdict!.result).toBe("unknown-signer")
    expect(verdict!.signer).toBe(addressOf(OUTSIDER))
    expect(verdict!.weight).toBe("0")
    expect(verdict!.reason).toMatch(/not in destination 902's operator set at epoch 1/)
  })

  it("judges forged and malformed signatures invalid, and counts none of them", async () => {
    // given a proposal and A's genuine signature bytes
    const c = startCollector()
    c.feed(propose())
    const checkpoint = testCheckpoint()
    const genuine = (await signatureOf(A, checkpoint)) as `0x${string}`
    const r = slice(genuine, 0, 32)
    const s = BigInt(slice(genuine, 32, 64))
    const v = Number(slice(genuine, 64, 65))
    const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const cases: ReadonlyArray<readonly [string, Promise<Envelope>, RegExp]> = [
      ["B's signature published as A's", signed(B, checkpoint, { operator: A }), /recovers to 0x/],
      [
        "a digest field that is not the checkpoint's",
        signed(A, checkpoint, { digest: bytes32("dd") }),
        /is not the EIP-712 digest .* of the checkpoint under epoch 1/,
      ],
      [
        "a signature over another network's domain",
        signatureOf(A, checkpoint, { ...TEST_DOMAIN, chainId: 902 }).then((signature) =>
          signed(A, checkpoint, { signature }),
        ),
        /recovers to 0x/,
      ],
      [
        "the high-s twin of a valid signature",
        signed(A, checkpoint, {
          signature: Hex.make(
            concat([r, numberToHex(N - s, { size: 32 }), numberToHex(v === 27 ? 28 : 27, { size: 1 })]),
          ),
        }),
        /malleable/,
      ],
      [
        "v = 0",
        signed(A, checkpoint, { signature: Hex.make(concat([slice(genuine, 0, 64), "0x00"])) }),
        /v is 0/,
      ],
      ["64 bytes", signed(A, checkpoint, { signature: Hex.make(slice(genuine, 0, 64)) }), /64 bytes/],
    ]
    for (const [what, input, reason] of cases) {
      // when it arrives
      const outputs = c.feed(await input)
      // then it is invalid, says why, and counts nothing
      const [verdict] = verdictsOf(outputs)
      expect(verdict?.result, what).toBe("invalid")
      expect(verdict!.reason, what).toMatch(reason)
      expect(verdict!.weight).toBe("0")
      expect(attestedOf(outputs)).toEqual([])
    }
    expect(size(genuine)).toBe(65)
    // and A's genuine signature still counts afterwards: nothing invalid was recorded for A
    expect(resultsOf(c.feed(await signed(A)))).toEqual(["accepted"])
  })

  it("records a valid signature after attestation as late, without attesting again", async () => {
    // given an attested checkpoint (A 5 + B 3)
    const c = startCollector()
    c.feed(propose())
    c.feed(await signed(A))
    expect(attestedOf(c.feed(await signed(B)))).toHaveLength(1)
    // when C signs
    const outputs = c.feed(await signed(C))
    // then its verdict is late, with its weight, and there is no second attestation
    expect(verdictsOf(outputs).map((v) => [v.result, v.weight])).toEqual([["late", "1"]])
    expect(verdictsOf(outputs)[0]!.reason).toMatch(/already attested at epoch 1 with 8 of 10/)
    expect(attestedOf(outputs)).toEqual([])
    expect(c.state.records.get(checkpointKey(testCheckpoint()))!.signatures.size).toBe(3)
  })

  it("holds signatures that arrive before their proposal and attests when it arrives", async () => {
    // given A and B sign before the collector saw the proposal
    const c = startCollector()
    const early = [...c.feed(await signed(A)), ...c.feed(await signed(B))]
    // then they are accepted and held, not attested and not dropped
    expect(resultsOf(early)).toEqual(["accepted", "accepted"])
    expect(verdictsOf(early)[0]!.reason).toMatch(/held until the checkpoint's proposal arrives/)
    expect(attestedOf(early)).toEqual([])
    // when the proposal arrives
    const proposal = propose()
    const outputs = c.feed(proposal)
    // then it is attested at once, caused by the proposal
    const [attested] = attestedOf(outputs)
    expect(attested!.signatures.map((s) => s.signer)).toEqual([A, B].map(addressOf))
    expect(outputs[0]!.causationId).toBe(proposal.id)
  })

  it("given signatures under epoch 1 short of the threshold, when the Inbox moves to epoch 2, then none of them count any more, and the operators are asked once to sign it again under epoch 2", async () => {
    // given a proposal signed by A (5) and C (1) under epoch 1: 6 of 7
    const c = startCollector()
    const proposal = propose()
    c.feed(proposal)
    c.feed(await signed(A))
    expect(attestedOf(c.feed(await signed(C)))).toEqual([])
    // when epoch 2 (B 3, C 1, D 1: 4 of 5 required) is read while handling a refusal from D
    const refusal = refused(D)
    const rotated = c.feed(refusal, [setRead(refusal, 2, EPOCH_1.slice(1))])
    // then nothing is attested, and the proposal is asked to be signed again under epoch 2, repeating it
    expect(attestedOf(rotated)).toEqual([])
    const requests = rotated.map((o) => o.event).filter((e) => e._tag === "CheckpointResignRequested")
    expect(requests).toHaveLength(1)
    const { checkpoint, previousCount, block } = proposal.event as CheckpointProposed
    expect(requests[0]).toMatchObject({ checkpoint, previousCount, block, epoch: 2 })
    // when B signs under epoch 2 (3 of 4): C's epoch-1 signature does not count
    expect(attestedOf(c.feed(await signed(B, testCheckpoint(), { epoch: 2 })))).toEqual([])
    // and a late signature under epoch 1 is kept as stale, counted nowhere, and asks nothing twice
    const stale = c.feed(await signed(D))
    expect(verdictsOf(stale).map((v) => v.result)).toEqual(["stale-epoch"])
    expect(stale.filter((o) => o.event._tag === "CheckpointResignRequested")).toEqual([])
    // when C signs again under epoch 2
    const outputs = c.feed(await signed(C, testCheckpoint(), { epoch: 2 }))
    // then it is attested at epoch 2 with B and C, under epoch 2's digest
    expect(verdictsOf(outputs).map((v) => [v.result, v.epoch])).toEqual([["accepted", 2]])
    const [attested] = attestedOf(outputs)
    expect(attested!.epoch).toBe(2)
    expect(attested!.digest).toBe(checkpointDigest(TEST_DOMAIN, testCheckpoint(), 2))
    expect(attested!.signatures.map((s) => s.signer)).toEqual([B, C].map(addressOf))
    expect([attested!.signedStake, attested!.totalStake]).toEqual(["4", "5"])
  })

  it("given signatures under an epoch the collector has not read yet, then it holds them and attests on reading that epoch", async () => {
    // given B (3) and C (1) signed under epoch 2 while the collector holds epoch 1
    const c = startCollector()
    c.feed(propose())
    const ahead = c.feed(await signed(B, testCheckpoint(), { epoch: 2 }))
    expect(verdictsOf(ahead).map((v) => [v.result, v.weight])).toEqual([["accepted", "0"]])
    expect(verdictsOf(ahead)[0]!.reason).toMatch(/ahead of epoch 1/)
    c.feed(await signed(C, testCheckpoint(), { epoch: 2 }))
    // when epoch 2 (B 3, C 1, D 1: 4 required) is read for the next input
    const next = propose(testCheckpoint({ count: 6, root: bytes32("bb") }), 1)
    const outputs = c.feed(next, [setRead(next, 2, EPOCH_1.slice(1))])
    // then the first checkpoint is attested at epoch 2
    const [attested] = attestedOf(outputs)
    expect(attested!.checkpoint.count).toBe(5)
    expect(attested!.epoch).toBe(2)
  })

  describe("a rotation after an attestation (issue 14: a rotation strands nothing)", () => {
    /** The submitter's record of a commit the Inbox refused with `revert`, for the test lane. */
    const commitRefused = (revertData: string, time: number) =>
      makeEnvelope(
        new DeliveryFailed({
          lane: TEST_LANE,
          action: "commit",
          messageIds: [],
          transactionHash: null,
          reason: "the Inbox refused it",
          revertData: Hex.make(revertData),
        }),
        { producer: producerOf("submitter", "902"), causationId: null, time: at(time) },
      )
    const epochLeft = encodeErrorResult({ abi: inboxAbi, errorName: "EpochLeft", args: [1n, 2n] })
    const unknownSigner = encodeErrorResult({
      abi: inboxAbi,
      errorName: "UnknownSigner",
      args: [2n, D.address],
    })
    /** Attested at epoch 1 by A, B and D (9 of 10); then D leaves the set at epoch 2 (A 5, B 3, C 1: 6 required). */
    const attestedThenRotated = async () => {
      const c = startCollector()
      c.feed(propose())
      for (const account of [A, B, D]) c.feed(await signed(account))
      expect(attestedOf(c.feed(await signed(C))).length).toBe(0)
      return c
    }

    it("given a checkpoint attested under epoch 1, when the Inbox refuses its commit with EpochLeft after moving to epoch 2, then the operators are asked to sign it again under epoch 2, and it is attested again once they have", async () => {
      // given a checkpoint attested at epoch 1, and an Inbox that moved to epoch 2 without D
      const c = await attestedThenRotated()
      // when the submitter records the commit refused with EpochLeft, and the read made for it shows epoch 2
      const failed = commitRefused(epochLeft, 1)
      const outputs = c.feed(failed, [setRead(failed, 2, EPOCH_1.slice(0, 3))])
      // then nothing counts yet under epoch 2: the operators are asked to sign again under it
      expect(attestedOf(outputs)).toEqual([])
      const [request, ...more] = outputs
        .map((o) => o.event)
        .filter((e) => e._tag === "CheckpointResignRequested")
      expect(more).toEqual([])
      expect(request).toMatchObject({ checkpoint: testCheckpoint(), epoch: 2 })
      // when A and B sign again under epoch 2 (8 of 9, 6 required)
      c.feed(await signed(A, testCheckpoint(), { epoch: 2, time: 2 }))
      const again = attestedOf(c.feed(await signed(B, testCheckpoint(), { epoch: 2, time: 3 })))
      // then it is attested again at epoch 2, with the members' epoch-2 signatures only
      expect(again).toHaveLength(1)
      expect(again[0]!.epoch).toBe(2)
      expect(again[0]!.signatures.map((s) => s.signer)).toEqual([A, B].map(addressOf).sort())
      // and a second refusal of the same lane asks nothing twice
      const twice = commitRefused(epochLeft, 4)
      const second = c.feed(twice, [setRead(twice, 2, EPOCH_1.slice(0, 3))])
      expect(second.filter((o) => o.event._tag === "CheckpointResignRequested")).toEqual([])
    })

    it("attests nothing again for a committed root, a refusal for another reason, or with no newer set", async () => {
      const committed = await attestedThenRotated()
      committed.feed(
        makeEnvelope(
          new RootCommitted({
            checkpoint: testCheckpoint(),
            transactionHash: TxHash.make(bytes32("7c")),
            block: new BlockRef({ number: 300, hash: bytes32("0c") }),
          }),
          {
            producer: producerOf("submitter", "902"),
            causationId: null,
            time: at(1),
          },
        ),
      )
      const afterCommit = commitRefused(unknownSigner, 2)
      expect(attestedOf(committed.feed(afterCommit, [setRead(afterCommit, 2, EPOCH_1.slice(0, 3))]))).toEqual(
        [],
      )

      const paused = await attestedThenRotated()
      const pausedFailure = commitRefused(encodeErrorResult({ abi: inboxAbi, errorName: "InboxPaused" }), 1)
      expect(
        attestedOf(paused.feed(pausedFailure, [setRead(pausedFailure, 2, EPOCH_1.slice(0, 3))])),
      ).toEqual([])

      const sameEpoch = await attestedThenRotated()
      expect(attestedOf(sameEpoch.feed(commitRefused(unknownSigner, 1), [])).length).toBe(0)
    })
  })

  it("expires a proposal short of the threshold once an input arrives past its deadline", async () => {
    // given a proposal at t0, C's signature and B's refusal
    const c = startCollector()
    c.feed(propose())
    c.feed(await signed(C))
    c.feed(refused(B))
    // when an input arrives exactly at the deadline, nothing expires
    expect(expiredOf(c.feed(propose(testCheckpoint({ count: 6, root: bytes32("bb") }), TTL)))).toEqual([])
    // when an input arrives one millisecond past it
    const outputs = c.feed(propose(testCheckpoint({ count: 7, root: bytes32("cc") }), TTL + 1))
    // then the first proposal expires, naming who signed, who did not (and why), and how long it waited
    const expired = expiredOf(outputs)
    expect(expired.map((e) => e.checkpoint.count)).toEqual([5])
    const [e] = expired
    expect([e!.signedStake, e!.requiredStake]).toEqual(["1", "7"])
    expect(e!.digest).toBe(checkpointDigest(TEST_DOMAIN, testCheckpoint(), 1))
    expect(e!.reason).toContain(`signed by ${addressOf(C)} (1): 1 of 7 required`)
    expect(e!.reason).toContain(`${addressOf(B)} (3, refused: root-mismatch`)
    expect(e!.reason).toContain(`${addressOf(A)} (5)`)
    expect(e!.reason).toContain(`after ${TTL + 1} ms`)
    // and a valid signature for it afterwards is late; a re-proposal revives it and counts what was held
    expect(resultsOf(c.feed(await signed(A, testCheckpoint(), { time: TTL + 2 })))).toEqual(["late"])
    expect(c.feed(propose(testCheckpoint(), TTL + 3))).toEqual([])
    const [attested] = attestedOf(c.feed(await signed(D, testCheckpoint(), { time: TTL + 3 })))
    expect(attested!.signatures.map((s) => s.signer)).toEqual([A, C, D].map(addressOf))
  })

  it("judges signatures unknown and expires proposals when no operator set is known", async () => {
    // given a collector that never read a set for destination 902
    const core = makeCollectorCore({ domain: TEST_DOMAIN, proposalTtlMs: TTL })
    const steps = [
      { input: propose(), reads: [] },
      { input: await signed(A), reads: [] },
      { input: propose(testCheckpoint({ count: 6, root: bytes32("bb") }), TTL + 1), reads: [] },
    ]
    // when proposals and a signature arrive
    const { outputs } = foldCore(core, collector, steps)
    // then the signature is an unknown signer and the proposal expires, saying no set is known
    expect(resultsOf(outputs)).toEqual(["unknown-signer"])
    expect(verdictsOf(outputs)[0]!.reason).toMatch(/no operator set is known for destination 902/)
    expect(expiredOf(outputs)[0]!.reason).toMatch(/no operator set is known for destination 902/)
  })

  it("produces the same outputs with the same ids when its log is folded again", async () => {
    // given a log of inputs with their recorded reads
    const proposal = propose()
    const steps = [
      { input: proposal, reads: [setRead(proposal, 1)] },
      { input: await signed(C), reads: [] },
      { input: await signed(OUTSIDER), reads: [] },
      { input: await signed(A), reads: [] },
      { input: await signed(B), reads: [] },
      { input: await signed(D), reads: [] },
      { input: propose(testCheckpoint({ count: 6, root: bytes32("bb") }), TTL + 1), reads: [] },
    ]
    // when two fresh cores fold it
    const first = foldCore(makeCollectorCore({ domain: TEST_DOMAIN, proposalTtlMs: TTL }), collector, steps)
    const second = foldCore(makeCollectorCore({ domain: TEST_DOMAIN, proposalTtlMs: TTL }), collector, steps)
    // then both produce the same events with the same ids
    expect(first.outputs.map((o) => o.id)).toEqual(second.outputs.map((o) => o.id))
    expect(first.outputs.map((o) => o.type)).toEqual([
      "SignatureVerdict",
      "SignatureVerdict",
      "SignatureVerdict",
      "SignatureVerdict",
      "CheckpointAttested",
      "SignatureVerdict",
    ])
  })

  describe("evidence of equivocation (issue 14)", () => {
    const evidenceOf = (outputs: ReadonlyArray<Envelope>) =>
      outputs.map((o) => o.event).filter((e): e is OperatorEquivocated => e instanceof OperatorEquivocated)
    const honest = testCheckpoint()
    const forged = testCheckpoint({ root: bytes32("f0") })

    it("given an operator's signatures over two roots for one lane and count, then evidence names both, once", async () => {
      // given the real checkpoint, proposed and signed by A, and a rival root for the same lane and count
      const c = startCollector()
      c.feed(propose(honest))
      c.feed(await signed(A, honest))
      c.feed(propose(forged, 1))
      // when A signs the rival root too
      const outputs = c.feed(await signed(A, forged, { time: 2 }))
      // then the collector publishes the pair, each checkpoint with A's own signature over it
      const [evidence, ...more] = evidenceOf(outputs)
      expect(more).toEqual([])
      expect(evidence!.operator).toBe(addressOf(A))
      expect(evidence!.first).toEqual(
        new SignedCheckpoint({
          checkpoint: honest,
          epoch: 1,
          digest: checkpointDigest(TEST_DOMAIN, honest, 1),
          signature: await signatureOf(A, honest),
        }),
      )
      expect(evidence!.second.checkpoint).toEqual(forged)
      expect(evidence!.second.signature).toBe(await signatureOf(A, forged))
      expect(evidence!.reason).toContain("OperatorRegistry.proveEquivocation")
      // when the same signature comes again, or B signs only one of them: no more evidence
      expect(evidenceOf(c.feed(await signed(A, forged, { time: 3 })))).toEqual([])
      expect(evidenceOf(c.feed(await signed(B, honest, { time: 4 })))).toEqual([])
    })

    it("given a signature that is not the operator's own, or roots for different counts, then there is no evidence", async () => {
      const c = startCollector()
      c.feed(propose(honest))
      c.feed(await signed(A, honest))
      // B publishes a signature over the rival root claiming to be A: invalid, and framing A proves nothing
      const framed = c.feed(
        await signed(B, forged, { operator: A, signature: await signatureOf(B, forged), time: 1 }),
      )
      expect(resultsOf(framed)).toEqual(["invalid"])
      expect(evidenceOf(framed)).toEqual([])
      // A signs a later count with another root: an honest step forward, not equivocation
      expect(
        evidenceOf(c.feed(await signed(A, testCheckpoint({ count: 6, root: bytes32("bb") }), { time: 2 }))),
      ).toEqual([])
      // A key outside the set signing both roots is no operator of this destination
      c.feed(await signed(OUTSIDER, honest, { time: 3 }))
      expect(evidenceOf(c.feed(await signed(OUTSIDER, forged, { time: 4 })))).toEqual([])
    })

    it("finds a rival in one lookup, however many records name the lane and count, and forgets it with its record", async () => {
      const c = startCollector()
      c.feed(propose(honest))
      c.feed(await signed(A, honest))
      // a flood of junk proposals and refusals for the same lane and count, under other roots
      for (let i = 0; i < 200; i++) {
        const junk = testCheckpoint({ root: bytes32((i + 16).toString(16).padStart(2, "0")) })
        c.feed(propose(junk, 1))
        c.feed(refused(B, junk, 1))
      }
      // only signatures index the lane and count: one entry, A's
      expect([...c.state.signedFirst.values()].map((bySigner) => [...bySigner.keys()])).toEqual([
        [addressOf(A)],
      ])
      expect(evidenceOf(c.feed(await signed(A, forged, { time: 2 })))).toHaveLength(1)
      // every record expires once an input comes past its deadline, and is forgotten a TTL after that
      c.feed(propose(testCheckpoint({ count: 998 }), 3 * TTL))
      c.feed(propose(testCheckpoint({ count: 999 }), 5 * TTL))
      expect(c.state.signedFirst.size).toBe(0)
    })
  })

  describe("a flood of proposals (issue 11: a proposal costs O(1) to admit and to expire)", () => {
    /** A `records` map that counts how many entries anything walked over. */
    class WalkCountingMap<K, V> extends Map<K, V> {
      walked = 0
      override *[Symbol.iterator](): MapIterator<[K, V]> {
        for (const entry of super.entries()) {
          this.walked++
          yield entry
        }
      }
      override *entries(): MapIterator<[K, V]> {
        yield* this[Symbol.iterator]()
      }
      override *values(): MapIterator<V> {
        for (const [, value] of this) yield value
      }
      override *keys(): MapIterator<K> {
        for (const [key] of this) yield key
      }
      override forEach(f: (value: V, key: K, map: Map<K, V>) => void): void {
        for (const [key, value] of this) f(value, key, this)
      }
    }

    /** A collector whose records map counts walks, fed epoch 1's set with its first input. */
    const countingCollector = () => {
      const core = makeCollectorCore({ domain: TEST_DOMAIN, proposalTtlMs: TTL })
      const records = new WalkCountingMap<Bytes32, never>()
      let state = { ...core.initial, records } as typeof core.initial
      let first = true
      return {
        records,
        feed: (input: Envelope) => {
          const decision = core.decide(state, input, first ? [setRead(input, 1)] : [])
          first = false
          state = decision.state
          return stampOutputs(collector, input, decision.outputs)
        },
      }
    }
    /** A proposal no chain ever had: the same lane and count, a root of its own. */
    const junk = (i: number, time: number) =>
      propose(testCheckpoint({ root: Bytes32.make(keccak256(stringToHex(`junk ${i}`))) }), time)

    it("given 2,000 junk proposals held pending, when each is admitted, then admitting one walks none of the others (not every record on every input)", () => {
      // given / when
      const c = countingCollector()
      const N = 2_000
      for (let i = 0; i < N; i++) expect(c.feed(junk(i, i))).toEqual([])
      // then: O(1) per proposal, so the walks stay far below one per held record per input (N²/2 = 2,000,000)
      expect(c.records.size).toBe(N)
      expect(c.records.walked).toBeLessThanOrEqual(N)
    })

    it("given 2,000 junk proposals held pending, when one input arrives past every deadline, then every one expires, in first-heard order, each visited once", () => {
      // given
      const c = countingCollector()
      const N = 2_000
      const proposals = Array.from({ length: N }, (_, i) => junk(i, i))
      for (const proposal of proposals) c.feed(proposal)
      const walkedBefore = c.records.walked
      // when
      const expired = expiredOf(c.feed(propose(testCheckpoint({ count: 99, root: bytes32("99") }), N + TTL)))
      // then
      const digests = proposals.map((p) =>
        checkpointDigest(TEST_DOMAIN, (p.event as { checkpoint: Checkpoint }).checkpoint, 1),
      )
      expect(expired.map((e) => e.digest)).toEqual(digests)
      expect(c.records.walked - walkedBefore).toBeLessThanOrEqual(N)
      // and a TTL after they expired, they are forgotten
      c.feed(propose(testCheckpoint({ count: 98, root: bytes32("98") }), N + 2 * TTL + 1))
      expect(c.records.size).toBeLessThanOrEqual(2)
    })

    it("given a junk proposal whose count no uint32 holds, when it is admitted and its deadline passes, then it is held and expires like any other, never a throw that would stall the partition", () => {
      // given
      const c = startCollector()
      const huge = testCheckpoint({ count: 2 ** 33, root: bytes32("ee") })
      // when / then
      expect(c.feed(propose(huge, 0))).toEqual([])
      const expired = expiredOf(c.feed(propose(testCheckpoint({ count: 9, root: bytes32("e9") }), TTL + 1)))
      expect(expired.map((e) => e.checkpoint.count)).toEqual([2 ** 33])
    })

    it("given checkpoints first heard in one order and due to expire in another, when they expire on one input, then they expire in first-heard order", async () => {
      // given X first heard from a refusal at t=0 and proposed at t=10, and Y proposed at t=5: Y is due first
      const c = startCollector()
      const x = testCheckpoint({ count: 6, root: bytes32("a6") })
      const y = testCheckpoint({ count: 7, root: bytes32("a7") })
      c.feed(refused(B, x, 0))
      c.feed(propose(y, 5))
      // the refusal's record would expire as never proposed at TTL; proposing X before that renews its deadline
      c.feed(propose(x, 10))
      // when one input arrives after both deadlines
      const expired = expiredOf(c.feed(propose(testCheckpoint({ count: 8, root: bytes32("a8") }), 11 + TTL)))
      // then X (heard first) expires before Y
      expect(expired.map((e) => e.checkpoint.count)).toEqual([6, 7])
    })
  })
})

describe("attestation-collector core: evidence of an invalid attestation (issue 14)", () => {
  const forged = testCheckpoint({ root: bytes32("f0") })
  const BLOCK = new BlockRef({ number: forged.count * 10, hash: bytes32("0b") })
  const TRUE_ROOT = bytes32("aa")
  /** The collector's own read of the lane at the proposal's block, recorded for `input`. */
  const sourceRead = (
    input: Envelope,
    seen: { root?: Bytes32; count?: number; hash?: Bytes32; finalized?: number } = {},
  ): Envelope =>
    makeEnvelope(
      new OutboxLaneRead({
        reader: "attestation-collector",
        srcChainId: forged.srcChainId,
        outbox: forged.outbox,
        dstChainId: forged.dstChainId,
        block: new BlockRef({ number: BLOCK.number, hash: seen.hash ?? BLOCK.hash }),
        finalized: new BlockRef({ number: seen.finalized ?? BLOCK.number + 5, hash: bytes32("f1") }),
        root: seen.root ?? TRUE_ROOT,
        count: seen.count ?? forged.count,
      }),
      { producer: collector, causationId: input.id, time: new Date(input.time) },
    )
  const invalidOf = (outputs: ReadonlyArray<Envelope>) =>
    outputs
      .map((o) => o.event)
      .filter((e): e is OperatorAttestedInvalid => e instanceof OperatorAttestedInvalid)
  const refusedMismatch = (account: LocalAccount, time = 0) =>
    makeEnvelope(
      new AttestationRefused({
        checkpoint: forged,
        operator: addressOf(account),
        reason: "root-mismatch",
        detail: `its own RPC shows root ${TRUE_ROOT}`,
      }),
      { producer: producerOf("operator", account.address), causationId: null, time: at(time) },
    )

  it("given a member's signature over a forged root its peer refused, when the collector's own final read of the proposal's block shows the count with another root, then evidence names the signer, the chain's root and the refusing peer, once", async () => {
    const c = startCollector()
    c.feed(propose(forged))
    expect(invalidOf(c.feed(await signed(D, forged)))).toEqual([])
    const refusal = refusedMismatch(B, 1)
    const outputs = c.feed(refusal, [sourceRead(refusal)])
    const [evidence, ...more] = invalidOf(outputs)
    expect(more).toEqual([])
    expect(evidence!.operator).toBe(addressOf(D))
    expect(evidence!.signed.checkpoint).toEqual(forged)
    expect(evidence!.signed.epoch).toBe(1)
    expect(evidence!.signed.digest).toBe(checkpointDigest(TEST_DOMAIN, forged, 1))
    expect(evidence!.source).toMatchObject({
      count: forged.count,
      root: TRUE_ROOT,
      block: { number: BLOCK.number },
    })
    expect(evidence!.refusedBy).toEqual([addressOf(B)])
    expect(evidence!.reason).toContain("proveInvalidAttestation")
    // A later signer of the same forged root is reported too; nobody twice.
    const later = c.feed(await signed(C, forged, { time: 2 }))
    expect(invalidOf(later).map((e) => e.operator)).toEqual([addressOf(C)])
    expect(invalidOf(c.feed(refusedMismatch(A, 3)))).toEqual([])
  })

  it("given a read that agrees with the checkpoint, is of another block or count, or is not final, then there is no evidence", async () => {
    for (const seen of [
      { root: forged.root },
      { hash: bytes32("0c") },
      { count: forged.count + 1 },
      { finalized: BLOCK.number - 1 },
    ]) {
      const c = startCollector()
      c.feed(propose(forged))
      c.feed(await signed(D, forged))
      const refusal = refusedMismatch(B, 1)
      expect(invalidOf(c.feed(refusal, [sourceRead(refusal, seen)])), JSON.stringify(seen)).toEqual([])
    }
  })
})
