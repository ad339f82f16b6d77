/**
 * The incident runbook, end to end on a running devnet: some messages fail
 * at a recipient that reverts on purpose; `chorus messages` finds them,
 * `chorus trace` says why, `chorus retry` refuses what it must, fails again
 * while the recipient still reverts, and delivers once it is fixed — every
 * request and answer on the log, and the recipients hold each payload once.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { receivedPayloads } from "../../cli/devnet/recipients.ts"
import type { SentMessage } from "../../cli/devnet/traffic.ts"
import { quietLogger } from "../../services/runtime/index.ts"
import { runCli } from "../fixtures/run-cli.ts"
import { untilSettled } from "./exactly-once.ts"

const MESSAGES = 12

const cli = runCli

describe("incident: find, trace and retry failed messages on a running devnet", () => {
  const dir = mkdtempSync(join(tmpdir(), "chorus-incident-"))
  let devnet: Devnet
  let sent: ReadonlyArray<SentMessage>
  let failedIds: string[]
  let deliveredId: string

  beforeAll(async () => {
    devnet = await startDevnet({ bus: { kind: "embedded", dataDir: dir }, logger: quietLogger() })
    sent = await devnet.send({ messages: MESSAGES, rate: 6, reverting: 25 })
    await untilSettled(devnet, MESSAGES, 90_000)
    const messages = devnet.tracker.messages()
    failedIds = messages.filter((m) => m.failedAt !== undefined).map((m) => m.messageId!)
    deliveredId = messages.find((m) => m.deliveredAt !== undefined)!.messageId!
  }, 180_000)

  afterAll(async () => {
    await devnet?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it("chorus messages --status failed lists exactly the messages sent to the closed recipients", async () => {
    expect(failedIds).toHaveLength(sent.filter((m) => m.gated).length)
    const { code, out } = await cli(["messages", "--data-dir", dir, "--status", "failed", "--json"])
    expect(code).toBe(0)
    const rows = out.map((line) => JSON.parse(line))
    expect(rows.at(-1)).toEqual({ total: failedIds.length, shown: failedIds.length })
    expect(
      rows
        .slice(0, -1)
        .map((r) => r.id)
        .sort(),
    ).toEqual([...failedIds].map((id) => id.toLowerCase()).sort())
  })

  it("chorus trace of a failed message shows the revert and what to do", async () => {
    const { code, text } = await cli(["trace", failedIds[0]!, "--data-dir", dir])
    expect(code).toBe(1)
    expect(text).toContain("status failed")
    expect(text).toMatch(/recipient 0x[0-9a-f]{40} reverted in block \d+/)
    expect(text).toContain(`chorus retry ${failedIds[0]!.toLowerCase()}`)
  })

  it("chorus retry refuses an unknown id and a delivered message without writing anything", async () => {
    const unknown = await cli(["retry", `0x${"ef".repeat(32)}`, "--data-dir", dir])
    expect(unknown.code).toBe(1)
    expect(unknown.text).toMatch(/refused: message 0x(ef){32} is not in the log/)
    const delivered = await cli(["retry", deliveredId, "--data-dir", dir])
    expect(delivered.code).toBe(1)
    expect(delivered.text).toMatch(
      /refused: message 0x[0-9a-f]{64} was already delivered on chain 90\d in tx 0x[0-9a-f]{64}/,
    )
  })

  it("while the recipient still reverts, a retry fails again and says why", async () => {
    const { code, text } = await cli([
      "retry",
      failedIds[0]!,
      "--data-dir",
      dir,
      "--reason",
      "too early",
      "--wait",
      "60s",
    ])
    expect(text).toMatch(/^requested: RetryRequested 0x[0-9a-f]{64}/)
    expect(code).toBe(1)
    expect(text).toMatch(/failed again: /)
  }, 90_000)

  it("after the recipients are fixed, chorus retry delivers every failed message once, and trace shows the retry", async () => {
    expect((await cli(["devnet", "open-recipients", "--data-dir", dir])).code).toBe(0)
    for (const id of failedIds) {
      const { code, text } = await cli([
        "retry",
        id,
        "--data-dir",
        dir,
        "--reason",
        "recipient fixed",
        "--wait",
        "60s",
      ])
      expect(code, text).toBe(0)
      expect(text).toMatch(/delivered: /)
    }
    const traced = await cli(["trace", failedIds[0]!, "--data-dir", dir])
    expect(traced.code).toBe(0)
    expect(traced.text).toContain("status delivered")
    expect(traced.text).toMatch(/retry requested by .*: too early/)
    expect(traced.text).toMatch(/retry requested by .*: recipient fixed/)
    expect((await cli(["messages", "--data-dir", dir, "--status", "failed"])).out.at(-1)).toBe(
      "0 message(s) match",
    )
    // A second retry of a now-delivered message is refused.
    expect((await cli(["retry", failedIds[0]!, "--data-dir", dir])).code).toBe(1)
    const received = await receivedPayloads(devnet.world)
    const key = (m: { srcChainId: number; dstChainId: number; body: string }) =>
      `${m.srcChainId}->${m.dstChainId}:${m.body.toLowerCase()}`
    expect(received.map(key).sort()).toEqual(sent.map(key).sort())
  }, 240_000)
})
