import { describe, expect, it } from "vitest"
import type { ChainReader } from "../../chains/index.ts"
import {
  Address,
  AttestationRefused,
  BlockRef,
  type Envelope,
  Hex,
  makeEnvelope,
  OutboxLaneRead,
} from "../../schemas/index.ts"
import { bytes32, TEST_DOMAIN, testCheckpoint } from "../../test/fixtures/checkpoint.ts"
import { producerOf, quietLogger } from "../runtime/index.ts"
import { newRecord } from "./checkpoint-record.ts"
import type { CollectorState } from "./core.ts"
import { makeSourceObserver } from "./observe-source.ts"

const forged = testCheckpoint({ root: bytes32("f0") })
const BLOCK = new BlockRef({ number: 50, hash: bytes32("0b") })
const PEER = Address.make(`0x${"0b".repeat(20)}`)
const SIGNER = Address.make(`0x${"0d".repeat(20)}`)

/** A state holding the proposed checkpoint, with a member's signature when `signed`. */
const stateWith = (signed: boolean): CollectorState => {
  const record = newRecord(forged, 0, 1_000, 0)
  record.proposal = { block: BLOCK, previousCount: 0 }
  if (signed) record.signatures.set(SIGNER, { signature: Hex.make(`0x${"11".repeat(65)}`), epoch: 1 })
  return { records: new Map([[record.key, record]]) } as unknown as CollectorState
}

const refusal = (reason: AttestationRefused["reason"]): Envelope =>
  makeEnvelope(
    new AttestationRefused({ checkpoint: forged, operator: PEER, reason, detail: "its own RPC shows…" }),
    {
      producer: producerOf("operator", PEER),
      causationId: null,
      time: new Date(),
    },
  )

/** The collector's source RPC: the lane at a block, final up to `finalized`. */
const readerOf = (rpc: { calls: number; hash: string; finalized: number }): ChainReader =>
  ({
    outboxLane: async (_lane: unknown, blockNumber: number) => {
      rpc.calls++
      return {
        block: new BlockRef({ number: blockNumber, hash: bytes32(rpc.hash) }),
        root: bytes32("aa"),
        count: forged.count,
        finalized: new BlockRef({ number: rpc.finalized, hash: bytes32("f1") }),
      }
    },
  }) as unknown as ChainReader

const observerOf = (rpc: { calls: number; hash: string; finalized: number }) =>
  makeSourceObserver({
    chains: [{ chainId: forged.srcChainId }],
    readerFor: () => readerOf(rpc),
    domain: TEST_DOMAIN,
    logger: quietLogger(),
    rpcFaults: { unreachableAfterMs: 5_000, logEveryMs: 60_000 },
    signal: new AbortController().signal,
  })

describe("the collector's read of a contested checkpoint's source lane", () => {
  it("reads the lane at the proposal's block once a signed checkpoint is refused with another root, once", async () => {
    const rpc = { calls: 0, hash: "0b", finalized: 60 }
    const observe = observerOf(rpc)
    const [read] = await observe(stateWith(true), refusal("root-mismatch"))
    expect(read).toBeInstanceOf(OutboxLaneRead)
    expect(read).toMatchObject({
      reader: "attestation-collector",
      block: { number: 50 },
      count: forged.count,
    })
    expect(await observe(stateWith(true), refusal("count-mismatch"))).toEqual([])
    expect(rpc.calls).toBe(1)
  })

  it("reads nothing for an uncontested checkpoint: no signature, or a refusal that names no other lane state", async () => {
    const rpc = { calls: 0, hash: "0b", finalized: 60 }
    const observe = observerOf(rpc)
    expect(await observe(stateWith(false), refusal("root-mismatch"))).toEqual([])
    expect(await observe(stateWith(true), refusal("not-finalized"))).toEqual([])
    expect(rpc.calls).toBe(0)
  })

  it("records nothing of a block that is not final on its RPC, or not the proposal's, and reads it again on the next input", async () => {
    const early = { calls: 0, hash: "0b", finalized: 40 }
    const observe = observerOf(early)
    expect(await observe(stateWith(true), refusal("root-mismatch"))).toEqual([])
    early.finalized = 60
    expect(await observe(stateWith(true), refusal("root-mismatch"))).toHaveLength(1)
    expect(early.calls).toBe(2)
    const other = { calls: 0, hash: "0c", finalized: 60 }
    expect(await observerOf(other)(stateWith(true), refusal("root-mismatch"))).toEqual([])
  })
})
