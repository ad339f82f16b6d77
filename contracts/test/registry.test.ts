import {
  concat,
  type Hex,
  type LocalAccount,
  parseEventLogs,
  parseSignature,
  serializeSignature,
  slice,
  toFunctionSelector,
  toHex,
  zeroAddress,
} from "viem"
import { describe, expect, it } from "vitest"
import { type Checkpoint, getCheckpointDomain, hashCheckpoint, signCheckpoint } from "../checkpoint/index.ts"
import { deployContract, readOperatorSet } from "../deploy/index.ts"
import { operatorRegistryAbi, operatorRegistryBytecode } from "../out/index.ts"
import { useWorld } from "./use-world.ts"
import { makeOperators, SRC_CHAIN_ID, SRC_OUTBOX, type World } from "./world.ts"

let w: World
useWorld({}, (world) => {
  w = world
})

const read = <T>(functionName: string, args: readonly unknown[] = []) =>
  w.publicClient.readContract({
    address: w.registry,
    abi: operatorRegistryAbi,
    functionName,
    args,
  } as never) as Promise<T>
const write = (functionName: string, args: readonly unknown[]) =>
  w.write(w.walletClient, w.registry, operatorRegistryAbi, functionName, args)
const revert = (functionName: string, args: readonly unknown[], account = w.walletClient.account) =>
  w.revertOf(functionName, args, { address: w.registry, abi: operatorRegistryAbi, account })

describe("OperatorRegistry", () => {
  it("starts at epoch 1 with the set sorted, and exposes the EIP-712 domain", async () => {
    const set = await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })
    expect(set).toEqual({
      operators: w.operators.map((o) => o.address),
      weights: [1n, 1n, 1n, 1n],
      thresholdBps: 6667,
      epoch: 1n,
    })
    expect(await read("requiredWeight")).toBe(3n)
    expect(await read("totalWeight")).toBe(4n)
    const [, name, version, chainId, verifyingContract] = await read<readonly unknown[]>("eip712Domain")
    expect({ name, version, chainId: Number(chainId), verifyingContract }).toEqual(
      getCheckpointDomain({ registryChainId: w.chainId, registry: w.registry }),
    )
    const checkpoint = {
      srcChainId: SRC_CHAIN_ID,
      outbox: SRC_OUTBOX,
      dstChainId: 5n,
      root: `0x${"ab".repeat(32)}` as const,
      count: 9,
      epoch: 3n,
    }
    expect(await read("checkpointDigest", [checkpoint])).toBe(
      hashCheckpoint({ domain: w.domain, checkpoint }),
    )
  })

  it("bumps the epoch on every change and announces the whole set as it now is", async () => {
    /** The change's own event, after checking the receipt also holds the whole set, equal to what the registry reads. */
    const changed = async (receipt: Awaited<ReturnType<typeof write>>) => {
      const events = parseEventLogs({ abi: operatorRegistryAbi, logs: receipt.logs })
      const announced = events.filter((event) => event.eventName === "OperatorSetChanged")
      expect(announced).toHaveLength(1)
      const now = await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })
      expect(announced[0]!.args).toEqual(now)
      return events.find((event) => event.eventName !== "OperatorSetChanged")
    }
    const [newcomer] = makeOperators(1, "newcomer")
    expect(await changed(await write("addOperator", [newcomer!.address, 5n]))).toMatchObject({
      eventName: "OperatorAdded",
      args: { epoch: 2n, operator: newcomer!.address, weight: 5n },
    })
    const { operators } = await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })
    expect([...operators]).toEqual(
      [...w.operators.map((o) => o.address), newcomer!.address].sort((a, b) =>
        BigInt(a) < BigInt(b) ? -1 : 1,
      ),
    )
    expect(await changed(await write("setWeight", [newcomer!.address, 7n]))).toMatchObject({
      eventName: "WeightUpdated",
      args: { epoch: 3n, oldWeight: 5n, newWeight: 7n },
    })
    expect(await read("totalWeight")).toBe(11n)
    expect(await changed(await write("setThreshold", [5000]))).toMatchObject({
      eventName: "ThresholdUpdated",
      args: { epoch: 4n, oldThresholdBps: 6667, newThresholdBps: 5000 },
    })
    expect(await changed(await write("removeOperator", [w.operators[0]!.address]))).toMatchObject({
      eventName: "OperatorRemoved",
      args: { epoch: 5n, operator: w.operators[0]!.address },
    })
    expect(await read("operatorCount")).toBe(4n)
    expect(await read("weightOf", [w.operators[0]!.address])).toBe(0n)
    const next = makeOperators(2, "replacement")
    expect(
      await changed(await write("setOperatorSet", [next.map((o) => o.address), [1n, 2n], 7000])),
    ).toBeUndefined()
    expect(await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })).toEqual({
      operators: next.map((o) => o.address),
      weights: [1n, 2n],
      thresholdBps: 7000,
      epoch: 6n,
    })
    expect(await read("weightOf", [w.operators[1]!.address])).toBe(0n)
  })

  it("rejects invalid changes", async () => {
    const a = w.operators[0]!.address
    expect((await revert("addOperator", [a, 1n])).errorName).toBe("OperatorExists")
    expect((await revert("addOperator", [makeOperators(1, "x")[0]!.address, 0n])).errorName).toBe(
      "ZeroWeight",
    )
    expect((await revert("addOperator", ["0x0000000000000000000000000000000000000000", 1n])).errorName).toBe(
      "ZeroOperator",
    )
    expect((await revert("removeOperator", [SRC_OUTBOX])).errorName).toBe("OperatorNotFound")
    expect((await revert("setWeight", [SRC_OUTBOX, 1n])).errorName).toBe("OperatorNotFound")
    expect((await revert("setWeight", [a, 0n])).errorName).toBe("ZeroWeight")
    expect((await revert("setThreshold", [0])).errorName).toBe("InvalidThreshold")
    expect((await revert("setOperatorSet", [[a, a], [1n, 1n], 6667])).errorName).toBe("OperatorsNotAscending")
    expect((await revert("setOperatorSet", [[], [], 6667])).errorName).toBe("EmptyOperatorSet")
    expect((await revert("setOperatorSet", [[a], [1n, 2n], 6667])).errorName).toBe("LengthMismatch")
    const single = makeOperators(1, "solo")
    await write("setOperatorSet", [single.map((o) => o.address), [1n], 6667])
    expect((await revert("removeOperator", [single[0]!.address])).errorName).toBe("EmptyOperatorSet")
  })

  it("is owned in two steps", async () => {
    const other = w.other.account
    expect((await revert("setThreshold", [5000], other)).errorName).toBe("NotOwner")
    await write("transferOwnership", [other.address])
    expect(await read("pendingOwner")).toBe(other.address)
    expect((await revert("acceptOwnership", [])).errorName).toBe("NotPendingOwner")
    await w.write(w.other, w.registry, operatorRegistryAbi, "acceptOwnership", [])
    expect(await read("owner")).toBe(other.address)
    expect((await revert("setThreshold", [5000])).errorName).toBe("NotOwner")
  })

  it("refuses an unsorted or empty initial set", async () => {
    const ops = w.operators.map((o) => o.address)
    const deploy = (operators: readonly `0x${string}`[], weights: bigint[]) =>
      deployContract(w.clients, {
        name: "OperatorRegistry",
        abi: operatorRegistryAbi,
        bytecode: operatorRegistryBytecode,
        args: [w.walletClient.account.address, operators, weights, 6667, zeroAddress],
      })
    const selector = (signature: string) => new RegExp(toFunctionSelector(signature).slice(2))
    await expect(deploy([...ops].reverse(), [1n, 1n, 1n, 1n])).rejects.toThrow(
      selector("OperatorsNotAscending(uint256,address,address)"),
    )
    await expect(deploy([], [])).rejects.toThrow(selector("EmptyOperatorSet()"))
  })
})

describe("OperatorRegistry: proof of equivocation", () => {
  const lane = { srcChainId: SRC_CHAIN_ID, outbox: SRC_OUTBOX, dstChainId: 5n, count: 9, epoch: 1n }
  const rootA = `0x${"aa".repeat(32)}` as const
  const rootB = `0x${"bb".repeat(32)}` as const
  const signed = async (account: LocalAccount, checkpoint: Checkpoint, domain = w.domain) =>
    [checkpoint, await signCheckpoint({ account, domain, checkpoint })] as const
  const prove = (a: readonly [Checkpoint, Hex], b: readonly [Checkpoint, Hex]) =>
    w.write(w.other, w.registry, operatorRegistryAbi, "proveEquivocation", [...a, ...b])
  const refusal = async (a: readonly [Checkpoint, Hex], b: readonly [Checkpoint, Hex]) =>
    w.revertOf("proveEquivocation", [...a, ...b], {
      address: w.registry,
      abi: operatorRegistryAbi,
      account: w.other.account,
    })

  it("given one operator's signatures over two roots for one lane and count, then anyone ejects it for good", async () => {
    const [liar, honest] = w.operators
    const first = await signed(liar!, { ...lane, root: rootA })
    const second = await signed(liar!, { ...lane, root: rootB })
    const receipt = await prove(first, second)
    const events = parseEventLogs({ abi: operatorRegistryAbi, logs: receipt.logs })
    expect(events.find((event) => event.eventName === "OperatorEjected")?.args).toEqual({
      epoch: 2n,
      operator: liar!.address,
      first: first[0],
      second: second[0],
      prover: w.other.account.address,
    })
    // Ground truth: the registry's set no longer holds it, and the whole new set was announced.
    const now = await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })
    expect(now.operators).toEqual(w.operators.slice(1).map((o) => o.address))
    expect(now.epoch).toBe(2n)
    expect(events.find((event) => event.eventName === "OperatorSetChanged")?.args).toEqual(now)
    expect(await read("isEjected", [liar!.address])).toBe(true)
    expect(await read("isEjected", [honest!.address])).toBe(false)
    // A replayed proof ejects nothing more; the owner cannot bring the operator back.
    expect((await refusal(first, second)).errorName).toBe("OperatorIsEjected")
    expect((await revert("addOperator", [liar!.address, 1n])).errorName).toBe("OperatorIsEjected")
    const all = w.operators.map((o) => o.address)
    expect((await revert("setOperatorSet", [all, all.map(() => 1n), 6667])).errorName).toBe(
      "OperatorIsEjected",
    )
    expect(await read<bigint>("epoch")).toBe(2n)
  })

  it("given one operator's two roots for one lane and count signed under two epochs, then it is ejected all the same; one root under two epochs is no equivocation", async () => {
    const [liar, other] = w.operators
    const sameRoot = await refusal(
      await signed(other!, { ...lane, root: rootA, epoch: 1n }),
      await signed(other!, { ...lane, root: rootA, epoch: 2n }),
    )
    expect(sameRoot.errorName).toBe("SameRoot")
    const receipt = await prove(
      await signed(liar!, { ...lane, root: rootA, epoch: 1n }),
      await signed(liar!, { ...lane, root: rootB, epoch: 2n }),
    )
    const events = parseEventLogs({ abi: operatorRegistryAbi, logs: receipt.logs })
    expect(events.map((event) => event.eventName)).toContain("OperatorEjected")
    expect(await read("isEjected", [liar!.address])).toBe(true)
  })

  it("given an equivocator the owner removed first, then the proof still marks it and it never comes back", async () => {
    const [liar] = w.operators
    await write("removeOperator", [liar!.address])
    const epoch = await read<bigint>("epoch")
    const receipt = await prove(
      await signed(liar!, { ...lane, root: rootA }),
      await signed(liar!, { ...lane, root: rootB }),
    )
    const events = parseEventLogs({ abi: operatorRegistryAbi, logs: receipt.logs })
    expect(events.map((event) => event.eventName)).toEqual(["OperatorEjected"])
    expect(events[0]!.args).toMatchObject({ epoch, operator: liar!.address })
    expect(await read("isEjected", [liar!.address])).toBe(true)
    expect(await read<bigint>("epoch")).toBe(epoch)
    expect((await revert("addOperator", [liar!.address, 1n])).errorName).toBe("OperatorIsEjected")
  })

  it("given anything that is not one operator's two roots for one lane and count, then nobody is ejected", async () => {
    const [op0, op1] = w.operators
    const a = await signed(op0!, { ...lane, root: rootA })
    expect((await refusal(a, await signed(op0!, { ...lane, root: rootA }))).errorName).toBe("SameRoot")
    expect((await refusal(a, await signed(op0!, { ...lane, root: rootB, count: 10 }))).errorName).toBe(
      "NotSameLaneAndCount",
    )
    expect((await refusal(a, await signed(op0!, { ...lane, root: rootB, dstChainId: 6n }))).errorName).toBe(
      "NotSameLaneAndCount",
    )
    expect((await refusal(a, await signed(op1!, { ...lane, root: rootB }))).errorName).toBe(
      "DifferentSigners",
    )
    // Signatures for another network recover someone else: no operator of this one is touched.
    const elsewhere = getCheckpointDomain({ registryChainId: w.chainId + 1, registry: w.registry })
    const foreign = await Promise.all([
      signed(op0!, { ...lane, root: rootA }, elsewhere),
      signed(op0!, { ...lane, root: rootB }, elsewhere),
    ])
    expect(["DifferentSigners", "OperatorNotFound"]).toContain(
      (await refusal(foreign[0], foreign[1])).errorName,
    )
    // A malleable twin, a bad v and a short signature are refused as the Inbox refuses them.
    const b = await signed(op0!, { ...lane, root: rootB })
    const { r, s, yParity } = parseSignature(b[1])
    const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const twin = serializeSignature({
      r,
      s: toHex(N - BigInt(s), { size: 32 }),
      v: yParity === 0 ? 28n : 27n,
    })
    expect(await refusal(a, [b[0], twin])).toEqual({ errorName: "InvalidEquivocationSignature", args: [1n] })
    expect(await refusal([a[0], concat([slice(a[1], 0, 64), "0x05"])], b)).toEqual({
      errorName: "InvalidEquivocationSignature",
      args: [0n],
    })
    expect(await refusal([a[0], slice(a[1], 0, 64)], b)).toEqual({
      errorName: "InvalidEquivocationSignature",
      args: [0n],
    })
    const set = await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })
    expect(set.epoch).toBe(1n)
    expect(set.operators).toEqual(w.operators.map((o) => o.address))
  })
})
