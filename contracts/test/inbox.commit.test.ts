import {
  concat,
  type Hex,
  type LocalAccount,
  parseEventLogs,
  parseSignature,
  serializeSignature,
  size,
  slice,
} from "viem"
import { describe, expect, it } from "vitest"
import {
  getCheckpointDomain,
  hashCheckpoint,
  hashOperatorSetUpdate,
  type OperatorSet,
  packSignatures,
  signCheckpoint,
  signOperatorSetUpdate,
} from "../checkpoint/index.ts"
import { deployInbox } from "../deploy/index.ts"
import { inboxAbi, operatorRegistryAbi } from "../out/index.ts"
import { useWorld } from "./use-world.ts"
import { makeOperators, SRC_CHAIN_ID, SRC_OUTBOX, type World } from "./world.ts"

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

// Weights 100..400 (total 1000, threshold 2/3 -> 667 required): stake, not heads, decides.
let w: World
useWorld({ weights: [100n, 200n, 300n, 400n] }, (world) => {
  w = world
})

function checkpoint() {
  return w.checkpointOf(w.makeLane(w.makeMessages(0, 5)).tree)
}

function splitSignatures(packed: Hex): Hex[] {
  return Array.from({ length: size(packed) / 65 }, (_, i) => slice(packed, i * 65, i * 65 + 65))
}

describe("commit", () => {
  it("stores the root once the signed stake meets the threshold, and is a no-op the second time", async () => {
    const cp = checkpoint()
    const signatures = await w.sign(cp)
    const receipt = await w.inboxWrite("commit", [cp, signatures])
    const [event] = parseEventLogs({ abi: inboxAbi, logs: receipt.logs, eventName: "CheckpointCommitted" })
    expect(event!.args).toEqual({
      srcChainId: SRC_CHAIN_ID,
      outbox: SRC_OUTBOX,
      root: cp.root,
      count: 5,
      epoch: 1n,
    })
    const count = await w.publicClient.readContract({
      address: w.inbox,
      abi: inboxAbi,
      functionName: "committedCount",
      args: [SRC_CHAIN_ID, SRC_OUTBOX, cp.root],
    })
    expect(count).toBe(5)
    const { result } = await w.publicClient.simulateContract({
      address: w.inbox,
      abi: inboxAbi,
      functionName: "commit",
      args: [cp, signatures],
      account: w.walletClient.account,
    })
    expect(result).toBe(false)
    const again = await w.inboxWrite("commit", [cp, "0x"])
    expect(again.logs).toHaveLength(0)
    expect(again.gasUsed).toBeLessThan(35_000n)
  })

  it("counts stake by weight, not by number of signers", async () => {
    const cp = checkpoint()
    const [op100, op200, op300, op400] = w.operators
    expect(await w.revertOf("commit", [cp, await w.sign(cp, [op100!, op200!, op300!])])).toEqual({
      errorName: "InsufficientStake",
      args: [600n, 667n],
    })
    await w.inboxWrite("commit", [cp, await w.sign(cp, [op300!, op400!])])
  })

  it("rejects signers out of order, duplicates and unknown signers", async () => {
    const cp = checkpoint()
    const sigs = splitSignatures(await w.sign(cp))
    const [a, b, c, d] = w.operators.map((o) => o.address)
    expect(await w.revertOf("commit", [cp, concat([sigs[1]!, sigs[0]!, sigs[2]!, sigs[3]!])])).toEqual({
      errorName: "SignersNotAscending",
      args: [1n, a, b],
    })
    expect(await w.revertOf("commit", [cp, concat([sigs[0]!, sigs[1]!, sigs[1]!, sigs[3]!])])).toEqual({
      errorName: "DuplicateSigner",
      args: [2n, b],
    })
    void c
    void d
    const stranger = makeOperators(1, "stranger")[0]!
    const strangerSig = await signCheckpoint({ account: stranger, domain: w.domain, checkpoint: cp })
    const withStranger = [
      ...w.operators.map((o, i) => ({ address: o.address, sig: sigs[i]! })),
      { address: stranger.address, sig: strangerSig },
    ].sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1))
    const index = withStranger.findIndex((s) => s.address === stranger.address)
    expect(await w.revertOf("commit", [cp, concat(withStranger.map((s) => s.sig))])).toEqual({
      errorName: "UnknownSigner",
      args: [BigInt(index), stranger.address],
    })
  })

  it("enforces low s, rejects unrecoverable signatures and bad lengths", async () => {
    const cp = checkpoint()
    const sigs = splitSignatures(await w.sign(cp))
    const { r, s, yParity } = parseSignature(sigs[0]!)
    const highS = serializeSignature({
      r,
      s: `0x${(SECP256K1_N - BigInt(s)).toString(16).padStart(64, "0")}`,
      v: yParity === 0 ? 28n : 27n,
    })
    expect(await w.revertOf("commit", [cp, concat([highS, ...sigs.slice(1)])])).toEqual({
      errorName: "SignatureMalleable",
      args: [0n],
    })
    const badV = concat([slice(sigs[0]!, 0, 64), "0x05"])
    expect(await w.revertOf("commit", [cp, concat([badV, ...sigs.slice(1)])])).toEqual({
      errorName: "InvalidSignature",
      args: [0n],
    })
    const zeroR = concat([`0x${"00".repeat(32)}`, slice(sigs[0]!, 32)])
    expect((await w.revertOf("commit", [cp, concat([zeroR, ...sigs.slice(1)])])).errorName).toBe(
      "InvalidSignature",
    )
    expect(await w.revertOf("commit", [cp, slice(concat(sigs), 0, 64 * 4)])).toEqual({
      errorName: "InvalidSignaturesLength",
      args: [256n],
    })
    expect(await w.revertOf("commit", [cp, "0x"])).toEqual({
      errorName: "InsufficientStake",
      args: [0n, 667n],
    })
  })

  it("binds signatures to the network (domain) and the lane", async () => {
    const cp = checkpoint()
    const otherNetwork = getCheckpointDomain({ registryChainId: w.chainId, registry: SRC_OUTBOX })
    const foreign = await w.sign(cp, w.operators, otherNetwork)
    expect(["UnknownSigner", "SignersNotAscending", "DuplicateSigner"]).toContain(
      (await w.revertOf("commit", [cp, foreign])).errorName,
    )
    // A signature for one lane does not commit another lane's root.
    const otherLane = { ...cp, count: 4 }
    expect(["UnknownSigner", "SignersNotAscending", "DuplicateSigner"]).toContain(
      (await w.revertOf("commit", [otherLane, await w.sign(cp)])).errorName,
    )
  })

  it("checks the lane: destination, registered outbox, pauses, empty checkpoints", async () => {
    const cp = checkpoint()
    const sigs = await w.sign(cp)
    expect(await w.revertOf("commit", [{ ...cp, dstChainId: 1n }, sigs])).toEqual({
      errorName: "WrongDestination",
      args: [1n, BigInt(w.chainId)],
    })
    expect(await w.revertOf("commit", [{ ...cp, outbox: w.inbox }, sigs])).toEqual({
      errorName: "UnregisteredSource",
      args: [SRC_CHAIN_ID, w.inbox],
    })
    expect((await w.revertOf("commit", [{ ...cp, srcChainId: 5n }, sigs])).errorName).toBe(
      "UnregisteredSource",
    )
    expect((await w.revertOf("commit", [{ ...cp, count: 0 }, sigs])).errorName).toBe("EmptyCheckpoint")
    await w.inboxWrite("setSourcePaused", [SRC_CHAIN_ID, true])
    expect((await w.revertOf("commit", [cp, sigs])).errorName).toBe("SourcePaused")
    await w.inboxWrite("setSourcePaused", [SRC_CHAIN_ID, false])
    await w.inboxWrite("setPaused", [true])
    expect((await w.revertOf("commit", [cp, sigs])).errorName).toBe("InboxPaused")
    await w.inboxWrite("setPaused", [false])
    await w.inboxWrite("setSource", [SRC_CHAIN_ID, "0x0000000000000000000000000000000000000000"])
    expect((await w.revertOf("commit", [cp, sigs])).errorName).toBe("UnregisteredSource")
  })

  it("computes the same digest as the TypeScript helper", async () => {
    const cp = checkpoint()
    const digest = await w.publicClient.readContract({
      address: w.inbox,
      abi: inboxAbi,
      functionName: "checkpointDigest",
      args: [cp],
    })
    expect(digest).toBe(hashCheckpoint({ domain: w.domain, checkpoint: cp }))
  })

  it("refuses commits before an operator set is mirrored", async () => {
    const fresh = await deployInbox(w.clients, { registryChainId: w.chainId, registry: w.registry })
    await w.write(w.walletClient, fresh, inboxAbi, "setSource", [SRC_CHAIN_ID, SRC_OUTBOX])
    const cp = { ...checkpoint(), epoch: 0n }
    expect((await w.revertOf("commit", [cp, await w.sign(cp)], { address: fresh })).errorName).toBe(
      "OperatorSetNotConfigured",
    )
    const first = checkpoint()
    expect(await w.revertOf("commit", [first, await w.sign(first)], { address: fresh })).toEqual({
      errorName: "EpochNotReached",
      args: [1n, 0n],
    })
  })
})

/** The arguments of `updateOperatorSet`: the registry's set at `epoch`, signed by `signers` (the Inbox's current set by default) for `domain`. */
async function signedUpdate(
  update: OperatorSet,
  signers: readonly LocalAccount[] = w.operators,
  domain = w.domain,
): Promise<readonly unknown[]> {
  const signatures = await Promise.all(
    signers.map(async (account) => ({
      signer: account.address,
      signature: await signOperatorSetUpdate({ account, domain, update }),
    })),
  )
  return [update.operators, update.weights, update.thresholdBps, update.epoch, packSignatures(signatures)]
}

describe("operator set", () => {
  const NEXT = makeOperators(3, "next")
  const nextSet = (epoch = 2n): OperatorSet => ({
    epoch,
    operators: NEXT.map((o) => o.address),
    weights: [1n, 1n, 1n],
    thresholdBps: 5000,
  })

  it("moves to a later epoch under the current set's quorum, and the old operators no longer count", async () => {
    const receipt = await w.inboxWrite(
      "updateOperatorSet",
      await signedUpdate(nextSet(), w.operators.slice(1)),
    )
    const [event] = parseEventLogs({ abi: inboxAbi, logs: receipt.logs, eventName: "OperatorSetUpdated" })
    expect(event!.args.epoch).toBe(2n)
    const set = await w.publicClient.readContract({
      address: w.inbox,
      abi: inboxAbi,
      functionName: "operatorSet",
    })
    expect(set).toEqual([NEXT.map((o) => o.address), [1n, 1n, 1n], 5000, 3n, 2n, 2n])
    const cp = { ...checkpoint(), epoch: 2n }
    expect((await w.revertOf("commit", [cp, await w.sign(cp, w.operators.slice(2))])).errorName).toBe(
      "UnknownSigner",
    )
    const committed = await w.inboxWrite("commit", [cp, await w.sign(cp, NEXT.slice(0, 2))])
    const [event2] = parseEventLogs({ abi: inboxAbi, logs: committed.logs, eventName: "CheckpointCommitted" })
    expect(event2!.args.epoch).toBe(2n)
    // The next update must carry the new set's signatures: the old set has no say any more.
    const third = { ...nextSet(3n), thresholdBps: 6667 }
    expect((await w.revertOf("updateOperatorSet", await signedUpdate(third))).errorName).toBe("UnknownSigner")
    await w.inboxWrite("updateOperatorSet", await signedUpdate(third, NEXT.slice(0, 2)))
    expect(
      await w.publicClient.readContract({ address: w.inbox, abi: inboxAbi, functionName: "epoch" }),
    ).toBe(3n)
  })

  it("catches up several epochs in one update, and refuses a stale or replayed one", async () => {
    const update = await signedUpdate(nextSet(7n))
    await w.inboxWrite("updateOperatorSet", update)
    expect(
      await w.publicClient.readContract({ address: w.inbox, abi: inboxAbi, functionName: "epoch" }),
    ).toBe(7n)
    expect(await w.revertOf("updateOperatorSet", update)).toEqual({ errorName: "StaleEpoch", args: [7n, 7n] })
    expect(await w.revertOf("updateOperatorSet", await signedUpdate(nextSet(5n), NEXT))).toEqual({
      errorName: "StaleEpoch",
      args: [5n, 7n],
    })
  })

  it("refuses an update short of the quorum, signed for another network, or not the set that was signed", async () => {
    const revert = async (args: Promise<readonly unknown[]>) =>
      (await w.revertOf("updateOperatorSet", await args)).errorName
    // 4 equal weights at 6667 bps: 3 signers are needed.
    expect(await revert(signedUpdate(nextSet(), w.operators.slice(0, 2)))).toBe("InsufficientStake")
    expect(await revert(signedUpdate(nextSet(), NEXT))).toBe("UnknownSigner")
    const elsewhere = getCheckpointDomain({ registryChainId: w.chainId + 1, registry: w.registry })
    expect(await revert(signedUpdate(nextSet(), w.operators, elsewhere))).toBe("UnknownSigner")
    // Signatures over one set do not carry another: swap a weight after signing.
    const [operators, , thresholdBps, epoch, signatures] = await signedUpdate(nextSet())
    expect(
      (await w.revertOf("updateOperatorSet", [operators, [1n, 1n, 2n], thresholdBps, epoch, signatures]))
        .errorName,
    ).toBe("UnknownSigner")
    expect(
      await w.publicClient.readContract({ address: w.inbox, abi: inboxAbi, functionName: "epoch" }),
    ).toBe(1n)
  })

  it("checks the signed set as it checks any set", async () => {
    const bad = (over: Partial<OperatorSet>) => signedUpdate({ ...nextSet(), ...over })
    const ops = NEXT.map((o) => o.address)
    const revert = async (over: Partial<OperatorSet>) =>
      (await w.revertOf("updateOperatorSet", await bad(over))).errorName
    expect(await revert({ operators: [...ops].reverse() })).toBe("OperatorsNotAscending")
    expect(await revert({ operators: [ops[0]!, ops[0]!], weights: [1n, 1n] })).toBe("OperatorsNotAscending")
    expect(await revert({ weights: [1n, 0n, 1n] })).toBe("ZeroWeight")
    expect(await revert({ weights: [1n, 1n] })).toBe("LengthMismatch")
    expect(await revert({ operators: [], weights: [] })).toBe("EmptyOperatorSet")
    expect(await revert({ thresholdBps: 0 })).toBe("InvalidThreshold")
    expect(await revert({ thresholdBps: 10_001 })).toBe("InvalidThreshold")
    expect(await revert({ operators: ["0x0000000000000000000000000000000000000000"], weights: [1n] })).toBe(
      "ZeroOperator",
    )
    const max = 2n ** 96n - 1n
    expect(await revert({ operators: ops.slice(0, 2), weights: [max, max] })).toBe("WeightOverflow")
  })

  it("computes the same update digest as the TypeScript helper, on the Inbox and on the registry", async () => {
    const update = nextSet()
    const args = [update.epoch, update.operators, update.weights, update.thresholdBps] as const
    const expected = hashOperatorSetUpdate({ domain: w.domain, update })
    for (const [address, abi] of [
      [w.inbox, inboxAbi],
      [w.registry, operatorRegistryAbi],
    ] as const) {
      expect(
        await w.publicClient.readContract({ address, abi, functionName: "operatorSetUpdateDigest", args }),
      ).toBe(expected)
    }
  })

  it("lets the owner give the first set only: after it, only signed updates move the set", async () => {
    const ops = w.operators.map((o) => o.address)
    const set = (args: readonly unknown[], account = w.walletClient.account) =>
      w.revertOf("setOperatorSet", args, { account })
    expect((await set([ops, [1n, 1n, 1n, 1n], 6667, 2n], w.other.account)).errorName).toBe("NotOwner")
    // The world bootstrapped epoch 1: the owner cannot move the set, to a later epoch or any other
    expect(await set([NEXT.map((o) => o.address), [1n, 1n, 1n], 5000, 2n])).toEqual({
      errorName: "OperatorSetAlreadyBootstrapped",
      args: [1n],
    })
    expect(
      await w.publicClient.readContract({ address: w.inbox, abi: inboxAbi, functionName: "epoch" }),
    ).toBe(1n)
    // while a quorum of the set it trusts still can
    await w.inboxWrite("updateOperatorSet", await signedUpdate(nextSet(2n), w.operators))
    expect(
      await w.publicClient.readContract({ address: w.inbox, abi: inboxAbi, functionName: "epoch" }),
    ).toBe(2n)
  })

  it("only the owner pauses or registers sources; ownership moves in two steps", async () => {
    const as = { account: w.other.account }
    expect((await w.revertOf("setPaused", [true], as)).errorName).toBe("NotOwner")
    expect((await w.revertOf("setSourcePaused", [SRC_CHAIN_ID, true], as)).errorName).toBe("NotOwner")
    expect((await w.revertOf("setSource", [SRC_CHAIN_ID, SRC_OUTBOX], as)).errorName).toBe("NotOwner")
    await w.inboxWrite("transferOwnership", [w.other.account.address])
    expect((await w.revertOf("acceptOwnership", [])).errorName).toBe("NotPendingOwner")
    await w.write(w.other, w.inbox, inboxAbi, "acceptOwnership", [])
    expect(
      await w.publicClient.readContract({ address: w.inbox, abi: inboxAbi, functionName: "owner" }),
    ).toBe(w.other.account.address)
    expect((await w.revertOf("setPaused", [true])).errorName).toBe("NotOwner")
  })

  it("reports sources and pause state", async () => {
    await w.inboxWrite("setSourcePaused", [SRC_CHAIN_ID, true])
    expect(
      await w.publicClient.readContract({
        address: w.inbox,
        abi: inboxAbi,
        functionName: "source",
        args: [SRC_CHAIN_ID],
      }),
    ).toEqual([SRC_OUTBOX, true])
    await w.inboxWrite("setPaused", [true])
    expect(
      await w.publicClient.readContract({ address: w.inbox, abi: inboxAbi, functionName: "paused" }),
    ).toBe(true)
  })
})

describe("epoch-bound checkpoints", () => {
  const NEXT = makeOperators(3, "next")
  const update = async (epoch: bigint, signers: readonly LocalAccount[], address = w.inbox) => {
    const next: OperatorSet = {
      epoch,
      operators: NEXT.map((o) => o.address),
      weights: [1n, 1n, 1n],
      thresholdBps: 5000,
    }
    return w.write(w.walletClient, address, inboxAbi, "updateOperatorSet", await signedUpdate(next, signers))
  }
  /** An Inbox like the world's, deployed with a grace window. */
  const inboxWithGrace = async (epochGraceSeconds: number) => {
    const inbox = await deployInbox(w.clients, {
      registryChainId: w.chainId,
      registry: w.registry,
      epochGraceSeconds,
    })
    await w.write(w.walletClient, inbox, inboxAbi, "setOperatorSet", [
      w.operators.map((o) => o.address),
      w.weights,
      w.thresholdBps,
      1n,
    ])
    await w.write(w.walletClient, inbox, inboxAbi, "setSource", [SRC_CHAIN_ID, SRC_OUTBOX])
    return inbox
  }

  it("given a quorum's signatures under epoch 1, when the Inbox moves to epoch 2 before the commit, then the commit is refused with EpochLeft, though every signer is still a member", async () => {
    // The old set keeps its operators in the new one: only the epoch can refuse their old signatures.
    const cp = checkpoint()
    const signatures = await w.sign(cp)
    const keep: OperatorSet = {
      epoch: 2n,
      operators: w.operators.map((o) => o.address),
      weights: w.weights,
      thresholdBps: w.thresholdBps,
    }
    await w.inboxWrite("updateOperatorSet", await signedUpdate(keep))
    expect(await w.revertOf("commit", [cp, signatures])).toEqual({ errorName: "EpochLeft", args: [1n, 2n] })
    // The same signers under epoch 2 commit it, and the event names the epoch it was signed under.
    const now = { ...cp, epoch: 2n }
    const receipt = await w.inboxWrite("commit", [now, await w.sign(now)])
    const [event] = parseEventLogs({ abi: inboxAbi, logs: receipt.logs, eventName: "CheckpointCommitted" })
    expect(event!.args.epoch).toBe(2n)
  })

  it("refuses a checkpoint naming an epoch the Inbox has not reached, and one relabelled to another epoch than its signers signed", async () => {
    const ahead = { ...checkpoint(), epoch: 2n }
    expect(await w.revertOf("commit", [ahead, await w.sign(ahead)])).toEqual({
      errorName: "EpochNotReached",
      args: [2n, 1n],
    })
    await update(2n, w.operators)
    // Signed under 1, presented as 2: the digest is another, so the signers recovered are strangers.
    const cp = checkpoint()
    const relabelled = { ...cp, epoch: 2n }
    expect((await w.revertOf("commit", [relabelled, await w.sign(cp)])).errorName).toMatch(
      /UnknownSigner|SignersNotAscending/,
    )
  })

  it("given a grace window, then the set it left still commits its own checkpoints until the window ends, and only the set it left, not the one before", async () => {
    const inbox = await inboxWithGrace(60)
    const cp = checkpoint()
    const signedBefore = await w.sign(cp)
    await update(2n, w.operators, inbox)
    const [previous, acceptedUntil] = (await w.publicClient.readContract({
      address: inbox,
      abi: inboxAbi,
      functionName: "previousEpoch",
    })) as readonly [bigint, bigint]
    expect(previous).toBe(1n)
    expect(acceptedUntil).toBeGreaterThan(0n)
    // Counted against the set of epoch 1, whose operators the Inbox no longer trusts for new checkpoints.
    const first = await w.write(w.walletClient, inbox, inboxAbi, "commit", [cp, signedBefore])
    const [event] = parseEventLogs({ abi: inboxAbi, logs: first.logs, eventName: "CheckpointCommitted" })
    expect(event!.args.epoch).toBe(1n)
    const later = w.checkpointOf(w.makeLane(w.makeMessages(0, 7)).tree)
    const signedLater = await w.sign(later)
    await w.testClient.increaseTime({ seconds: 61 })
    await w.testClient.mine({ blocks: 1 })
    expect(await w.revertOf("commit", [later, signedLater], { address: inbox })).toEqual({
      errorName: "EpochLeft",
      args: [1n, 2n],
    })
    // Two updates within the window: epoch 1 is two sets back, and counts nowhere.
    const again = await inboxWithGrace(3600)
    await update(2n, w.operators, again)
    const third: OperatorSet = {
      epoch: 3n,
      operators: NEXT.map((o) => o.address),
      weights: [1n, 1n, 2n],
      thresholdBps: 5000,
    }
    await w.write(
      w.walletClient,
      again,
      inboxAbi,
      "updateOperatorSet",
      await signedUpdate(third, NEXT.slice(0, 2)),
    )
    expect(await w.revertOf("commit", [later, signedLater], { address: again })).toEqual({
      errorName: "EpochLeft",
      args: [1n, 3n],
    })
  })
})
