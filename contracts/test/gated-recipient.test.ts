// GatedRecipient through a real Inbox: closed, its messages fail at the recipient (the batch still lands) with
// Closed(srcChainId, sender); opened by its owner, Inbox.retry delivers them exactly once.
import { type Address, encodeErrorResult, getAddress, type Hex, parseEventLogs } from "viem"
import { describe, expect, it } from "vitest"
import { getMessageProof } from "../../services/proof-builder/merkle/index.ts"
import { deployGatedRecipient } from "../deploy/index.ts"
import { getMessageId } from "../message/index.ts"
import { gatedRecipientAbi, inboxAbi, pingRecipientAbi } from "../out/index.ts"
import { useWorld } from "./use-world.ts"
import { SRC_CHAIN_ID, type World } from "./world.ts"

let w: World
let gated: Address
useWorld({}, async (world) => {
  w = world
  gated = await deployGatedRecipient(w.clients, { inbox: w.inbox })
})

const SENDER: Address = getAddress("0x000000000000000000000000000000000000beef")

const read = <T>(functionName: string, args: readonly unknown[] = []): Promise<T> =>
  w.publicClient.readContract({
    address: gated,
    abi: gatedRecipientAbi,
    functionName,
    args,
  } as never) as Promise<T>

const setOpen = (open: boolean) => w.write(w.walletClient, gated, gatedRecipientAbi, "setOpen", [open])

describe("GatedRecipient behind an Inbox", () => {
  it("fails its messages while closed, without reverting the batch; once opened, retry delivers them once", async () => {
    expect(await read<boolean>("open")).toBe(false)
    // Nonces 1 and 3 go to the closed gate; 0, 2 and 4 to the PingRecipient.
    const lane = w.makeLane(w.makeMessages(0, 5, (i) => (i % 2 === 1 ? { recipient: gated } : {})))
    await w.commit(w.checkpointOf(lane.tree))
    const receipt = await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 5))

    const inboxEvents = parseEventLogs({ abi: inboxAbi, logs: receipt.logs })
    const failed = inboxEvents.filter((e) => e.eventName === "MessageFailed")
    expect(failed.map((e) => (e.args as { messageId: Hex }).messageId)).toEqual([
      getMessageId(lane.messages[1]!),
      getMessageId(lane.messages[3]!),
    ])
    expect((failed[0]!.args as { reason: Hex }).reason).toBe(
      encodeErrorResult({ abi: gatedRecipientAbi, errorName: "Closed", args: [SRC_CHAIN_ID, SENDER] }),
    )
    expect(inboxEvents.filter((e) => e.eventName === "MessageDelivered")).toHaveLength(3)
    expect([
      await w.messageStatus(0),
      await w.messageStatus(1),
      await w.messageStatus(2),
      await w.messageStatus(3),
    ]).toEqual([1, 2, 1, 2])
    expect(await read<bigint>("totalPings")).toBe(0n)

    // Still closed: retry reverts with the recipient's reason and the message stays failed.
    const proof = getMessageProof(lane.tree, 1)
    const closed = await w.revertOf("retry", [lane.messages[1]!, proof.root, proof.siblings])
    expect(closed.errorName).toBe("RetryFailed")
    expect(closed.args[1]).toBe(
      encodeErrorResult({ abi: gatedRecipientAbi, errorName: "Closed", args: [SRC_CHAIN_ID, SENDER] }),
    )
    expect(await w.messageStatus(1)).toBe(2)

    const opened = await setOpen(true)
    expect(parseEventLogs({ abi: gatedRecipientAbi, logs: opened.logs }).map((e) => e.eventName)).toEqual([
      "OpenSet",
    ])
    expect(await read<boolean>("open")).toBe(true)
    const retried = await w.write(w.other, w.inbox, inboxAbi, "retry", [
      lane.messages[1]!,
      proof.root,
      proof.siblings,
    ])
    const pinged = parseEventLogs({ abi: gatedRecipientAbi, logs: retried.logs, eventName: "Pinged" })
    expect(pinged.map((e) => e.args)).toEqual([
      { srcChainId: SRC_CHAIN_ID, sender: SENDER, count: 1n, body: lane.messages[1]!.body },
    ])
    expect(parseEventLogs({ abi: inboxAbi, logs: retried.logs }).map((e) => e.eventName)).toEqual([
      "MessageDelivered",
      "MessageRetried",
    ])
    expect(await w.messageStatus(1)).toBe(1)
    expect(await w.messageStatus(3)).toBe(2)
    expect(await read<bigint>("totalPings")).toBe(1n)
    expect(await read<Hex>("lastBody")).toBe(lane.messages[1]!.body)
    expect((await w.revertOf("retry", [lane.messages[1]!, proof.root, proof.siblings])).errorName).toBe(
      "AlreadyDelivered",
    )
  })

  it("emits the same Pinged event as PingRecipient, so one filter reads both", () => {
    const signature = (abi: typeof gatedRecipientAbi | typeof pingRecipientAbi) =>
      JSON.stringify(abi.find((item) => item.type === "event" && item.name === "Pinged"))
    expect(signature(gatedRecipientAbi)).toBe(signature(pingRecipientAbi))
  })

  it("lets only its owner open or close the gate, and only its Inbox call handle", async () => {
    expect(await read<Address>("owner")).toBe(w.walletClient.account.address)
    expect(await read<Address>("inbox")).toBe(w.inbox)
    const stranger = w.other.account
    expect(
      await w.revertOf("setOpen", [true], { address: gated, abi: gatedRecipientAbi, account: stranger }),
    ).toEqual({ errorName: "NotOwner", args: [stranger.address] })
    await setOpen(true)
    expect(
      await w.revertOf("handle", [SRC_CHAIN_ID, SENDER, "0x01"], { address: gated, abi: gatedRecipientAbi }),
    ).toEqual({ errorName: "NotInbox", args: [w.walletClient.account.address] })
    await setOpen(false)
    expect(await read<boolean>("open")).toBe(false)
  })
})
