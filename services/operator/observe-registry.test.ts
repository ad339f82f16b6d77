import { describe, expect, it } from "vitest"
import { RpcCallError } from "../../chains/evm/errors.ts"
import type { ChainReader } from "../../chains/index.ts"
import {
  BlockRef,
  ChainId,
  makeEnvelope,
  OperatorSetObserved,
  OperatorWeight,
  RegistrySetRead,
  toAddress,
  U256,
} from "../../schemas/index.ts"
import { bytes32 } from "../../test/fixtures/checkpoint.ts"
import { producerOf, quietLogger } from "../runtime/index.ts"
import { makeRegistryObserver } from "./observe-registry.ts"

const HUB = { chainId: 901, registry: toAddress(`0x${"aa".repeat(20)}`) }
const ME = toAddress(`0x${"11".repeat(20)}`)
const SET = {
  epoch: 2,
  operators: [new OperatorWeight({ address: ME, weight: U256.make("1") })],
  thresholdBps: 5_000,
}
const observed = makeEnvelope(
  new OperatorSetObserved({
    chainId: ChainId.make(HUB.chainId),
    registry: HUB.registry,
    block: new BlockRef({ number: 40, hash: bytes32("40") }),
    ...SET,
  }),
  { producer: producerOf("set-watcher", "901"), causationId: null, time: new Date() },
)

/** A hub reader: finalized head at `head` (or failing as an RPC does), and the registry's set there. */
const readerOf = (rpc: { down: boolean; head: number; epoch: number }): ChainReader =>
  ({
    chainId: HUB.chainId,
    finalizedHead: async () => {
      if (rpc.down)
        throw new RpcCallError({
          chainId: HUB.chainId,
          what: "reading the finalized head",
          urls: ["http://127.0.0.1:1"],
          cause: new Error("connect ECONNREFUSED"),
        })
      return new BlockRef({ number: rpc.head, hash: bytes32("5e") })
    },
    registry: () => ({ operatorSet: async () => ({ ...SET, epoch: rpc.epoch }) }),
  }) as unknown as ChainReader

const observerOf = (rpc: { down: boolean; head: number; epoch: number }, finalityWaitMs: number) =>
  makeRegistryObserver({
    operator: ME,
    hub: HUB,
    reader: readerOf(rpc),
    finalityWaitMs,
    rpcFaults: { unreachableAfterMs: 60_000, logEveryMs: 60_000 },
    logger: quietLogger(),
    signal: new AbortController().signal,
    pollIntervalMs: 5,
  })

describe("an operator reading the hub registry before it signs an update", () => {
  it("reads the set at its own finalized head once that head shows the record's epoch", async () => {
    const rpc = { down: false, head: 60, epoch: 1 }
    const observe = observerOf(rpc, 5_000)
    setTimeout(() => {
      rpc.epoch = 2
      rpc.head = 61
    }, 30)
    const [read] = await observe(observed)
    expect(read).toBeInstanceOf(RegistrySetRead)
    expect(read).toMatchObject({ reader: ME, epoch: 2, block: { number: 61 } })
  })

  it("gives up on a hub RPC that does not answer after finalityWaitMs, so the update holds nothing longer", async () => {
    const observe = observerOf({ down: true, head: 60, epoch: 2 }, 100)
    const started = Date.now()
    expect(await observe(observed)).toEqual([])
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it("records what its RPC shows at the deadline when the epoch never came (the core refuses it not final)", async () => {
    const [read] = await observerOf({ down: false, head: 60, epoch: 1 }, 50)(observed)
    expect(read).toMatchObject({ epoch: 1 })
  })
})
