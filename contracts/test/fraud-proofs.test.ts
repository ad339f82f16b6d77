// Invalid attestations proven where the truth lives (issue 14, part 5): a lane of the hub chain's own Outbox, a
// checkpoint of it that an operator signed, and the hub's CheckpointFraudProofs judging it against the Outbox. A
// valid proof ejects the signer through the registry; an invalid or replayed one ejects nobody.
import { type Address, type Hex, parseEventLogs, toHex, zeroAddress } from "viem"
import { describe, expect, it } from "vitest"
import {
  appendLeaf,
  createMerkleTree,
  getRangeProof,
  type MerkleTree,
} from "../../services/proof-builder/merkle/index.ts"
import { type Checkpoint, signCheckpoint } from "../checkpoint/index.ts"
import {
  deployCheckpointFraudProofs,
  deployOperatorRegistry,
  deployOutbox,
  readOperatorSet,
} from "../deploy/index.ts"
import { checkpointFraudProofsAbi, operatorRegistryAbi, outboxAbi } from "../out/index.ts"
import { useWorld } from "./use-world.ts"
import type { World } from "./world.ts"

const DST = 902n
let w: World
let outbox: Address
let fraudProofs: Address
let tree: MerkleTree
const ids: Hex[] = []

useWorld({}, async (world) => {
  w = world
  outbox = await deployOutbox(w.clients)
  fraudProofs = (await w.publicClient.readContract({
    address: w.registry,
    abi: operatorRegistryAbi,
    functionName: "fraudProofs",
  })) as Address
  tree = createMerkleTree()
  for (let i = 0; i < 5; i++) await send(i)
})

async function send(i: number) {
  const receipt = await w.write(w.walletClient, outbox, outboxAbi, "send", [
    DST,
    w.ping,
    100_000n,
    toHex(`m${i}`),
  ])
  const [event] = parseEventLogs({ abi: outboxAbi, logs: receipt.logs, eventName: "MessageSent" })
  appendLeaf(tree, event!.args.messageId)
  ids.push(event!.args.messageId)
}

/** A checkpoint of the hub's own lane towards DST at `count`, with `root` (the true one unless given). */
const checkpointAt = (count: number, root?: Hex): Checkpoint => ({
  srcChainId: BigInt(w.chainId),
  outbox,
  dstChainId: DST,
  root: root ?? getRangeProof(tree, { start: 0, end: count, count }).root,
  count,
  epoch: 1n,
})
const FALSE_ROOT: Hex = `0x${"fa".repeat(32)}`

/** The arguments of `proveInvalidAttestation`: against the lane now (its count), with the leaf at `count - 1`. */
const proofArgs = async (checkpoint: Checkpoint, signer = w.operators[0]!, snapshotCount = 5) => {
  const signature = await signCheckpoint({ account: signer, domain: w.domain, checkpoint })
  const index = Math.min(checkpoint.count, snapshotCount) - 1
  const leafProof =
    snapshotCount > checkpoint.count
      ? getRangeProof(tree, { start: index, end: index + 1, count: snapshotCount }).siblings
      : []
  return [checkpoint, signature, snapshotCount, ids[index]!, leafProof] as const
}

const prove = async (args: readonly unknown[]) =>
  w.write(w.other, w.registry, operatorRegistryAbi, "proveInvalidAttestation", args)
const refusal = (args: readonly unknown[]) =>
  w.revertOf("proveInvalidAttestation", args, {
    address: w.registry,
    abi: operatorRegistryAbi,
    account: w.other.account,
  })
const registryRead = <T>(functionName: string, args: readonly unknown[] = []) =>
  w.publicClient.readContract({
    address: w.registry,
    abi: operatorRegistryAbi,
    functionName,
    args,
  } as never) as Promise<T>

describe("CheckpointFraudProofs: what the source chain says of its own lanes", () => {
  it("judges every true checkpoint of the lane consistent, from the lane now and a leaf's proof, and gives its root", async () => {
    for (let count = 1; count <= 5; count++) {
      const [checkpoint, , snapshotCount, leaf, siblings] = await proofArgs(checkpointAt(count))
      const [verdict, root] = (await w.publicClient.readContract({
        address: fraudProofs,
        abi: checkpointFraudProofsAbi,
        functionName: "judge",
        args: [checkpoint, snapshotCount, leaf, siblings],
      })) as readonly [number, Hex]
      expect([verdict, root]).toEqual([0, checkpoint.root])
    }
  })
})

describe("OperatorRegistry: proof of an invalid attestation", () => {
  it("given an operator's signature over a root the lane never had at that count, then a stranger's proof against the lane now ejects it for good, and the epoch moves", async () => {
    const [liar] = w.operators
    const epoch = await registryRead<bigint>("epoch")
    const receipt = await prove(await proofArgs(checkpointAt(3, FALSE_ROOT), liar))
    const events = parseEventLogs({
      abi: operatorRegistryAbi,
      logs: receipt.logs,
      eventName: "OperatorEjectedForInvalidAttestation",
    })
    expect(events[0]!.args).toMatchObject({
      epoch: epoch + 1n,
      operator: liar!.address,
      root: getRangeProof(tree, { start: 0, end: 3, count: 3 }).root,
      prover: w.other.account.address,
    })
    expect(await registryRead("isEjected", [liar!.address])).toBe(true)
    const set = await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })
    expect(set.operators).not.toContain(liar!.address)
    // Replayed, the same proof ejects nobody twice.
    expect((await refusal(await proofArgs(checkpointAt(3, FALSE_ROOT), liar))).errorName).toBe(
      "OperatorIsEjected",
    )
  })

  it("proves against a stored snapshot at the checkpoint's own count, after the lane moved on, and a count the lane never reached as premature", async () => {
    const [, liar, other] = w.operators
    await w.write(w.other, fraudProofs, checkpointFraudProofsAbi, "snapshot", [outbox, DST])
    await send(5)
    await send(6)
    // Snapshot at 5, the lane at 7: the checkpoint at 5 is judged against the snapshot alone.
    await prove(await proofArgs(checkpointAt(5, FALSE_ROOT), liar, 5))
    expect(await registryRead("isEjected", [liar!.address])).toBe(true)
    // A count past the lane's (7): nothing can be compared, and nothing honest was signed there.
    const receipt = await prove(await proofArgs(checkpointAt(9, FALSE_ROOT), other, 7))
    const [event] = parseEventLogs({
      abi: operatorRegistryAbi,
      logs: receipt.logs,
      eventName: "OperatorEjectedForInvalidAttestation",
    })
    expect(event!.args.root).toBe(`0x${"00".repeat(32)}`)
    ids.splice(5)
    tree = createMerkleTree()
    for (const id of ids) appendLeaf(tree, id)
  })

  it("given anything but a false checkpoint of a hub lane, signed by the operator, then nobody is ejected", async () => {
    const [op0] = w.operators
    const before = await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })
    // A true checkpoint, at the lane's count and below it.
    expect((await refusal(await proofArgs(checkpointAt(5)))).errorName).toBe("CheckpointConsistent")
    expect((await refusal(await proofArgs(checkpointAt(2)))).errorName).toBe("CheckpointConsistent")
    // A leaf proof that is not the lane's.
    const [checkpoint, signature, snapshotCount, , siblings] = await proofArgs(checkpointAt(2, FALSE_ROOT))
    expect((await refusal([checkpoint, signature, snapshotCount, ids[3]!, siblings])).errorName).toBe(
      "InvalidLeafProof",
    )
    expect(
      (await refusal([checkpoint, signature, snapshotCount, ids[1]!, siblings.slice(1)])).errorName,
    ).toBe("InvalidLeafProof")
    // A snapshot count nobody snapshot, or below the checkpoint's.
    expect((await refusal([checkpoint, signature, 4, ids[1]!, []])).errorName).toBe("NoSnapshot")
    // A checkpoint of another chain's lane: proven on that chain, not here.
    const elsewhere = { ...checkpointAt(2, FALSE_ROOT), srcChainId: 901n }
    expect((await refusal(await proofArgs(elsewhere))).errorName).toBe("SourceNotProvableHere")
    // The epoch is no part of the truth: a true root under another epoch is still true.
    expect((await refusal(await proofArgs({ ...checkpointAt(4), epoch: 7n }))).errorName).toBe(
      "CheckpointConsistent",
    )
    expect(await registryRead("isEjected", [op0!.address])).toBe(false)
    expect(await readOperatorSet({ publicClient: w.publicClient, registry: w.registry })).toEqual(before)
  })

  it("given a registry deployed without the hub's fraud proofs, then invalid attestations are not provable on it", async () => {
    const bare = await deployOperatorRegistry(w.clients, {
      operators: w.operators.map((o) => ({ address: o.address, weight: 1n })),
      thresholdBps: 6667,
      fraudProofs: null,
    })
    expect(
      await w.publicClient.readContract({
        address: bare,
        abi: operatorRegistryAbi,
        functionName: "fraudProofs",
      }),
    ).toBe(zeroAddress)
    const args = await proofArgs(checkpointAt(3, FALSE_ROOT))
    expect(
      (await w.revertOf("proveInvalidAttestation", args, { address: bare, abi: operatorRegistryAbi }))
        .errorName,
    ).toBe("SourceNotProvableHere")
    // A fraud-proofs contract of its own judges the same checkpoint false all the same.
    const own = await deployCheckpointFraudProofs(w.clients)
    const [verdict] = (await w.publicClient.readContract({
      address: own,
      abi: checkpointFraudProofsAbi,
      functionName: "judge",
      args: [args[0], args[2], args[3], args[4]],
    })) as readonly [number, Hex]
    expect(verdict).toBe(2)
  })
})
