import { keccak256, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { RpcCallError } from "../../chains/evm/errors.ts"
import type { ChainReader } from "../../chains/index.ts"
import {
  BlockRef,
  ChainId,
  makeEnvelope,
  OperatorSetSigned,
  OperatorWeight,
  toAddress,
  U256,
} from "../../schemas/index.ts"
import { bytes32, TEST_DOMAIN } from "../../test/fixtures/checkpoint.ts"
import type { ChainConfig } from "../config/index.ts"
import { signDigest } from "../operator/sign-checkpoint.ts"
import { operatorSetDigest } from "../operator/sign-operator-set.ts"
import { producerOf, quietLogger } from "../runtime/index.ts"
import { makeInboxSetsObserver } from "./observe-inbox-sets.ts"
import { SetUpdates } from "./set-updates.ts"

const KEY = keccak256(stringToHex("observe-inbox-sets-test"))
const ME = toAddress(privateKeyToAccount(KEY).address)
const UPDATE = {
  epoch: 2,
  operators: [new OperatorWeight({ address: ME, weight: U256.make("1") })],
  thresholdBps: 5_000,
}
const signed = (digest = operatorSetDigest(TEST_DOMAIN, UPDATE)) =>
  makeEnvelope(
    new OperatorSetSigned({
      chainId: ChainId.make(TEST_DOMAIN.chainId),
      registry: toAddress(TEST_DOMAIN.verifyingContract),
      ...UPDATE,
      digest,
      operator: ME,
      signature: signDigest(KEY, operatorSetDigest(TEST_DOMAIN, UPDATE)),
    }),
    { producer: producerOf("operator", ME), causationId: null, time: new Date() },
  )

const chains = [901, 902].map((chainId) => ({
  chainId,
  inbox: `0x${"bb".repeat(20)}`,
})) as unknown as ChainConfig[]

/** Chain 901's Inbox answers (epoch 1, one member); 902's RPC is down. */
const readerFor = (calls: number[]) => (chainId: number) =>
  ({
    inbox: () => ({
      epoch: async () => {
        calls.push(chainId)
        if (chainId === 902)
          throw new RpcCallError({
            chainId,
            what: "Inbox.epoch()",
            urls: ["http://127.0.0.1:1"],
            cause: new Error("connect ECONNREFUSED"),
          })
        return { block: new BlockRef({ number: 7, hash: bytes32("07") }), epoch: 1 }
      },
      operatorSet: async () => ({ ...UPDATE, epoch: 1 }),
    }),
  }) as unknown as ChainReader

const observerOf = (calls: number[]) =>
  makeInboxSetsObserver({
    chains,
    readerFor: readerFor(calls),
    domain: TEST_DOMAIN,
    logger: quietLogger(),
    rpcFaults: { unreachableAfterMs: 100, logEveryMs: 60_000 },
    signal: new AbortController().signal,
    pollIntervalMs: 5,
  })

describe("the collector reading every Inbox for an operator-set signature", () => {
  it("passes over an Inbox whose RPC does not answer after rpc.unreachableAfterMs, and reads the others", async () => {
    const started = Date.now()
    const reads = await observerOf([])(new SetUpdates(), signed())
    expect(reads.map((r) => (r as { destination: number }).destination)).toEqual([901])
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it("reads nothing for a signature the core could not count", async () => {
    const calls: number[] = []
    expect(await observerOf(calls)(new SetUpdates(), signed(bytes32("66")))).toEqual([])
    expect(calls).toEqual([])
  })
})
