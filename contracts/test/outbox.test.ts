import { type Address, type Hex, parseEventLogs, toHex } from "viem"
import { describe, expect, it } from "vitest"
import { appendLeaf, createMerkleTree, getRoot } from "../../services/proof-builder/merkle/index.ts"
import { deployOutbox } from "../deploy/index.ts"
import { getMessageId } from "../message/index.ts"
import { outboxAbi } from "../out/index.ts"
import { useWorld } from "./use-world.ts"
import type { World } from "./world.ts"

let w: World
let outbox: Address
useWorld({ chainId: 901 }, async (world) => {
  w = world
  outbox = await deployOutbox(w.clients)
})

const recipient: Address = "0x000000000000000000000000000000000000dEaD"
const send = (dst: bigint, body = "0x1234", gasLimit = 100_000n) =>
  w.write(w.walletClient, outbox, outboxAbi, "send", [dst, recipient, gasLimit, body])
const read = <T>(functionName: string, args: readonly unknown[], blockNumber?: bigint) =>
  w.publicClient.readContract({
    address: outbox,
    abi: outboxAbi,
    functionName,
    args,
    blockNumber,
  } as never) as Promise<T>

describe("Outbox", () => {
  it("emits the whole message; its id is keccak256(abi.encode(message)); nonces count up per lane", async () => {
    const tree = createMerkleTree()
    for (let i = 0; i < 5; i++) {
      const receipt = await send(902n, toHex(`hello ${i}`))
      const [event] = parseEventLogs({ abi: outboxAbi, logs: receipt.logs, eventName: "MessageSent" })
      const { message, messageId, nonce, dstChainId } = event!.args
      expect(message).toEqual({
        version: 1,
        nonce: i,
        srcChainId: 901n,
        sender: w.walletClient.account.address,
        dstChainId: 902n,
        recipient,
        gasLimit: 100_000n,
        body: toHex(`hello ${i}`),
      })
      expect([nonce, dstChainId]).toEqual([i, 902n])
      expect(getMessageId(message)).toBe(messageId)
      appendLeaf(tree, messageId)
      expect(await read("root", [902n])).toBe(getRoot(tree))
      expect(await read("count", [902n])).toBe(i + 1)
    }
    // Another destination is another lane, with its own nonces.
    const receipt = await send(903n)
    expect(
      parseEventLogs({ abi: outboxAbi, logs: receipt.logs, eventName: "MessageSent" })[0]!.args.nonce,
    ).toBe(0)
    expect(await read("count", [902n])).toBe(5)
  })

  it("serves root, count and checkpoint at any block", async () => {
    const empty = createMerkleTree()
    expect(await read("root", [902n])).toBe(getRoot(empty))
    const ids: Hex[] = []
    const blocks = []
    for (let i = 0; i < 3; i++) {
      const receipt = await send(902n)
      ids.push(
        parseEventLogs({ abi: outboxAbi, logs: receipt.logs, eventName: "MessageSent" })[0]!.args.messageId,
      )
      blocks.push(receipt.blockNumber)
    }
    const tree = createMerkleTree(ids)
    const atSecond = await read<{ root: string; count: number }>("latestCheckpoint", [902n], blocks[1])
    expect(atSecond).toEqual({ srcChainId: 901n, outbox, dstChainId: 902n, root: getRoot(tree, 2), count: 2 })
    expect(await read("root", [902n], blocks[0])).toBe(getRoot(tree, 1))
  })

  it("rejects oversized bodies, bad destinations, recipients and gas limits", async () => {
    const revert = (args: readonly unknown[]) => w.revertOf("send", args, { address: outbox, abi: outboxAbi })
    const big = toHex(new Uint8Array(32_769))
    expect(await revert([902n, recipient, 100_000n, big])).toEqual({
      errorName: "BodyTooLarge",
      args: [32_769n, 32_768n],
    })
    await send(902n, toHex(new Uint8Array(32_768)), 100_000n)
    expect(await revert([0n, recipient, 100_000n, "0x"])).toEqual({
      errorName: "InvalidDestination",
      args: [0n],
    })
    expect((await revert([902n, "0x0000000000000000000000000000000000000000", 1n, "0x"])).errorName).toBe(
      "InvalidRecipient",
    )
    expect(await revert([902n, recipient, 0n, "0x"])).toEqual({
      errorName: "InvalidGasLimit",
      args: [0n, 15_000_000n],
    })
    expect((await revert([902n, recipient, 15_000_001n, "0x"])).errorName).toBe("InvalidGasLimit")
  })
})
