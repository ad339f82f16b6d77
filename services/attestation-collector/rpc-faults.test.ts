/**
 * A collector whose destination RPC fails (issue 12, part 4): it holds the
 * input and asks again until the RPC answers, records the outage once past
 * `rpc.unreachableAfterMs` and its end once, and then reads the set as
 * usual; it used to throw, and the bus redelivered the input forever,
 * saying so on stderr only.
 */
import { describe, expect, it } from "vitest"
import { type ChainReader, RpcCallError } from "../../chains/index.ts"
import {
  Address,
  BlockRef,
  type ChainReadFailed,
  type ChainReadRecovered,
  type ChorusEvent,
  OperatorWeight,
  toU256,
} from "../../schemas/index.ts"
import { bytes32, proposalOf, TEST_DOMAIN, testCheckpoint } from "../../test/fixtures/checkpoint.ts"
import type { ChainConfig } from "../config/index.ts"
import { quietLogger } from "../runtime/index.ts"
import { makeOperatorSetObserver } from "./observe-operator-set.ts"

const INBOX = Address.make("0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0")
const URL = "https://relayer:hunter2@rpc.example.com/v2/AbC123dEf456GhI789jKl012MnO345pQ"

describe("the collector's reads of a destination whose RPC does not answer", () => {
  it("given chain 902's RPC down for longer than the bound, when a proposal needs its set, then it waits, records the outage and its end once each, and reads the set", {
    timeout: 10_000,
  }, async () => {
    // given
    const rpc = { down: true, calls: 0 }
    const block = new BlockRef({ number: 100, hash: bytes32("0e") })
    const refused = () =>
      new RpcCallError({ chainId: 902, what: "Inbox.epoch()", urls: [URL], cause: new Error("ECONNREFUSED") })
    const inbox = {
      epoch: async () => {
        rpc.calls++
        if (rpc.down) throw refused()
        return { block, epoch: 1 }
      },
      operatorSet: async () => ({
        epoch: 1,
        operators: [new OperatorWeight({ address: INBOX, weight: toU256(1n) })],
        thresholdBps: 6667,
      }),
    }
    const reader = { chainId: 902, inbox: () => inbox } as unknown as ChainReader
    const recorded: ChorusEvent[] = []
    const observe = makeOperatorSetObserver({
      chains: [{ chainId: 902, inbox: INBOX }] as unknown as ReadonlyArray<ChainConfig>,
      readerFor: () => reader,
      domain: TEST_DOMAIN,
      logger: quietLogger({ write: () => true }),
      rpcFaults: { unreachableAfterMs: 50, logEveryMs: 60_000 },
      record: async (event) => {
        recorded.push(event)
      },
      signal: new AbortController().signal,
      pollIntervalMs: 5,
    })
    const proposal = proposalOf(
      testCheckpoint(),
      new BlockRef({ number: 50, hash: bytes32("50") }),
      new Date(),
    )
    // when: it comes back after 300 ms
    const reading = observe({ sets: new Map(), records: new Map() } as never, proposal)
    await new Promise((resolve) => setTimeout(resolve, 300))
    rpc.down = false
    const reads = await reading
    // then
    expect(rpc.calls).toBeGreaterThan(3)
    expect(reads.map((e) => e._tag)).toEqual(["OperatorSetRead"])
    expect(recorded.map((e) => e._tag)).toEqual(["ChainReadFailed", "ChainReadRecovered"])
    const [stall, recovery] = recorded as [ChainReadFailed, ChainReadRecovered]
    expect(stall).toMatchObject({
      reader: "attestation-collector",
      chainId: 902,
      outage: true,
      reason: "rpc-unreachable",
      rpc: "https://***:***@rpc.example.com/v2/***",
      what: "Inbox.epoch()",
    })
    expect(recovery.since).toBe(stall.since)
  })
})
