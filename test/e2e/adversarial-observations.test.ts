/**
 * Forged observations against a running devnet (issue 11, part 3's last
 * bullet and part 4's first): a chain-watcher that is authenticated but
 * faulty or compromised — its records signed with the watcher's own key,
 * so the bus takes them — cannot block a lane with a `MessageObserved`.
 *
 * Before any real message is sent on the lane 901 → 902, two forgeries of
 * its next nonce are published, addressed to the destination's
 * PingRecipient: one naming the source chain's finalized block (where the
 * Outbox had not sent that nonce), one naming a block the chain has not
 * reached. Then real traffic is sent on every lane.
 *
 * Ground truth is read from the chains: every real message reached its
 * recipient exactly once, the forged sender never pinged anyone, and the
 * destination Inbox shows the lane's first nonce delivered. The log shows
 * both forgeries rejected with their reasons (`chorus messages --status
 * rejected`, `chorus trace`), and no stall of the lane.
 *
 * The devnet's tracker is not polled: it projects every event through the
 * lifecycle, which has no rule for `MessageRejected` until one is added.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { stringToHex } from "viem"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { authenticatedBus } from "../../bus/authentication/index.ts"
import { waitFor } from "../../bus/contract/index.ts"
import { publishEvents, readEvents } from "../../bus/events/index.ts"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { receivedPayloads } from "../../cli/devnet/recipients.ts"
import { inboxAbi, outboxAbi, pingRecipientAbi } from "../../contracts/out/index.ts"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  type Envelope,
  Message,
  MessageId,
  MessageObserved,
  type MessageRejected,
  makeEnvelope,
  TxHash,
  U256,
  Hex as WireHex,
} from "../../schemas/index.ts"
import { computeMessageId } from "../../services/proof-builder/index.ts"
import { busIdentitiesOf } from "../../services/registry.ts"
import { producerOf, quietLogger } from "../../services/runtime/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { runCli } from "../fixtures/run-cli.ts"

const MESSAGES = 12
const FORGED_SENDER = Address.make("0x000000000000000000000000000000000000dead")

describe("adversarial: forged observations of a lane's next nonce against a running devnet", () => {
  const dir = mkdtempSync(join(tmpdir(), "chorus-adversarial-observations-"))
  let devnet: Devnet
  beforeAll(async () => {
    devnet = await startDevnet({ bus: { kind: "embedded", dataDir: dir }, logger: quietLogger() })
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Every event on a topic so far. */
  const readAll = async (topic: string): Promise<Envelope[]> => {
    const envelopes: Envelope[] = []
    for await (const read of readEvents(devnet.bus, { topic, from: "earliest" }))
      if (read.ok) envelopes.push(read.envelope)
    return envelopes
  }

  it("rejects both forgeries against the chain, delivers every real message exactly once, and shows the forgeries as rejected", async () => {
    const [source, destination] = devnet.world.chains
    const src = source!
    const dst = destination!
    const outbox = Address.make(src.outbox.toLowerCase())
    const next = Number(
      await src.client.readContract({
        address: src.outbox,
        abi: outboxAbi,
        functionName: "count",
        args: [BigInt(dst.chainId)],
      }),
    )
    const finalized = await src.client.getBlock({ blockTag: "finalized" })
    const forge = (block: BlockRef, body: string): Envelope => {
      const message = new Message({
        version: 1,
        nonce: next,
        srcChainId: ChainId.make(src.chainId),
        sender: FORGED_SENDER,
        dstChainId: ChainId.make(dst.chainId),
        recipient: Address.make(dst.recipient.toLowerCase()),
        gasLimit: U256.make("200000"),
        body: WireHex.make(stringToHex(body)),
      })
      const computed = computeMessageId(message)
      if (!computed.ok) throw new Error(computed.reason)
      return makeEnvelope(
        new MessageObserved({
          message,
          messageId: MessageId.make(computed.id),
          outbox,
          block,
          blockTimestamp: Number(finalized.timestamp),
          transactionHash: TxHash.make(`0x${"f0".repeat(32)}`),
          logIndex: 0,
        }),
        { producer: producerOf("chain-watcher", String(src.chainId)), causationId: null, time: new Date() },
      )
    }
    const atFinalized = forge(
      new BlockRef({ number: Number(finalized.number), hash: Bytes32.make(finalized.hash.toLowerCase()) }),
      "forged: the Outbox never sent this",
    )
    const beyond = forge(
      new BlockRef({
        number: Number(finalized.number) + 1_000_000,
        hash: Bytes32.make(`0x${"0f".repeat(32)}`),
      }),
      "forged: a block the chain has not reached",
    )
    const forgedIds = [atFinalized, beyond].map((e) => (e.event as MessageObserved).messageId)

    // when both forgeries are published before any real message of the lane is sent, signed with the
    // chain-watcher's own key: the bus authenticates them, so this is a faulty or compromised watcher
    const signer = busIdentitiesOf(devnet.config).signerFor("chain-watcher", String(src.chainId))
    const asWatcher = authenticatedBus(devnet.bus, signer === undefined ? {} : { signer })
    await publishEvents(asWatcher, [atFinalized, beyond])
    const rejections = async () =>
      (await readAll(TOPICS.checkpointsProposed.name))
        .filter((e) => e.type === "MessageRejected")
        .map((e) => e.event as MessageRejected)
    await waitFor(
      "the forgery at the finalized block rejected",
      async () => (await rejections()).some((r) => r.messageId === forgedIds[0]),
      { timeoutMs: 60_000, intervalMs: 500 },
    )
    const sent = await devnet.send({ messages: MESSAGES, rate: 6 })

    // then every real message reaches its recipient exactly once (ground truth: the recipients' events)
    const key = (m: { srcChainId: number; dstChainId: number; body: string }) =>
      `${m.srcChainId}->${m.dstChainId}:${m.body.toLowerCase()}`
    let receivedSoFar = 0
    await waitFor(
      "every real message delivered",
      async () => {
        receivedSoFar = (await receivedPayloads(devnet.world)).length
        return receivedSoFar >= sent.length
      },
      { timeoutMs: 180_000, intervalMs: 1_000, detail: () => `${receivedSoFar}/${sent.length} received` },
    )
    const received = await receivedPayloads(devnet.world)
    expect(received.map(key).sort()).toEqual(sent.map(key).sort())
    // and the forged sender never reached the recipient, while the Inbox shows the lane's nonce delivered
    const pings = await dst.client.readContract({
      address: dst.recipient,
      abi: pingRecipientAbi,
      functionName: "pings",
      args: [BigInt(src.chainId), FORGED_SENDER as `0x${string}`],
    })
    expect(pings).toBe(0n)
    const status = await dst.client.readContract({
      address: dst.inbox,
      abi: inboxAbi,
      functionName: "messageStatus",
      args: [BigInt(src.chainId), src.outbox, next],
    })
    expect(status).toBe(1) // Delivered
    expect(sent.some((m) => m.srcChainId === src.chainId && m.dstChainId === dst.chainId)).toBe(true)

    // and both forgeries are rejected with the chain's reasons, and the lane never stalled
    await waitFor(
      "the forgery naming a block the chain has not reached rejected",
      async () => (await rejections()).some((r) => r.messageId === forgedIds[1]),
      { timeoutMs: 60_000, intervalMs: 500 },
    )
    const byId = new Map((await rejections()).map((r) => [r.messageId, r]))
    expect(byId.get(forgedIds[0]!)).toMatchObject({ nonce: next, reason: "nonce-not-sent-by-block" })
    expect(byId.get(forgedIds[1]!)).toMatchObject({ nonce: next, reason: "nonce-sent-before-block" })
    const stalls = (await readAll(TOPICS.checkpointsProposed.name))
      .filter((e) => e.type === "LaneStalled")
      .map((e) => e.event as { lane: { srcChainId: number; dstChainId: number }; reason: string })
      .filter((s) => s.lane.srcChainId === src.chainId && s.lane.dstChainId === dst.chainId)
    expect(stalls).toEqual([])

    // and the incident tools show the forgeries as rejected, with their reasons, never as pending messages
    const listed = await runCli([
      "messages",
      "--data-dir",
      dir,
      "--status",
      "rejected",
      "--json",
      "--limit",
      "0",
    ])
    expect(listed.code).toBe(0)
    const rows = listed.out.slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(rows.map((r) => r.id).sort()).toEqual([...forgedIds].sort())
    expect(rows.every((r) => r.status === "rejected" && r.stage === "observed")).toBe(true)
    const stuck = await runCli(["messages", "--data-dir", dir, "--status", "stuck", "--ids", "--limit", "0"])
    expect(stuck.out.filter((id) => forgedIds.includes(id as MessageId))).toEqual([])
    const traced = await runCli(["trace", forgedIds[0]!, "--data-dir", dir])
    expect(traced.code).toBe(1)
    expect(traced.text).toContain("status rejected")
    expect(traced.text).toContain("rejected by the proof-builder (nonce-not-sent-by-block)")
    const all = await runCli(["messages", "--data-dir", dir, "--status", "all", "--json", "--limit", "0"])
    const real = all.out
      .slice(0, -1)
      .map(
        (line) => JSON.parse(line) as { id: string; srcChainId: number; dstChainId: number; nonce: number },
      )
      .find(
        (r) =>
          r.srcChainId === src.chainId &&
          r.dstChainId === dst.chainId &&
          r.nonce === next &&
          !forgedIds.includes(r.id as MessageId),
      )!
    const realTrace = await runCli(["trace", real.id, "--data-dir", dir])
    expect(realTrace.code).toBe(0)
    expect(realTrace.text).toContain("status delivered")
    expect(realTrace.text).toContain(
      `another message observed at nonce ${next}, ${forgedIds[0]}, was rejected`,
    )
  }, 420_000)
})
