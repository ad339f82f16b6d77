import { parseEventLogs, toFunctionSelector } from "viem"
import { describe, expect, it } from "vitest"
import { getCheckpointDomain, hashCheckpoint } from "../checkpoint/index.ts"
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
        args: [w.walletClient.account.address, operators, weights, 6667],
      })
    const selector = (signature: string) => new RegExp(toFunctionSelector(signature).slice(2))
    await expect(deploy([...ops].reverse(), [1n, 1n, 1n, 1n])).rejects.toThrow(
      selector("OperatorsNotAscending(uint256,address,address)"),
    )
    await expect(deploy([], [])).rejects.toThrow(selector("EmptyOperatorSet()"))
  })
})
