/**
 * A source chain rewritten below finality, quarantined, and resumed with
 * `chorus chain resume` (issue 12, part 3), end to end on the devnet's three
 * anvil chains and every service on the embedded bus, judged from the
 * chains.
 *
 * Chain 901 sends three messages to 902; they are observed, proven and
 * attested while 902's submitter is not running. Then 901's last blocks
 * are replaced below its finalized head (the same transactions, in new
 * blocks with new hashes), and its watcher halts. 902's submitter starts:
 * it delivers a message from 903, and nothing of 901 (the Inbox shows none
 * of them, `chorus messages --status quarantined` lists them), and 901's
 * watcher refuses to start again. The deployment's config lists the
 * `chain-resume` tool's key; `chorus chain resume 901` lifts the halt from
 * the block before the rewrite, the watcher of 901 is started again and
 * reads the new blocks from there, and one more message is sent on the
 * lane. Then every message of 901 is delivered, once, and every delivery is
 * in a block after the resume: the checkpoint attested before the rewrite
 * (count 3, past the lane's count 0 at the trusted block) is never used; the
 * one attested after the resume (count 4) is.
 *
 * The fresh message is what brings a checkpoint attested after the resume:
 * the proof-builder does not propose a lane again for re-observed messages
 * it already proved, so without new traffic the lane would wait (docs/runbook.md).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createWalletClient, type Hex, http, parseAbiItem, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { replaceBlocks } from "../../bench/chaos/chain-faults.ts"
import { waitFor } from "../../bus/contract/index.ts"
import { readEvents } from "../../bus/events/index.ts"
import { chainDefinition } from "../../chains/evm/index.ts"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { ANVIL_DEFAULT_KEYS } from "../../contracts/anvil/index.ts"
import { inboxAbi, outboxAbi } from "../../contracts/index.ts"
import type { CheckpointAttested } from "../../schemas/index.ts"
import { ChainHaltedError } from "../../services/chain-watcher/index.ts"
import { type ChorusConfig, loadConfig } from "../../services/config/index.ts"
import { type ServiceSelection, startServices } from "../../services/registry.ts"
import { quietLogger, type RunningService } from "../../services/runtime/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { runCli } from "../fixtures/run-cli.ts"

const SRC = 901
const DST = 902
/** The devnet's traffic sender (this test sends its own traffic, and no other). */
const SENDER = privateKeyToAccount(ANVIL_DEFAULT_KEYS[4])
/** The chain-resume tool's bus key, added to the devnet's config as a deployment lists it. */
const pinged = parseAbiItem(
  "event Pinged(uint64 indexed srcChainId, address indexed sender, uint256 count, bytes body)",
)

describe("a source chain rewritten below finality, quarantined, and resumed with chorus chain resume", () => {
  const dir = mkdtempSync(join(tmpdir(), "chorus-chain-resume-e2e-"))
  let devnet: Devnet
  let config: ChorusConfig
  const running: RunningService[] = []
  const start = async (service: Exclude<ServiceSelection, "all">, instance?: string) => {
    const started = await startServices({
      bus: devnet.bus,
      config,
      logger: quietLogger(),
      service,
      ...(instance === undefined ? {} : { instance }),
    })
    running.push(...started)
    return started
  }

  beforeAll(async () => {
    devnet = await startDevnet({
      bus: { kind: "embedded", dataDir: dir },
      logger: quietLogger(),
      runServices: false,
    })
    // The devnet's config lists the tool's key: every service, and the CLI, take its ChainResumed.
    config = loadConfig(devnet.configPath)
    for (const service of ["chain-watcher", "proof-builder", "operator", "attestation-collector"] as const)
      await start(service)
  }, 180_000)

  afterAll(async () => {
    await Promise.allSettled(running.map((service) => service.stop()))
    await devnet?.stop()
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  const chain = (chainId: number) => devnet.world.chains.find((c) => c.chainId === chainId)!

  /** Sends `body` from `src` to `dst`'s PingRecipient; returns the block it landed in. */
  const send = async (src: number, dst: number, body: string): Promise<number> => {
    const from = chain(src)
    const wallet = createWalletClient({
      chain: chainDefinition(src, [from.rpcUrl]),
      transport: http(from.rpcUrl),
      account: SENDER,
    })
    const hash = await wallet.writeContract({
      address: from.outbox,
      abi: outboxAbi,
      functionName: "send",
      args: [BigInt(dst), chain(dst).recipient, 200_000n, stringToHex(body)],
    })
    return Number((await from.client.waitForTransactionReceipt({ hash })).blockNumber)
  }

  /** What 902's Inbox shows for 901's messages `0..count-1`: 0 none, 1 delivered, 2 failed. */
  const statuses = async (count: number) => {
    const out: number[] = []
    for (let nonce = 0; nonce < count; nonce++)
      out.push(
        Number(
          await chain(DST).client.readContract({
            address: chain(DST).inbox,
            abi: inboxAbi,
            functionName: "messageStatus",
            args: [BigInt(SRC), chain(SRC).outbox, nonce],
          }),
        ),
      )
    return out
  }

  /** What 902's PingRecipient received from `src`: each body, with the timestamp of its block (s). */
  const receivedFrom = async (src: number) => {
    const logs = await chain(DST).client.getLogs({
      address: chain(DST).recipient,
      event: pinged,
      args: { srcChainId: BigInt(src) },
      fromBlock: 0n,
      toBlock: "latest",
    })
    const out: Array<{ body: Hex; at: number }> = []
    for (const log of logs) {
      const block = await chain(DST).client.getBlock({ blockNumber: log.blockNumber! })
      out.push({ body: log.args.body!, at: Number(block.timestamp) })
    }
    return out
  }

  /** The checkpoints of lane 901 → 902 attested so far: count → root. */
  const attested = async () => {
    const roots = new Map<number, Hex>()
    for await (const item of readEvents(devnet.bus, {
      topic: TOPICS.checkpointsAttested.name,
      from: "earliest",
    })) {
      if (!item.ok || item.envelope.event._tag !== "CheckpointAttested") continue
      const { checkpoint } = item.envelope.event as CheckpointAttested
      if (checkpoint.srcChainId === SRC && checkpoint.dstChainId === DST)
        roots.set(checkpoint.count, checkpoint.root as Hex)
    }
    return roots
  }
  const attestedCounts = async () => [...(await attested()).keys()]
  /** The count 902's Inbox stored `root` with for lane 901 → 902: 0 if it never committed it. */
  const committedCount = async (root: Hex) =>
    Number(
      await chain(DST).client.readContract({
        address: chain(DST).inbox,
        abi: inboxAbi,
        functionName: "committedCount",
        args: [BigInt(SRC), chain(SRC).outbox, root],
      }),
    )

  it("delivers nothing of the halted chain before the resume, and every message of it, once, after", async () => {
    // Given three messages of 901 to 902, observed, proven and attested, with no submitter of 902 running
    const sentAt = [
      await send(SRC, DST, "before 0"),
      await send(SRC, DST, "before 1"),
      await send(SRC, DST, "before 2"),
    ]
    await waitFor(
      "checkpoint 3 of lane 901 → 902 attested",
      async () => (await attestedCounts()).includes(3),
      {
        timeoutMs: 90_000,
        intervalMs: 500,
      },
    )

    // When 901 is rewritten below its finalized head, from the block of its first message on
    const trusted = sentAt[0]! - 1
    const trustedHash = (await chain(SRC).client.getBlock({ blockNumber: BigInt(trusted) })).hash
    const watcher = running.find((s) => s.name === `chain-watcher/${SRC}`)!
    const rewrite = await replaceBlocks(chain(SRC).rpcUrl, SRC, {
      depth: 4,
      aboveFinality: false,
      blockTime: 1,
      from: sentAt[0]!,
    })
    expect(rewrite.from).toBeLessThanOrEqual(sentAt[0]!)
    expect(rewrite.from).toBeLessThanOrEqual(rewrite.finalized)
    expect(rewrite.lost).toEqual([])
    // Then its watcher halts
    const halted = await watcher.done.then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(halted).toBeInstanceOf(ChainHaltedError)
    expect((await chain(SRC).client.getBlock({ blockNumber: BigInt(trusted) })).hash).toBe(trustedHash)

    // When 902's submitter runs, and 903 sends it a message
    await start("submitter")
    await send(903, DST, "beside the halt")
    await waitFor(
      "the message of 903 delivered on 902",
      async () => (await receivedFrom(903)).some((r) => r.body === stringToHex("beside the halt")),
      { timeoutMs: 90_000, intervalMs: 500 },
    )
    // Then nothing of 901 was delivered: the Inbox has none of them, and chorus lists them quarantined
    expect(await statuses(3)).toEqual([0, 0, 0])
    expect(await receivedFrom(SRC)).toEqual([])
    const quarantined = await runCli(["messages", "--data-dir", dir, "--status", "quarantined", "--json"])
    expect(quarantined.code).toBe(0)
    expect(JSON.parse(quarantined.out.at(-1)!)).toMatchObject({ total: 3 })

    // When chorus chain resume lifts the halt from the block before the rewrite
    const refusedStart = await startServices({
      bus: devnet.bus,
      config,
      logger: quietLogger(),
      service: "chain-watcher",
      instance: String(SRC),
    }).catch((error: unknown) => error)
    expect(String(refusedStart)).toMatch(/chain 901 is halted on the log/)
    const resumedAt = Math.floor(Date.now() / 1000)
    const resume = await runCli([
      "chain",
      "resume",
      String(SRC),
      "--from",
      String(trusted),
      "--hash",
      trustedHash,
      "--data-dir",
      dir,
      "--reason",
      "end-to-end: the rewrite re-included every transaction",
    ])
    expect(resume.code, resume.text).toBe(0)
    expect(resume.text).toContain(`lane counts there: 901 → 902: 0, 901 → 903: 0`)
    expect(await statuses(3)).toEqual([0, 0, 0])
    // …and 901's watcher starts again from it, and one more message is sent on the lane
    await start("chain-watcher", String(SRC))
    await send(SRC, DST, "after")

    // Then every message of 901 is delivered, once, each in a block after the resume
    let last: number[] = []
    await waitFor(
      "every message of 901 delivered on 902",
      async () => {
        last = await statuses(4)
        return last.every((s) => s === 1)
      },
      {
        timeoutMs: 180_000,
        intervalMs: 500,
        detail: () => `Inbox statuses of nonces 0..3: ${last.join(", ")}`,
      },
    )
    const received = await receivedFrom(SRC)
    expect(received.map((r) => r.body).sort()).toEqual(
      ["before 0", "before 1", "before 2", "after"].map((b) => stringToHex(b)).sort(),
    )
    for (const r of received) expect(r.at).toBeGreaterThanOrEqual(resumedAt)
    // …and never against the checkpoint attested before the rewrite: the one attested after it carried them
    const roots = await attested()
    expect(await committedCount(roots.get(3)!)).toBe(0)
    const provenAgainst: string[] = []
    for await (const item of readEvents(devnet.bus, { topic: TOPICS.deliveries.name, from: "earliest" })) {
      if (!item.ok || item.envelope.event._tag !== "DeliverySubmitted") continue
      const { lane, proofRoot } = item.envelope.event
      if (lane.srcChainId === SRC && lane.dstChainId === DST) provenAgainst.push(String(proofRoot))
    }
    expect(provenAgainst.length).toBeGreaterThan(0)
    expect(new Set(provenAgainst)).toEqual(new Set([roots.get(4)]))
    // …and trace shows the halt and the resume on the chain's messages (once the submitter recorded the delivery
    // the chain already shows)
    const first = (await firstMessageOf(devnet, SRC))!
    let traced = await runCli(["trace", first, "--data-dir", dir])
    await waitFor(
      "the delivery of 901's first message on the log",
      async () => {
        traced = await runCli(["trace", first, "--data-dir", dir])
        return traced.code === 0
      },
      { timeoutMs: 60_000, intervalMs: 500, detail: () => traced.text },
    )
    expect(traced.text).toMatch(/chain-halted +source chain 901 halted/)
    expect(traced.text).toMatch(
      /chain-resumed +source chain 901 resumed by .* \("end-to-end: the rewrite re-included every transaction"\) from block/,
    )
  }, 420_000)
})

/** The id of `src`'s first message to 902 on the log (nonce 0). */
const firstMessageOf = async (devnet: Devnet, src: number): Promise<string | undefined> => {
  for await (const item of readEvents(devnet.bus, {
    topic: TOPICS.messagesObserved.name,
    from: "earliest",
  })) {
    if (!item.ok || item.envelope.event._tag !== "MessageObserved") continue
    const { message, messageId } = item.envelope.event
    if (message.srcChainId === src && message.dstChainId === DST && message.nonce === 0) return messageId
  }
  return undefined
}
