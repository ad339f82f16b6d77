/**
 * Evidence from the bus to the hub (issue 14): an operator of a running devnet signs, with its real keys, a
 * second root for a lane and count it signed honestly. The collector must publish the pair on
 * `chorus.evidence`, and the pair must be a proof the hub takes: sent to `OperatorRegistry.proveEquivocation`
 * by a stranger, it ejects the operator from the registry's set. Ground truth from the hub chain; and the relay
 * goes on delivering every message exactly once.
 */

import { createWalletClient, http, keccak256, parseEventLogs, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { authenticatedBus, deriveSigningKey, signerFromSeed } from "../../bus/authentication/index.ts"
import { waitFor } from "../../bus/contract/index.ts"
import { publishEvents, readEvents } from "../../bus/events/index.ts"
import type { Devnet } from "../../cli/devnet/devnet.ts"
import { EQUIVOCATED_ROOT, equivocate } from "../../cli/devnet/equivocate.ts"
import { rpc } from "../../cli/devnet/world.ts"
import { signCheckpoint } from "../../contracts/checkpoint/index.ts"
import { readOperatorSet } from "../../contracts/deploy/index.ts"
import {
  checkpointFraudProofsAbi,
  inboxAbi,
  operatorRegistryAbi,
  outboxAbi,
} from "../../contracts/out/index.ts"
import {
  AttestationSigned,
  Bytes32,
  Checkpoint,
  CheckpointProposed,
  Hex,
  makeEnvelope,
  type OperatorAttestedInvalid,
  type OperatorEquivocated,
  toAddress,
} from "../../schemas/index.ts"
import { checkpointDigest } from "../../services/attestation-collector/verify-signature.ts"
import { checkpointDomainOf, localKeyOf, operatorIdentity } from "../../services/config/index.ts"
import { toTypedCheckpoint } from "../../services/operator/sign-checkpoint.ts"
import { appendLeaf, createMerkleTree, getRangeProof } from "../../services/proof-builder/merkle/index.ts"
import { busIdentitiesOf } from "../../services/registry.ts"
import { producerOf } from "../../services/runtime/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { runCli } from "../fixtures/run-cli.ts"
import { useEmbeddedDevnet } from "./embedded-devnet.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

/** Waits until every Inbox of the devnet is at `epoch` with a set that no longer holds `operator`. */
const untilEveryInboxDropped = (devnet: Devnet, operator: string, epoch: bigint) =>
  waitFor(
    "every Inbox took the set without the ejected operator",
    async () => {
      const inboxes = await Promise.all(
        devnet.world.chains.map((chain) =>
          chain.client.readContract({ address: chain.inbox, abi: inboxAbi, functionName: "operatorSet" }),
        ),
      )
      return inboxes.every(
        ([operators, , , , , at]) =>
          at === epoch && !operators.some((o) => o.toLowerCase() === operator.toLowerCase()),
      )
    },
    { timeoutMs: 120_000 },
  )

describe("evidence of equivocation and of invalid attestations, from the bus to the hub", () => {
  const net = useEmbeddedDevnet("evidence")

  it("publishes an operator's two roots for one lane and count, and the hub ejects it on that proof", async () => {
    const { devnet, dir } = net
    const sent = await devnet.send({ messages: 6, rate: 6 })
    const { operator, honest } = await equivocate(devnet, 0)

    let evidence: OperatorEquivocated | undefined
    await waitFor(
      "the collector published evidence",
      async () => {
        for await (const read of readEvents(devnet.bus, { topic: TOPICS.evidence.name, from: "earliest" }))
          if (read.ok && read.envelope.event._tag === "OperatorEquivocated") evidence = read.envelope.event
        return evidence !== undefined
      },
      { timeoutMs: 60_000 },
    )
    expect(evidence!.operator.toLowerCase()).toBe(operator.toLowerCase())
    expect(evidence!.first.checkpoint).toEqual(honest)
    expect(evidence!.second.checkpoint.root).toBe(EQUIVOCATED_ROOT)

    // `chorus operators` shows the evidence against the operator, and every Inbox at the hub's epoch.
    const before = await runCli(["operators", "--data-dir", dir])
    expect(before.code).toBe(0)
    const line = before.out.find((l) => l.includes(operator.toLowerCase()) && l.includes("evidence"))
    expect(line).toContain("evidence 1")
    expect(before.text).toContain(`EVIDENCE: two roots for checkpoint #${honest.count}`)
    expect(before.out.filter((l) => l.includes("(up to date with the hub)"))).toHaveLength(3)

    // A stranger (a fresh key, nobody in Chorus, funded here) sends the pair to the hub.
    const hub = devnet.world.chains[0]!
    const registry = devnet.world.registry
    const strangerAccount = privateKeyToAccount(keccak256(stringToHex("a stranger to Chorus")))
    await rpc(hub.rpcUrl, "anvil_setBalance", [strangerAccount.address, "0xde0b6b3a7640000"])
    const stranger = createWalletClient({
      account: strangerAccount,
      transport: http(hub.rpcUrl),
    })
    const hubBefore = await readOperatorSet({ publicClient: hub.client, registry })
    const hash = await stranger.writeContract({
      address: registry,
      abi: operatorRegistryAbi,
      functionName: "proveEquivocation",
      args: [
        toTypedCheckpoint(evidence!.first.checkpoint, evidence!.first.epoch),
        evidence!.first.signature as `0x${string}`,
        toTypedCheckpoint(evidence!.second.checkpoint, evidence!.second.epoch),
        evidence!.second.signature as `0x${string}`,
      ],
      chain: null,
    })
    expect((await hub.client.waitForTransactionReceipt({ hash })).status).toBe("success")

    // Ground truth on the hub: the operator is out of the set for good, and the epoch moved on.
    const after = await readOperatorSet({ publicClient: hub.client, registry })
    expect(after.epoch).toBe(hubBefore.epoch + 1n)
    expect(after.operators.map((a) => a.toLowerCase())).not.toContain(operator.toLowerCase())
    expect(after.operators).toHaveLength(hubBefore.operators.length - 1)
    expect(
      await hub.client.readContract({
        address: registry,
        abi: operatorRegistryAbi,
        functionName: "isEjected",
        args: [operator],
      }),
    ).toBe(true)

    // The ejection flows to every Inbox as an ordinary rotation: the relay carries the hub's new set there.
    await untilEveryInboxDropped(devnet, operator, after.epoch)
    const later = await runCli(["operators", "--data-dir", dir, "--json"])
    const sets = later.out.map((l) => JSON.parse(l)).filter((row) => row.kind === "set")
    expect(sets.find((row) => row.where === "registry").set.epoch).toBe(Number(after.epoch))
    expect(sets.filter((row) => row.where === "inbox").map((row) => row.set.epoch)).toEqual(
      Array(3).fill(Number(after.epoch)),
    )

    // And the relay went on: every message reached its recipient once.
    await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 120_000 })
  }, 240_000)

  it("publishes evidence against an operator that signs a root its source chain never had, and the hub ejects it on the chain's own proof", async () => {
    const { devnet, dir } = net
    const hub = devnet.world.chains[0]!
    const registry = devnet.world.registry
    // A real proposal of a lane from the hub chain, at a block final by now.
    let real: CheckpointProposed | undefined
    await waitFor(
      "a checkpoint of a hub-chain lane was proposed",
      async () => {
        for await (const read of readEvents(devnet.bus, {
          topic: TOPICS.checkpointsProposed.name,
          from: "earliest",
        }))
          if (
            read.ok &&
            read.envelope.event._tag === "CheckpointProposed" &&
            read.envelope.event.checkpoint.srcChainId === hub.chainId
          )
            real = read.envelope.event
        return real !== undefined
      },
      { timeoutMs: 60_000 },
    )
    const { checkpoint: honest, block, previousCount } = real!
    const dst = devnet.world.chains.find((c) => c.chainId === honest.dstChainId)!

    // Given a forged proposal of that count and block with a root the chain never had, from the proof-builder's key…
    const forged = new Checkpoint({
      ...honest,
      root: Bytes32.make(keccak256(stringToHex("a root no chain had"))),
    })
    const identities = busIdentitiesOf(devnet.config)
    const asProofBuilder = authenticatedBus(devnet.bus, {
      signer: identities.signerFor("proof-builder", "proof-builder")!,
    })
    await publishEvents(asProofBuilder, [
      makeEnvelope(new CheckpointProposed({ checkpoint: forged, previousCount, block }), {
        producer: producerOf("proof-builder", "proof-builder"),
        causationId: null,
        time: new Date(),
      }),
    ])
    // …which a member signs with its real key, under the epoch the destination trusts, while its peers refuse it.
    const rogue = devnet.config.operators[1]!
    const identity = operatorIdentity(devnet.config, rogue)
    const { address } = identity
    const privateKey = localKeyOf(identity, "to sign a forged root")
    const epoch = Number(
      await dst.client.readContract({ address: dst.inbox, abi: inboxAbi, functionName: "epoch" }),
    )
    const domain = checkpointDomainOf(devnet.config)
    const signature = await signCheckpoint({
      account: privateKeyToAccount(privateKey),
      domain,
      checkpoint: toTypedCheckpoint(forged, epoch),
    })
    const asRogue = authenticatedBus(devnet.bus, { signer: signerFromSeed(deriveSigningKey(privateKey)) })
    await publishEvents(asRogue, [
      makeEnvelope(
        new AttestationSigned({
          checkpoint: forged,
          epoch,
          digest: checkpointDigest(domain, forged, epoch),
          operator: toAddress(address),
          signature: Hex.make(signature.toLowerCase()),
        }),
        { producer: producerOf("operator", address), causationId: null, time: new Date() },
      ),
    ])

    // Then the collector, on its own read of the hub's Outbox, publishes the evidence with the refusing peers.
    let evidence: OperatorAttestedInvalid | undefined
    await waitFor(
      "the collector published evidence of an invalid attestation",
      async () => {
        for await (const read of readEvents(devnet.bus, { topic: TOPICS.evidence.name, from: "earliest" }))
          if (read.ok && read.envelope.event._tag === "OperatorAttestedInvalid")
            evidence = read.envelope.event
        return evidence !== undefined
      },
      { timeoutMs: 60_000 },
    )
    expect(evidence!.operator).toBe(toAddress(address))
    expect(evidence!.source).toMatchObject({ count: honest.count, root: honest.root })
    expect(evidence!.refusedBy.length).toBeGreaterThan(0)
    const shown = await runCli(["operators", "--data-dir", dir])
    expect(shown.text).toContain(`which its source chain holds as ${honest.root}`)

    // A stranger proves it on the hub from the chain alone: a snapshot of the lane, the leaf at the count, its proof.
    const stranger = createWalletClient({
      account: privateKeyToAccount(keccak256(stringToHex("another stranger to Chorus"))),
      transport: http(hub.rpcUrl),
    })
    await rpc(hub.rpcUrl, "anvil_setBalance", [stranger.account.address, "0xde0b6b3a7640000"])
    const fraudProofs = await hub.client.readContract({
      address: registry,
      abi: operatorRegistryAbi,
      functionName: "fraudProofs",
    })
    const snapshot = await stranger.writeContract({
      address: fraudProofs,
      abi: checkpointFraudProofsAbi,
      functionName: "snapshot",
      args: [hub.outbox, BigInt(dst.chainId)],
      chain: null,
    })
    const snapshotReceipt = await hub.client.waitForTransactionReceipt({ hash: snapshot })
    const [taken] = parseEventLogs({
      abi: checkpointFraudProofsAbi,
      logs: snapshotReceipt.logs,
      eventName: "LaneSnapshot",
    })
    const snapshotCount = taken!.args.count
    const sends = await hub.client.getContractEvents({
      address: hub.outbox,
      abi: outboxAbi,
      eventName: "MessageSent",
      fromBlock: 0n,
    })
    const ids = sends
      .filter((e) => e.args.message!.dstChainId === BigInt(dst.chainId))
      .sort((a, b) => a.args.message!.nonce - b.args.message!.nonce)
      .map((e) => e.args.messageId!)
    const tree = createMerkleTree()
    for (const id of ids.slice(0, snapshotCount)) appendLeaf(tree, id)
    const index = honest.count - 1
    const siblings =
      snapshotCount > honest.count
        ? getRangeProof(tree, { start: index, end: index + 1, count: snapshotCount }).siblings
        : []
    const hubBefore = await readOperatorSet({ publicClient: hub.client, registry })
    const prove = await stranger.writeContract({
      address: registry,
      abi: operatorRegistryAbi,
      functionName: "proveInvalidAttestation",
      args: [
        toTypedCheckpoint(evidence!.signed.checkpoint, evidence!.signed.epoch),
        evidence!.signed.signature as `0x${string}`,
        snapshotCount,
        ids[index]!,
        siblings,
      ],
      chain: null,
    })
    expect((await hub.client.waitForTransactionReceipt({ hash: prove })).status).toBe("success")

    // Ground truth on the hub: the operator is out for good; and the ejection reaches every Inbox as a rotation.
    const after = await readOperatorSet({ publicClient: hub.client, registry })
    expect(after.epoch).toBe(hubBefore.epoch + 1n)
    expect(after.operators.map((a) => a.toLowerCase())).not.toContain(address.toLowerCase())
    expect(
      await hub.client.readContract({
        address: registry,
        abi: operatorRegistryAbi,
        functionName: "isEjected",
        args: [address],
      }),
    ).toBe(true)
    await untilEveryInboxDropped(devnet, address, after.epoch)
    // The forged root was never committed anywhere.
    expect(
      await dst.client.readContract({
        address: dst.inbox,
        abi: inboxAbi,
        functionName: "committedCount",
        args: [BigInt(forged.srcChainId), forged.outbox as `0x${string}`, forged.root as `0x${string}`],
      }),
    ).toBe(0)
  }, 240_000)
})
