import fc from "fast-check"
import {
  type Address,
  decodeErrorResult,
  encodeErrorResult,
  encodeFunctionData,
  getAddress,
  type Hex,
  parseEventLogs,
  toFunctionSelector,
  toHex,
} from "viem"
import { describe, expect, it } from "vitest"
import { getMessageProof } from "../../services/proof-builder/merkle/index.ts"
import { encodeMessages, getMessageId } from "../message/index.ts"
import {
  bitmapProbeRecipientAbi,
  inboxAbi,
  pingRecipientAbi,
  probeRecipientAbi,
  reentrantRecipientAbi,
  revertingRecipientAbi,
} from "../out/index.ts"
import { rangeArb } from "./arbitraries.ts"
import { useWorld } from "./use-world.ts"
import { SRC_CHAIN_ID, SRC_OUTBOX, type World } from "./world.ts"

let w: World
useWorld({}, (world) => {
  w = world
})

const events = (receipt: { logs: never[] } | { logs: unknown[] }) =>
  parseEventLogs({ abi: inboxAbi, logs: receipt.logs as never })

/** The receipt's (first) MessageFailed: which message, and the revert data its recipient returned. */
const failure = (receipt: { logs: unknown[] }) =>
  events(receipt).find((e) => e.eventName === "MessageFailed")!.args as { messageId: Hex; reason: Hex }

async function pings(sender: Address = "0x000000000000000000000000000000000000beef") {
  return w.publicClient.readContract({
    address: w.ping,
    abi: pingRecipientAbi,
    functionName: "pings",
    args: [SRC_CHAIN_ID, sender],
  })
}

/** The message count the Inbox stored with `root` on the fake lane (0 when it does not hold the root). */
const committedCount = (root: Hex) =>
  w.publicClient.readContract({
    address: w.inbox,
    abi: inboxAbi,
    functionName: "committedCount",
    args: [SRC_CHAIN_ID, SRC_OUTBOX, root],
  })

/** A ProbeRecipient set to revert, so the messages sent to it fail until it is told otherwise. */
async function failingProbe() {
  const probe = await w.deployTestContract("ProbeRecipient")
  await w.write(w.walletClient, probe, probeRecipientAbi, "setFailing", [true])
  return probe
}

describe("deliver", () => {
  it("delivers a committed range, one event per message, and marks the bitmap", async () => {
    const lane = await w.committedLane(8)
    const receipt = await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 8))
    const delivered = events(receipt).filter((e) => e.eventName === "MessageDelivered")
    expect(delivered.map((e) => (e.args as { messageId: Hex }).messageId)).toEqual(
      lane.messages.map(getMessageId),
    )
    expect(await pings()).toBe(8n)
    expect(await w.messageStatus(7)).toBe(1)
    expect(await w.messageStatus(8)).toBe(0)
    const [attempted, failed] = await w.publicClient.readContract({
      address: w.inbox,
      abi: inboxAbi,
      functionName: "deliveryBitmaps",
      args: [SRC_CHAIN_ID, SRC_OUTBOX, 0n],
    })
    expect(attempted).toBe(255n)
    expect(failed).toBe(0n)
  })

  it("skips messages already delivered: a resubmitted or overlapping batch is safe", async () => {
    const lane = await w.committedLane(12)
    await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 4))
    const again = await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 4))
    expect(events(again)).toHaveLength(0)
    const overlap = await w.inboxWrite("deliver", w.deliverArgs(lane, 2, 12))
    expect(events(overlap).filter((e) => e.eventName === "MessageDelivered")).toHaveLength(8)
    expect(await pings()).toBe(12n)
  })

  it("delivers against an older committed root and across bitmap words", async () => {
    const lane = w.makeLane(w.makeMessages(0, 300, () => ({ recipient: w.noop })))
    await w.commit(w.checkpointOf(lane.tree, 250))
    await w.commit(w.checkpointOf(lane.tree, 300))
    await w.inboxWrite("deliver", w.deliverArgs(lane, 200, 250, 250))
    await w.inboxWrite("deliver", w.deliverArgs(lane, 250, 300, 300))
    for (const n of [199, 200, 255, 256, 299]) expect(await w.messageStatus(n)).toBe(n === 199 ? 0 : 1)
  })

  it("rejects a tampered message, a tampered sibling and a wrong proof length", async () => {
    const lane = await w.committedLane(9)
    const args = [...w.deliverArgs(lane, 3, 7)] as const
    const badMessages = encodeMessages(
      lane.messages.slice(3, 7).map((m, i) => (i === 2 ? { ...m, body: toHex("evil") } : m)),
    )
    expect((await w.revertOf("deliver", [...args.slice(0, 5), badMessages, args[6]])).errorName).toBe(
      "InvalidProof",
    )
    const siblings = [...args[6]]
    siblings[0] = `0x${"11".repeat(32)}`
    expect((await w.revertOf("deliver", [...args.slice(0, 6), siblings])).errorName).toBe("InvalidProof")
    expect((await w.revertOf("deliver", [...args.slice(0, 6), args[6].slice(1)])).errorName).toBe(
      "InvalidProofLength",
    )
    expect((await w.revertOf("deliver", [...args.slice(0, 6), [...args[6], args[3]]])).errorName).toBe(
      "InvalidProofLength",
    )
    // Right messages, wrong start: the leaves hash with other nonces (and the edges change shape).
    expect(["InvalidProof", "InvalidProofLength"]).toContain(
      (await w.revertOf("deliver", [...args.slice(0, 4), 2, args[5], args[6]])).errorName,
    )
    expect((await w.revertOf("deliver", [...args.slice(0, 4), 1, args[5], args[6]])).errorName).toBe(
      "InvalidProof",
    )
  })

  it("rejects an unknown root, a range past the count, and malformed batches", async () => {
    const lane = w.makeLane(w.makeMessages(0, 4))
    const args = w.deliverArgs(lane, 0, 4)
    expect(await w.revertOf("deliver", args)).toEqual({ errorName: "UnknownRoot", args: [args[3]] })
    await w.commit(w.checkpointOf(lane.tree, 3))
    const stale = w.deliverArgs(lane, 0, 3, 3)
    const tooLong = encodeMessages(lane.messages.slice(0, 4))
    expect((await w.revertOf("deliver", [...stale.slice(0, 5), tooLong, stale[6]])).errorName).toBe(
      "RangeOutOfBounds",
    )
    expect((await w.revertOf("deliver", [...stale.slice(0, 5), "0x", stale[6]])).errorName).toBe(
      "RangeOutOfBounds",
    )
    const truncated = stale[5].slice(0, -2) as Hex
    expect((await w.revertOf("deliver", [...stale.slice(0, 5), truncated, stale[6]])).errorName).toBe(
      "MalformedBatch",
    )
    const v2 = encodeMessages(lane.messages.slice(0, 3).map((m) => ({ ...m, version: 2 })))
    expect(await w.revertOf("deliver", [...stale.slice(0, 5), v2, stale[6]])).toEqual({
      errorName: "UnsupportedVersion",
      args: [0, 2],
    })
  })

  it("checks the lane: destination, registered source, pauses", async () => {
    const lane = await w.committedLane(2)
    const args = w.deliverArgs(lane, 0, 2)
    expect(await w.revertOf("deliver", [args[0], args[1], 5n, ...args.slice(3)])).toEqual({
      errorName: "WrongDestination",
      args: [5n, BigInt(w.chainId)],
    })
    const other: Address = "0x0000000000000000000000000000000000000bad"
    expect((await w.revertOf("deliver", [args[0], other, ...args.slice(2)])).errorName).toBe(
      "UnregisteredSource",
    )
    expect((await w.revertOf("deliver", [99n, args[1], ...args.slice(2)])).errorName).toBe(
      "UnregisteredSource",
    )
    await w.inboxWrite("setSourcePaused", [SRC_CHAIN_ID, true])
    expect(await w.revertOf("deliver", args)).toEqual({ errorName: "SourcePaused", args: [SRC_CHAIN_ID] })
    await w.inboxWrite("setSourcePaused", [SRC_CHAIN_ID, false])
    await w.inboxWrite("setPaused", [true])
    expect((await w.revertOf("deliver", args)).errorName).toBe("InboxPaused")
    await w.inboxWrite("setPaused", [false])
    await w.inboxWrite("deliver", args)
    expect(await pings()).toBe(2n)
  })

  it("records a reverting recipient as failed with its reason, without reverting the batch", async () => {
    const reverting = await w.deployTestContract("RevertingRecipient")
    const lane = await w.committedLane(3, (i) => (i === 1 ? { recipient: reverting } : {}))
    const receipt = await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 3))
    const args = failure(receipt)
    expect(args.messageId).toBe(getMessageId(lane.messages[1]!))
    expect(args.reason).toBe(
      encodeErrorResult({ abi: revertingRecipientAbi, errorName: "Nope", args: [lane.messages[1]!.body] }),
    )
    expect(await pings()).toBe(2n)
    expect(await w.messageStatus(1)).toBe(2)
    // Failed messages are not re-run by deliver: only retry does that.
    const again = await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 3))
    expect(events(again)).toHaveLength(0)
  })

  it("copies at most 256 bytes of revert data (returndata bomb)", async () => {
    const bomb = await w.deployTestContract("ReturnBombRecipient", [100_000n])
    const lane = await w.committedLane(1, { recipient: bomb, gasLimit: 1_000_000n })
    const receipt = await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 1))
    expect(failure(receipt).reason.length).toBe(2 + 2 * 256)
  })

  it("fails a message whose recipient has no code", async () => {
    const eoa: Address = getAddress("0x0000000000000000000000000000000000c0ffee")
    const lane = await w.committedLane(1, { recipient: eoa })
    const receipt = await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 1))
    const decoded = decodeErrorResult({ abi: inboxAbi, data: failure(receipt).reason })
    expect(decoded).toMatchObject({ errorName: "RecipientNotContract", args: [eoa] })
  })

  it("blocks reentrancy: a recipient calling back into deliver or retry fails with Reentrancy()", async () => {
    const reentrant = await w.deployTestContract("ReentrantRecipient")
    const lane = await w.committedLane(2, (i) =>
      i === 0 ? { recipient: reentrant, gasLimit: 500_000n } : {},
    )
    // Armed with the very batch being delivered: a successful reentry would run message 1 twice.
    const payload = encodeFunctionData({
      abi: inboxAbi,
      functionName: "deliver",
      args: w.deliverArgs(lane, 0, 2),
    })
    await w.write(w.walletClient, reentrant, reentrantRecipientAbi, "arm", [w.inbox, payload])
    const receipt = await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 2))
    expect(failure(receipt).reason).toBe(toFunctionSelector("Reentrancy()"))
    expect(await pings()).toBe(1n)
    const retryPayload = encodeFunctionData({
      abi: inboxAbi,
      functionName: "retry",
      args: [
        lane.messages[0]!,
        lane.tree.count ? getMessageProof(lane.tree, 0).root : "0x",
        getMessageProof(lane.tree, 0).siblings,
      ],
    })
    await w.write(w.walletClient, reentrant, reentrantRecipientAbi, "arm", [w.inbox, retryPayload])
    const proof = getMessageProof(lane.tree, 0)
    const retried = await w.revertOf("retry", [lane.messages[0]!, proof.root, proof.siblings])
    expect(retried.errorName).toBe("RetryFailed")
    expect(retried.args[1]).toBe(toFunctionSelector("Reentrancy()"))
  })

  it("sets every bitmap word of the batch before the first recipient runs", async () => {
    const probe = await w.deployTestContract("BitmapProbeRecipient")
    await w.write(w.walletClient, probe, bitmapProbeRecipientAbi, "arm", [
      w.inbox,
      SRC_CHAIN_ID,
      SRC_OUTBOX,
      1n,
    ])
    // Nonces 250..259 span words 0 and 1; the probe runs first (nonce 250) and reads word 1.
    const lane = await w.committedLane(260, (i) => (i === 250 ? { recipient: probe } : {}))
    const receipt = await w.inboxWrite("deliver", w.deliverArgs(lane, 250, 260))
    expect(events(receipt).filter((e) => e.eventName === "MessageDelivered")).toHaveLength(10)
    const seen = await w.publicClient.readContract({
      address: probe,
      abi: bitmapProbeRecipientAbi,
      functionName: "seen",
    })
    expect(seen).toBe(0xfn)
  })

  it("gives the recipient its full gas limit, and refuses to start a message it cannot fund", async () => {
    const probe = await w.deployTestContract("ProbeRecipient")
    const gasLimit = 1_000_000n
    const lane = await w.committedLane(1, { recipient: probe, gasLimit })
    const args = w.deliverArgs(lane, 0, 1)
    const starved = await w.revertOf("deliver", args, { gas: 600_000n })
    expect(starved.errorName).toBe("InsufficientGas")
    expect(starved.args.slice(0, 2)).toEqual([0, gasLimit])
    await w.inboxWrite("deliver", args, 1_200_000n)
    const lastGas = await w.publicClient.readContract({
      address: probe,
      abi: probeRecipientAbi,
      functionName: "lastGas",
    })
    expect(lastGas).toBeGreaterThan(gasLimit - 1_000n)
    expect(lastGas).toBeLessThanOrEqual(gasLimit)
  })
})

describe("retry", () => {
  async function failedLane() {
    const probe = await failingProbe()
    const lane = await w.committedLane(5, (i) => (i === 3 ? { recipient: probe } : {}))
    await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 5))
    return { probe, lane, proof: getMessageProof(lane.tree, 3) }
  }

  it("re-runs a failed message once it can succeed; anyone may call it; never twice", async () => {
    const { probe, lane, proof } = await failedLane()
    const message = lane.messages[3]!
    const id = getMessageId(message)
    const stillFailing = await w.revertOf("retry", [message, proof.root, proof.siblings])
    expect(stillFailing).toEqual({
      errorName: "RetryFailed",
      args: [id, toFunctionSelector("Failing()")],
    })
    await w.write(w.walletClient, probe, probeRecipientAbi, "setFailing", [false])
    const starved = await w.revertOf("retry", [message, proof.root, proof.siblings], { gas: 150_000n })
    expect(starved.errorName).toBe("InsufficientGas")
    const receipt = await w.write(w.other, w.inbox, inboxAbi, "retry", [message, proof.root, proof.siblings])
    expect(events(receipt).map((e) => e.eventName)).toEqual(["MessageDelivered", "MessageRetried"])
    expect(await w.messageStatus(3)).toBe(1)
    expect(await w.revertOf("retry", [message, proof.root, proof.siblings])).toEqual({
      errorName: "AlreadyDelivered",
      args: [id],
    })
  })

  it("refuses messages that never failed, bad proofs, unknown roots and paused lanes", async () => {
    const { lane, proof } = await failedLane()
    const delivered = getMessageProof(lane.tree, 2)
    expect(
      (await w.revertOf("retry", [lane.messages[2]!, delivered.root, delivered.siblings])).errorName,
    ).toBe("AlreadyDelivered")
    const more = w.makeLane(w.makeMessages(0, 6))
    more.messages.splice(0, 5, ...lane.messages)
    const fresh = w.makeLane(more.messages)
    await w.commit(w.checkpointOf(fresh.tree))
    const unseen = getMessageProof(fresh.tree, 5)
    expect((await w.revertOf("retry", [fresh.messages[5]!, unseen.root, unseen.siblings])).errorName).toBe(
      "MessageNotFailed",
    )
    const tampered = { ...lane.messages[3]!, body: toHex("other") }
    expect((await w.revertOf("retry", [tampered, proof.root, proof.siblings])).errorName).toBe("InvalidProof")
    expect(
      (await w.revertOf("retry", [lane.messages[3]!, `0x${"22".repeat(32)}`, proof.siblings])).errorName,
    ).toBe("UnknownRoot")
    // The same failed message proven against the newer root works too.
    const newer = getMessageProof(fresh.tree, 3)
    expect((await w.revertOf("retry", [lane.messages[3]!, newer.root, newer.siblings])).errorName).toBe(
      "RetryFailed",
    )
    await w.inboxWrite("setSourcePaused", [SRC_CHAIN_ID, true])
    expect((await w.revertOf("retry", [lane.messages[3]!, proof.root, proof.siblings])).errorName).toBe(
      "SourcePaused",
    )
    await w.inboxWrite("setSourcePaused", [SRC_CHAIN_ID, false])
    await w.inboxWrite("setPaused", [true])
    expect((await w.revertOf("retry", [lane.messages[3]!, proof.root, proof.siblings])).errorName).toBe(
      "InboxPaused",
    )
  })
})

describe("commitAndDeliver", () => {
  it("verifies and delivers a single message in one transaction, and is idempotent", async () => {
    const lane = w.makeLane(w.makeMessages(0, 3))
    const checkpoint = w.checkpointOf(lane.tree)
    const signatures = await w.sign(checkpoint)
    const args = w.commitAndDeliverArgs(lane, checkpoint, signatures, 2, 3)
    const receipt = await w.inboxWrite("commitAndDeliver", args)
    expect(events(receipt).map((e) => e.eventName)).toEqual(["MessageDelivered"])
    expect(await w.messageStatus(2)).toBe(1)
    const again = await w.inboxWrite("commitAndDeliver", args)
    expect(events(again)).toHaveLength(0)
    // The range reached the checkpoint's count and nothing failed: the root was not worth storing.
    expect(await committedCount(checkpoint.root)).toBe(0)
    await w.commit(checkpoint)
    await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 2))
    expect(await pings()).toBe(3n)
  })

  it("stores the root when the range stops short of the count or a message fails", async () => {
    const reverting = await w.deployTestContract("RevertingRecipient")
    const lane = w.makeLane(w.makeMessages(0, 4, (i) => (i === 3 ? { recipient: reverting } : {})))
    const short = w.checkpointOf(lane.tree, 3)
    const r1 = await w.inboxWrite(
      "commitAndDeliver",
      w.commitAndDeliverArgs(lane, short, await w.sign(short), 0, 2),
    )
    expect(events(r1).map((e) => e.eventName)).toEqual([
      "MessageDelivered",
      "MessageDelivered",
      "CheckpointCommitted",
    ])
    await w.inboxWrite("deliver", w.deliverArgs(lane, 2, 3, 3))
    const full = w.checkpointOf(lane.tree)
    const r2 = await w.inboxWrite(
      "commitAndDeliver",
      w.commitAndDeliverArgs(lane, full, await w.sign(full), 3, 4),
    )
    expect(events(r2).map((e) => e.eventName)).toEqual(["MessageFailed", "CheckpointCommitted"])
    expect(await w.messageStatus(3)).toBe(2)
  })

  it("blocks a recipient re-entering commit: the root is committed once", async () => {
    const reentrant = await w.deployTestContract("ReentrantRecipient")
    const lane = w.makeLane(w.makeMessages(0, 1, { recipient: reentrant, gasLimit: 500_000n }))
    const checkpoint = w.checkpointOf(lane.tree)
    const signatures = await w.sign(checkpoint)
    const payload = encodeFunctionData({
      abi: inboxAbi,
      functionName: "commit",
      args: [checkpoint, signatures],
    })
    await w.write(w.walletClient, reentrant, reentrantRecipientAbi, "arm", [w.inbox, payload])
    const receipt = await w.inboxWrite(
      "commitAndDeliver",
      w.commitAndDeliverArgs(lane, checkpoint, signatures, 0, 1),
    )
    expect(events(receipt).map((e) => e.eventName)).toEqual(["MessageFailed", "CheckpointCommitted"])
    expect(failure(receipt).reason).toBe(toFunctionSelector("Reentrancy()"))
  })

  it("verifies the quorum before delivering", async () => {
    const lane = w.makeLane(w.makeMessages(0, 1))
    const checkpoint = w.checkpointOf(lane.tree)
    const signatures = await w.sign(checkpoint, w.operators.slice(0, 2))
    const result = await w.revertOf(
      "commitAndDeliver",
      w.commitAndDeliverArgs(lane, checkpoint, signatures, 0, 1),
    )
    expect(result).toEqual({ errorName: "InsufficientStake", args: [2n, 3n] })
  })
})

describe("commitAndDeliver: revert paths", () => {
  it("checks lane, pauses, empty checkpoints, signatures and the proof", async () => {
    const lane = w.makeLane(w.makeMessages(0, 2))
    const cp = w.checkpointOf(lane.tree)
    const sigs = await w.sign(cp)
    const [, , ...tail] = w.commitAndDeliverArgs(lane, cp, sigs, 1, 2)
    const run = (checkpoint: typeof cp, signatures = sigs, rest: readonly unknown[] = tail) =>
      w.revertOf("commitAndDeliver", [checkpoint, signatures, ...rest])
    expect((await run({ ...cp, dstChainId: 9n })).errorName).toBe("WrongDestination")
    expect((await run({ ...cp, outbox: w.inbox })).errorName).toBe("UnregisteredSource")
    expect((await run({ ...cp, count: 0 })).errorName).toBe("EmptyCheckpoint")
    const [a, b] = [sigs.slice(0, 132), `0x${sigs.slice(132, 262)}`]
    expect((await run(cp, `${b}${a.slice(2)}${sigs.slice(262)}` as Hex)).errorName).toBe(
      "SignersNotAscending",
    )
    expect((await run(cp, sigs, [0, tail[1], tail[2]])).errorName).toBe("InvalidProof")
    expect((await run(cp, sigs, [1, tail[1], []])).errorName).toBe("InvalidProofLength")
    await w.inboxWrite("setSourcePaused", [SRC_CHAIN_ID, true])
    expect((await run(cp)).errorName).toBe("SourcePaused")
    await w.inboxWrite("setSourcePaused", [SRC_CHAIN_ID, false])
    await w.inboxWrite("setPaused", [true])
    expect((await run(cp)).errorName).toBe("InboxPaused")
  })
})

describe("deliver: property", () => {
  it("random ranges proven in TypeScript are accepted by the Inbox; a tampered leaf or sibling is not", async () => {
    const lane = w.makeLane(w.makeMessages(0, 600, () => ({ recipient: w.noop, gasLimit: 30_000n })))
    const arb = rangeArb(600, 40)
    await fc.assert(
      fc.asyncProperty(arb, fc.nat(), async ([count, start, end], pick) => {
        await w.reset()
        await w.commit(w.checkpointOf(lane.tree, count))
        const args = w.deliverArgs(lane, start, end, count)
        const tampered = lane.messages
          .slice(start, end)
          .map((m, i) => (i === pick % (end - start) ? { ...m, body: toHex("tampered") } : m))
        expect(
          (await w.revertOf("deliver", [...args.slice(0, 5), encodeMessages(tampered), args[6]])).errorName,
        ).toBe("InvalidProof")
        if (args[6].length > 0) {
          const siblings = args[6].map((s, i) => (i === pick % args[6].length ? `0x${"99".repeat(32)}` : s))
          expect((await w.revertOf("deliver", [...args.slice(0, 6), siblings])).errorName).toBe(
            "InvalidProof",
          )
        }
        const receipt = await w.inboxWrite("deliver", args)
        expect(events(receipt).filter((e) => e.eventName === "MessageDelivered")).toHaveLength(end - start)
      }),
      { numRuns: 12 },
    )
  })
})

describe("revokeRoot", () => {
  it("only the owner revokes, and only a committed root", async () => {
    const lane = w.makeLane(w.makeMessages(0, 2))
    const checkpoint = w.checkpointOf(lane.tree)
    expect(await w.revertOf("revokeRoot", [SRC_CHAIN_ID, SRC_OUTBOX, checkpoint.root])).toEqual({
      errorName: "RootNotCommitted",
      args: [SRC_CHAIN_ID, SRC_OUTBOX, checkpoint.root],
    })
    await w.commit(checkpoint)
    expect(
      await w.revertOf("revokeRoot", [SRC_CHAIN_ID, SRC_OUTBOX, checkpoint.root], {
        account: w.other.account,
      }),
    ).toEqual({ errorName: "NotOwner", args: [w.other.account.address] })
    expect(await committedCount(checkpoint.root)).toBe(2)
  })

  it("withdraws the root for good: deliver and retry against it fail with UnknownRoot, and its signatures replayed by anyone cannot commit it again", async () => {
    const probe = await failingProbe()
    const lane = w.makeLane(w.makeMessages(0, 4, (i) => (i === 0 ? { recipient: probe } : {})))
    const checkpoint = w.checkpointOf(lane.tree)
    const signatures = await w.sign(checkpoint)
    await w.inboxWrite("commit", [checkpoint, signatures])
    await w.inboxWrite("deliver", w.deliverArgs(lane, 0, 2))
    expect(await w.messageStatus(0)).toBe(2)

    const receipt = await w.inboxWrite("revokeRoot", [SRC_CHAIN_ID, SRC_OUTBOX, checkpoint.root])
    const revoked = events(receipt)
    expect(revoked.map((e) => e.eventName)).toEqual(["RootRevoked"])
    expect(revoked[0]!.args).toEqual({ srcChainId: SRC_CHAIN_ID, outbox: SRC_OUTBOX, root: checkpoint.root })
    expect(await committedCount(checkpoint.root)).toBe(0)
    expect(await w.revertOf("deliver", w.deliverArgs(lane, 2, 4))).toEqual({
      errorName: "UnknownRoot",
      args: [checkpoint.root],
    })
    await w.write(w.walletClient, probe, probeRecipientAbi, "setFailing", [false])
    const proof = getMessageProof(lane.tree, 0)
    expect(await w.revertOf("retry", [lane.messages[0]!, proof.root, proof.siblings])).toEqual({
      errorName: "UnknownRoot",
      args: [checkpoint.root],
    })
    expect((await w.revertOf("revokeRoot", [SRC_CHAIN_ID, SRC_OUTBOX, checkpoint.root])).errorName).toBe(
      "RootNotCommitted",
    )
    // Delivered and failed marks survive the revocation.
    expect(await w.messageStatus(1)).toBe(1)
    expect(await w.messageStatus(0)).toBe(2)

    // A stranger replays the original commit's public signatures, by either path: the root stays revoked.
    const replayer = { account: w.other.account }
    expect(await w.revertOf("commit", [checkpoint, signatures], replayer)).toEqual({
      errorName: "RevokedRoot",
      args: [checkpoint.root],
    })
    expect(
      await w.revertOf(
        "commitAndDeliver",
        w.commitAndDeliverArgs(lane, checkpoint, signatures, 2, 4),
        replayer,
      ),
    ).toEqual({ errorName: "RevokedRoot", args: [checkpoint.root] })
    // Ground truth: nothing committed, nothing more delivered.
    expect(await committedCount(checkpoint.root)).toBe(0)
    expect(await w.messageStatus(2)).toBe(0)
    expect(await w.messageStatus(3)).toBe(0)
  })

  it("lets a later checkpoint of the lane, signed by the quorum, cover the messages of a revoked root", async () => {
    const lane = w.makeLane(w.makeMessages(0, 3))
    const first = w.checkpointOf(lane.tree)
    await w.commit(first)
    await w.inboxWrite("revokeRoot", [SRC_CHAIN_ID, SRC_OUTBOX, first.root])
    const longer = w.makeLane(w.makeMessages(0, 4))
    const next = w.checkpointOf(longer.tree)
    const committed = await w.commit(next)
    expect(events(committed).map((e) => e.eventName)).toEqual(["CheckpointCommitted"])
    const delivered = await w.inboxWrite("deliver", w.deliverArgs(longer, 0, 4))
    expect(events(delivered).filter((e) => e.eventName === "MessageDelivered")).toHaveLength(4)
  })
})
