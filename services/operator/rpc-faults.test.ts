/**
 * An operator whose own RPC fails (issue 12, part 4: every fault ends in an
 * event, never in a silent loop). An answer that does not decode (a bare
 * 32-byte word where `latestCheckpoint` returns a struct) used to make it
 * retry forever, neither signing nor refusing; now it is asked a few times,
 * then recorded (`ChainReadFailed`, `rpc-invalid`) and the core refuses
 * naming the RPC. An RPC that does not answer holds the proposal; past
 * `rpc.unreachableAfterMs` the outage is recorded once, and its end; the
 * operator signs once its RPC answers again.
 */
import { keccak256, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { fakeReader, makeFakeChain } from "../../chains/evm/testing/fake-rpc.ts"
import type { ChainReader } from "../../chains/index.ts"
import {
  AttestationRefused,
  AttestationSigned,
  BlockRef,
  type ChainReadFailed,
  type ChainReadRecovered,
  type ChorusEvent,
  type Envelope,
  makeEnvelope,
  toAddress,
} from "../../schemas/index.ts"
import {
  inboxEpochReadOf,
  proposalOf,
  TEST_DOMAIN,
  TEST_LANE,
  testCheckpoint,
} from "../../test/fixtures/checkpoint.ts"
import { jsonLogger, producerOf } from "../runtime/index.ts"
import { makeOperatorCore } from "./core.ts"
import { makeOutboxObserver } from "./observe-outbox.ts"
import { SignedRoots } from "./signed-roots.ts"

const KEY = keccak256(stringToHex("operator-rpc-faults-test"))
const ME = toAddress(privateKeyToAccount(KEY).address)
const SECRET = "AbC123dEf456GhI789jKl012MnO345pQ"
const URL = `https://relayer:hunter2@rpc.example.com/v2/${SECRET}`
const REDACTED = "https://***:***@rpc.example.com/v2/***"
const T0 = new Date("2026-01-01T00:00:00.000Z")
const chains = [
  { chainId: TEST_LANE.srcChainId, outbox: TEST_LANE.outbox },
  { chainId: TEST_LANE.dstChainId, outbox: TEST_LANE.outbox },
]

/** Chain 901 on the operator's RPC: 50 blocks, all final, its Outbox at the test checkpoint. */
const chainOf = () => {
  const chain = makeFakeChain({
    chainId: 901,
    outbox: TEST_LANE.outbox as `0x${string}`,
    blocks: 50,
    sends: [],
  })
  const checkpoint = testCheckpoint()
  chain.latestCheckpoint = {
    srcChainId: 901,
    outbox: TEST_LANE.outbox as `0x${string}`,
    dstChainId: 902,
    root: checkpoint.root as `0x${string}`,
    count: checkpoint.count,
  }
  return chain
}

/** What the RPC does now: answers, answers a bare word to `eth_call`, or does not answer at all. */
type Mode = "honest" | "bare-word" | "down"

const setup = (options: { unreachableAfterMs?: number; finalityWaitMs?: number } = {}) => {
  const chain = chainOf()
  const rpc = { mode: "honest" as Mode, calls: 0 }
  const reader: ChainReader = fakeReader(
    chain,
    { tag: "finalized" },
    {
      url: URL,
      hooks: {
        answer: (method, answer) => {
          rpc.calls++
          if (rpc.mode === "down") throw new Error("connect ECONNREFUSED")
          if (rpc.mode === "bare-word" && method === "eth_call") return `0x${"11".repeat(32)}`
          return answer
        },
      },
    },
  )
  const lines: string[] = []
  const recorded: Array<{ event: ChorusEvent; cause: string }> = []
  const observe = makeOutboxObserver({
    operator: ME,
    chains,
    readerFor: () => reader,
    finalityWaitMs: options.finalityWaitMs ?? 60_000,
    maxBlocksAhead: 64,
    logger: jsonLogger({ write: (line) => lines.push(line) }, "debug"),
    signal: new AbortController().signal,
    pollIntervalMs: 5,
    rpcFaults: { unreachableAfterMs: options.unreachableAfterMs ?? 60_000, logEveryMs: 60_000 },
    record: async (event, input) => {
      recorded.push({ event, cause: input.id })
    },
  })
  const core = makeOperatorCore({ privateKey: KEY, domain: TEST_DOMAIN, chains, maxBlocksAhead: 64 })
  const producer = producerOf("operator", ME)
  /** The core's decision on a proposal and the reads its observer made for it. */
  const decide = (proposal: Envelope, reads: ReadonlyArray<ChorusEvent>) =>
    core.decide(
      core.initial,
      proposal,
      // The destination's epoch, read beside the source chain's (`observe-inbox-epoch.ts`), is not under test here.
      [...reads, inboxEpochReadOf(proposal, ME)].map((event) =>
        makeEnvelope(event, { producer, causationId: proposal.id, time: T0 }),
      ),
    ).outputs
  return { chain, rpc, observe, decide, lines, recorded }
}

/** A proposal of the test checkpoint at block 40 as chain 901 has it; `n` makes each one a new record. */
const proposalAt = (chain: ReturnType<typeof chainOf>, n = 0): Envelope =>
  proposalOf(
    testCheckpoint(),
    new BlockRef({ number: 40, hash: chain.hashes.get(40)! as never }),
    new Date(T0.getTime() + n),
  )

describe("an operator whose own RPC answers what does not decode", () => {
  it("given its RPC answers a bare 32-byte word to latestCheckpoint, when it observes a proposal, then it asks three times, records the fault once, and the core refuses rpc-invalid naming the redacted URL", {
    timeout: 5_000,
  }, async () => {
    // given
    const { chain, rpc, observe, decide, lines } = setup()
    rpc.mode = "bare-word"
    const proposal = proposalAt(chain)
    // when
    const reads = await observe({ signed: new SignedRoots() }, proposal)
    // then: one recorded failure, naming the RPC (redacted), what was asked and what it answered
    expect(reads.map((e) => e._tag)).toEqual(["ChainReadFailed"])
    const failure = reads[0] as ChainReadFailed
    expect(failure).toMatchObject({
      reader: ME,
      chainId: 901,
      outage: false,
      reason: "rpc-invalid",
      rpc: REDACTED,
      attempts: 3,
    })
    expect(failure.what).toMatch(/Outbox lane/)
    expect(failure.problem).toMatch(/does not decode/)
    // and the core refuses, saying so
    const [refusal] = decide(proposal, reads)
    expect(refusal).toBeInstanceOf(AttestationRefused)
    expect(refusal).toMatchObject({ reason: "rpc-invalid", operator: ME })
    expect((refusal as AttestationRefused).detail).toContain(REDACTED)
    expect((refusal as AttestationRefused).detail).toMatch(/does not decode/)
    // and nothing it logged or recorded holds a secret
    for (const secret of ["hunter2", SECRET]) {
      expect(lines.join("\n")).not.toContain(secret)
      expect(JSON.stringify(failure)).not.toContain(secret)
    }
    expect(lines.map((l) => JSON.parse(l).msg)).toContain(
      "its own RPC answered what does not decode, every time it was asked; refusing the proposal",
    )
  })

  it("given it refused a proposal on a garbled answer, when its RPC recovers and the checkpoint is proposed again, then it signs it: the refusal poisons nothing", async () => {
    // given
    const { chain, rpc, observe, decide } = setup()
    rpc.mode = "bare-word"
    const first = proposalAt(chain, 0)
    const [refused] = decide(first, await observe({ signed: new SignedRoots() }, first))
    expect(refused).toBeInstanceOf(AttestationRefused)
    // when
    rpc.mode = "honest"
    const again = proposalAt(chain, 1)
    const reads = await observe({ signed: new SignedRoots() }, again)
    // then
    expect(reads.map((e) => e._tag)).toEqual(["OutboxLaneRead"])
    expect(decide(again, reads)[0]).toBeInstanceOf(AttestationSigned)
  })
})

describe("an operator whose own RPC does not answer", () => {
  it("given its RPC is down for longer than rpc.unreachableAfterMs, when it observes a proposal, then it holds it, records the outage once and its end once, and signs when the RPC answers again", {
    timeout: 10_000,
  }, async () => {
    // given: its RPC down, a bound of 50 ms, a finality wait shorter than the outage
    const { chain, rpc, observe, decide, recorded, lines } = setup({
      unreachableAfterMs: 50,
      finalityWaitMs: 100,
    })
    rpc.mode = "down"
    const proposal = proposalAt(chain)
    // when: the RPC comes back after 400 ms of attempts
    const observing = observe({ signed: new SignedRoots() }, proposal)
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(rpc.calls).toBeGreaterThan(5)
    rpc.mode = "honest"
    const reads = await observing
    // then: one stall and one recovery, each caused by the proposal it held, whatever the attempts
    expect(recorded.map((r) => r.event._tag)).toEqual(["ChainReadFailed", "ChainReadRecovered"])
    expect(recorded.every((r) => r.cause === proposal.id)).toBe(true)
    const stall = recorded[0]!.event as ChainReadFailed
    expect(stall).toMatchObject({
      reader: ME,
      chainId: 901,
      outage: true,
      reason: "rpc-unreachable",
      rpc: REDACTED,
    })
    const recovery = recorded[1]!.event as ChainReadRecovered
    expect(recovery.since).toBe(stall.since)
    expect(recovery.attempts).toBeGreaterThanOrEqual(stall.attempts)
    // and it signs: the outage did not count against its finality wait
    expect(reads.map((e) => e._tag)).toEqual(["OutboxLaneRead"])
    expect(decide(proposal, reads)[0]).toBeInstanceOf(AttestationSigned)
    // and its log: the first failure, the stall, the recovery; not a line per attempt
    const messages = lines.map((l) => JSON.parse(l).msg).filter((m: string) => m.startsWith("RPC "))
    expect(messages).toEqual([
      "RPC failed; trying again",
      "RPC stalled: recorded on the log",
      "RPC answering again",
    ])
  })
})
