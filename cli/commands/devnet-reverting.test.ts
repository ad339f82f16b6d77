// `chorus devnet --reverting`: a small embedded devnet sends 12 messages with 25% of them to the closed
// GatedRecipients. Those end "failed" in the log and the rest "delivered"; then `chorus devnet open-recipients`
// opens the gates on the running chains, after which a failed message can be retried (here with a direct
// Inbox.retry from the proof in the log: `chorus retry` is built elsewhere).
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createWalletClient, type Hex, http } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { readEvents } from "../../bus/events/index.ts"
import { chainDefinition } from "../../chains/evm/client.ts"
import { gatedRecipientAbi, inboxAbi } from "../../contracts/index.ts"
import type { Message } from "../../schemas/index.ts"
import { createMerkleTree, getMessageProof, getRoot } from "../../services/proof-builder/merkle/index.ts"
import { toChorusMessage } from "../../services/runtime/contract-message.ts"
import { quietLogger } from "../../services/runtime/index.ts"
import { untilSettled } from "../../test/e2e/exactly-once.ts"
import { runCommand } from "../../test/fixtures/run-cli.ts"
import { TOPICS } from "../../topology/index.ts"
import { UsageError } from "../command.ts"
import { type Devnet, startDevnet } from "../devnet/devnet.ts"
import { readDevnetFile } from "../devnet/devnet-file.ts"
import { DevnetNotRunningError } from "../devnet/gates.ts"
import { judgeDevnet } from "../devnet/outcome.ts"
import { receivedPayloads } from "../devnet/recipients.ts"
import type { SentMessage } from "../devnet/traffic.ts"
import { ANVIL_KEYS } from "../devnet/world.ts"
import { devnet as devnetCommand, revertingFlag } from "./devnet.ts"
import { devnetOpenRecipients } from "./devnet-open-recipients.ts"

const MESSAGES = 12

const openRecipients = (argv: ReadonlyArray<string>) => runCommand(devnetOpenRecipients, argv)

describe("--reverting <percent>", () => {
  it("accepts an integer percentage from 0 to 100 and refuses anything else, naming the flag", async () => {
    expect(revertingFlag({})).toBe(0)
    expect(revertingFlag({ reverting: "0" })).toBe(0)
    expect(revertingFlag({ reverting: "25" })).toBe(25)
    expect(revertingFlag({ reverting: "100" })).toBe(100)
    for (const bad of ["101", "-1", "2.5", "ten", "", "1000"])
      expect(() => revertingFlag({ reverting: bad }), bad).toThrow(
        /^--reverting must be an integer percentage from 0 to 100 .*, got /,
      )
    // The command refuses it before it starts any chain.
    await expect(runCommand(devnetCommand, ["--reverting", "150", "--exit"])).rejects.toThrow(UsageError)
  })
})

describe("a devnet with 25% of its traffic to closed GatedRecipients", () => {
  let devnet: Devnet
  let dataDir: string
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "chorus-devnet-reverting-"))
    devnet = await startDevnet({ bus: { kind: "embedded", dataDir }, logger: quietLogger() })
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
  })
  /** Whether each chain's GatedRecipient is open, in the order of the devnet's chains. */
  const gatesOpen = () =>
    Promise.all(
      devnet.world.chains.map((chain) =>
        chain.client.readContract({
          address: chain.gatedRecipient,
          abi: gatedRecipientAbi,
          functionName: "open",
        }),
      ),
    )

  it("describes itself in devnet.json next to config.json", () => {
    const file = readDevnetFile(dataDir)
    expect(devnet.devnetPath).toBe(join(dataDir, "devnet.json"))
    expect(file.config).toBe("config.json")
    expect(file.bus).toEqual({ kind: "embedded", dataDir: join(dataDir, "log") })
    expect(file.chains).toEqual(
      devnet.world.chains.map((c) => ({
        chainId: c.chainId,
        rpcUrl: c.rpcUrl,
        outbox: c.outbox.toLowerCase(),
        inbox: c.inbox.toLowerCase(),
        pingRecipient: c.recipient.toLowerCase(),
        gatedRecipient: c.gatedRecipient.toLowerCase(),
      })),
    )
    expect(file.gatedRecipientOwner.address).toBe(devnet.world.owner.toLowerCase())
    expect(privateKeyToAccount(file.gatedRecipientOwner.privateKey as Hex).address).toBe(devnet.world.owner)
  })

  it("fails the gated messages at the recipient, delivers the rest, and opens the gates on demand", async () => {
    const sent: SentMessage[] = await devnet.send({ messages: MESSAGES, rate: 6, reverting: 25 })
    expect(sent.filter((m) => m.gated).map((m) => m.index)).toEqual([3, 7, 11])
    for (const m of sent) {
      const destination = devnet.world.chains.find((c) => c.chainId === m.dstChainId)!
      expect(m.recipient).toBe(m.gated ? destination.gatedRecipient : destination.recipient)
    }

    await untilSettled(devnet, MESSAGES, 150_000)
    const tracked = devnet.tracker.messages()
    const outcome = judgeDevnet({
      target: MESSAGES,
      messages: tracked,
      duplicates: devnet.tracker.progress().duplicates,
    })
    expect(outcome.problems).toEqual([])
    expect(outcome.endings).toEqual({
      delivered: 9,
      "gated-failed": 3,
      "gated-delivered": 0,
      failed: 0,
      "in-flight": 0,
    })
    expect(devnet.tracker.summary()).toMatchObject({ sent: 12, delivered: 9, failed: 3 })
    for (const m of tracked) {
      expect(m.failedAt !== undefined, `#${m.sent.index} failed`).toBe(m.sent.gated)
      expect(m.deliveredAt !== undefined, `#${m.sent.index} delivered`).toBe(!m.sent.gated)
    }
    const key = (m: { srcChainId: number; dstChainId: number; body: string }) =>
      `${m.srcChainId}->${m.dstChainId}:${m.body.toLowerCase()}`
    const before = await receivedPayloads(devnet.world)
    expect(before.map(key).sort()).toEqual(
      sent
        .filter((m) => !m.gated)
        .map(key)
        .sort(),
    )

    // Open every gate on the running chains: one transaction per chain.
    const opened = await openRecipients(["--data-dir", dataDir])
    expect(opened.code).toBe(0)
    for (const chain of devnet.world.chains)
      expect(opened.lines.join("\n")).toMatch(
        new RegExp(
          `chain ${chain.chainId} {2}GatedRecipient ${chain.gatedRecipient} {2}opened {2}tx 0x[0-9a-f]{64}`,
        ),
      )
    expect(await gatesOpen()).toEqual(devnet.world.chains.map(() => true))

    // A failed message can now be retried, with a proof against a root its Inbox committed: built here from
    // the lane's messages on the log, as anyone holding the log can (the proof-builder's own single proofs are
    // against each checkpoint's root, and the submitter may have committed only a later one).
    const gated = tracked.find((m) => m.sent.gated)!
    const destination = devnet.world.chains.find((c) => c.chainId === gated.sent.dstChainId)!
    const laneOf = (checkpoint: { srcChainId: number; outbox: string; dstChainId: number }) =>
      `${checkpoint.srcChainId}:${checkpoint.outbox.toLowerCase()}:${checkpoint.dstChainId}`
    let gatedMessage: Message | undefined
    let gatedLane: string | undefined
    const leaves = new Map<string, Map<number, Hex>>()
    for await (const read of readEvents(devnet.bus, {
      topic: TOPICS.messagesProven.name,
      from: "earliest",
    })) {
      if (!read.ok || read.envelope.event._tag !== "MessageProven") continue
      const proven = read.envelope.event
      const lane = laneOf(proven.checkpoint)
      const ids = leaves.get(lane) ?? new Map<number, Hex>()
      leaves.set(lane, ids)
      proven.messageIds.forEach((id, i) => {
        ids.set(proven.start + i, id as Hex)
        if (id === gated.messageId) [gatedMessage, gatedLane] = [proven.messages[i], lane]
      })
    }
    expect(gatedMessage, "the failed message is proven on the log").toBeDefined()
    const committed: Array<{ root: Hex; count: number }> = []
    for await (const read of readEvents(devnet.bus, { topic: TOPICS.deliveries.name, from: "earliest" })) {
      if (!read.ok || read.envelope.event._tag !== "RootCommitted") continue
      const { checkpoint } = read.envelope.event
      if (laneOf(checkpoint) === gatedLane && checkpoint.count > gatedMessage!.nonce)
        committed.push({ root: checkpoint.root as Hex, count: checkpoint.count })
    }
    const [root] = committed
    expect(root, "a root covering the failed message was committed on its destination").toBeDefined()
    const ids = leaves.get(gatedLane!)!
    const tree = createMerkleTree(Array.from({ length: root!.count }, (_, nonce) => ids.get(nonce)!))
    expect(getRoot(tree)).toBe(root!.root)
    const wallet = createWalletClient({
      chain: chainDefinition(destination.chainId, [destination.rpcUrl]),
      account: privateKeyToAccount(ANVIL_KEYS.deployer),
      transport: http(destination.rpcUrl),
    })
    const hash = await wallet.writeContract({
      address: destination.inbox,
      abi: inboxAbi,
      functionName: "retry",
      args: [
        toChorusMessage(gatedMessage!),
        root!.root,
        getMessageProof(tree, gatedMessage!.nonce, root!.count).siblings,
      ],
    })
    expect((await destination.client.waitForTransactionReceipt({ hash })).status).toBe("success")
    const after = await receivedPayloads(devnet.world)
    expect(after.filter((r) => r.recipient === "gated").map(key)).toEqual([key(gated.sent)])

    // Idempotent, and reversible.
    const again = await openRecipients(["--data-dir", dataDir])
    expect(again.lines.filter((l) => l.includes("already open, no transaction sent"))).toHaveLength(3)
    const closed = await openRecipients(["--data-dir", dataDir, "--close"])
    expect(closed.lines.filter((l) => / {2}closed {2}tx 0x/.test(l))).toHaveLength(3)
    expect(await gatesOpen()).toEqual(devnet.world.chains.map(() => false))

    // Once the devnet stops, the same command says so instead of hanging or half-acting.
    await devnet.stop()
    await expect(openRecipients(["--data-dir", dataDir])).rejects.toBeInstanceOf(DevnetNotRunningError)
  }, 300_000)
})
