/**
 * Joining the answers of a lossy RPC (issue 12 part 1): the union of two
 * reads of one range is taken only when both describe the same chain state,
 * and the core still decides whether it is complete.
 */
import { keccak256, stringToHex } from "viem"
import { describe, expect, it } from "vitest"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  Hex,
  Message,
  OutboxBlock,
  OutboxLaneCount,
  OutboxLog,
  OutboxRangeRead,
  TxHash,
  U256,
} from "../../schemas/index.ts"
import { completenessOf } from "./completeness.ts"
import { unionOfReads } from "./merge-reads.ts"

const CHAIN = ChainId.make(901)
const OUTBOX = Address.make(`0x${"0a".repeat(20)}`)
const hashOf = (label: string) => Bytes32.make(keccak256(stringToHex(label)))
const ref = (n: number, fork = "a") => new BlockRef({ number: n, hash: hashOf(`${fork}-${n}`) })

const message = (nonce: number, body = `ping ${nonce}`) =>
  new Message({
    version: 1,
    nonce,
    srcChainId: CHAIN,
    sender: Address.make(`0x${"be".repeat(20)}`),
    dstChainId: ChainId.make(902),
    recipient: Address.make(`0x${"de".repeat(20)}`),
    gasLimit: U256.make("100000"),
    body: Hex.make(stringToHex(body)),
  })

const log = (nonce: number, body?: string) =>
  new OutboxLog({
    transactionHash: TxHash.make(hashOf(`tx-${nonce}`)),
    logIndex: nonce,
    message: message(nonce, body),
  })

/** A read of blocks 5..6 (block 5 holds nonces 0..3 of lane 902) that kept only `nonces`. */
const answer = (
  nonces: ReadonlyArray<number>,
  change: { fork?: string; after?: number; body?: string } = {},
) =>
  new OutboxRangeRead({
    chainId: CHAIN,
    outbox: OUTBOX,
    cursorCheck: ref(4),
    fromBlock: 5,
    to: ref(6),
    blocks:
      nonces.length === 0
        ? []
        : [
            new OutboxBlock({
              block: ref(5, change.fork),
              timestamp: 1_700_000_005,
              logs: nonces.map((n) => log(n, n === 1 ? change.body : undefined)),
            }),
          ],
    lanes: [new OutboxLaneCount({ dstChainId: ChainId.make(902), before: 0, after: change.after ?? 4 })],
    rpc: "http://rpc",
  })

const proven = new Map([[902, 0]])

describe("the union of a lossy RPC's answers about one range", () => {
  it("given two short answers that together hold every log, when joined, then the union is complete, in log order", () => {
    const union = unionOfReads(answer([0, 2]), answer([3, 1, 2]))
    expect(union).not.toBeNull()
    expect(union!.blocks[0]!.logs.map((l) => l.message.nonce)).toEqual([0, 1, 2, 3])
    expect(completenessOf(union!, proven).kind).toBe("complete")
  })

  it("given answers that still miss a nonce together, when joined, then the union is short, and names it", () => {
    const verdict = completenessOf(unionOfReads(answer([0]), answer([0, 2]))!, proven)
    expect(verdict.kind).toBe("short")
  })

  it("given an answer with no log at all, when joined with one that has some, then the union keeps the block", () => {
    expect(unionOfReads(answer([]), answer([1]))!.blocks[0]!.logs.map((l) => l.message.nonce)).toEqual([1])
  })

  it("given answers about different chain states (another block hash, other counts), when joined, then nothing is joined", () => {
    expect(unionOfReads(answer([0, 1]), answer([2, 3], { fork: "b" }))).toBeNull()
    expect(unionOfReads(answer([0, 1]), answer([2, 3], { after: 5 }))).toBeNull()
  })

  it("given two answers that give one log differently, when joined, then nothing is joined (one of them lies)", () => {
    expect(unionOfReads(answer([0, 1]), answer([1, 2], { body: "forged" }))).toBeNull()
  })
})
