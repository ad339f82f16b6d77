/**
 * Evidence from the bus to the hub (issue 14): an operator of a running devnet signs, with its real keys, a
 * second root for a lane and count it signed honestly. The collector must publish the pair on
 * `chorus.evidence`, and the pair must be a proof the hub takes: sent to `OperatorRegistry.proveEquivocation`
 * by a stranger, it ejects the operator from the registry's set. Ground truth from the hub chain; and the relay
 * goes on delivering every message exactly once.
 */

import { createWalletClient, http, keccak256, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { waitFor } from "../../bus/contract/index.ts"
import { readEvents } from "../../bus/events/index.ts"
import { EQUIVOCATED_ROOT, equivocate } from "../../cli/devnet/equivocate.ts"
import { rpc } from "../../cli/devnet/world.ts"
import { readOperatorSet } from "../../contracts/deploy/index.ts"
import { inboxAbi, operatorRegistryAbi } from "../../contracts/out/index.ts"
import type { OperatorEquivocated } from "../../schemas/index.ts"
import { toTypedCheckpoint } from "../../services/operator/sign-checkpoint.ts"
import { TOPICS } from "../../topology/index.ts"
import { runCli } from "../fixtures/run-cli.ts"
import { useEmbeddedDevnet } from "./embedded-devnet.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

describe("evidence of equivocation, from the bus to the hub", () => {
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
    await waitFor(
      "every Inbox took the set without the ejected operator",
      async () => {
        const inboxes = await Promise.all(
          devnet.world.chains.map((chain) =>
            chain.client.readContract({ address: chain.inbox, abi: inboxAbi, functionName: "operatorSet" }),
          ),
        )
        return inboxes.every(
          ([operators, , , , , epoch]) =>
            epoch === after.epoch && !operators.some((o) => o.toLowerCase() === operator.toLowerCase()),
        )
      },
      { timeoutMs: 120_000 },
    )
    const later = await runCli(["operators", "--data-dir", dir, "--json"])
    const sets = later.out.map((l) => JSON.parse(l)).filter((row) => row.kind === "set")
    expect(sets.find((row) => row.where === "registry").set.epoch).toBe(Number(after.epoch))
    expect(sets.filter((row) => row.where === "inbox").map((row) => row.set.epoch)).toEqual(
      Array(3).fill(Number(after.epoch)),
    )

    // And the relay went on: every message reached its recipient once.
    await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 120_000 })
  }, 240_000)
})
