/**
 * The audit index on a real devnet log: every delivered message's timeline
 * runs observed → … → delivered in log order, the index answers the same
 * after a rebuild from offset zero, and an unknown id is not found.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { startDevnet } from "../../cli/devnet/devnet.ts"
import type { SentMessage } from "../../cli/devnet/traffic.ts"
import { expectDeliveredExactlyOnce } from "../../test/e2e/exactly-once.ts"
import { runCli } from "../../test/fixtures/run-cli.ts"
import { quietLogger } from "../runtime/index.ts"
import { catchUp } from "./catch-up.ts"
import { AuditStore } from "./index-store.ts"
import { listMessages } from "./list-messages.ts"
import { startAuditor } from "./service.ts"
import { traceMessage } from "./trace-message.ts"

const ORDER = ["observed", "proposed", "proven", "signed", "attested", "committed", "delivered"]

describe("the audit index on a devnet log", () => {
  const dir = mkdtempSync(join(tmpdir(), "chorus-audit-"))
  let bus: BusPort
  let sent: ReadonlyArray<SentMessage>
  let ids: string[]

  beforeAll(async () => {
    const devnet = await startDevnet({ bus: { kind: "embedded", dataDir: dir }, logger: quietLogger() })
    try {
      sent = await devnet.send({ messages: 12, rate: 6 })
      await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 90_000 })
      ids = devnet.tracker.messages().map((m) => m.messageId!)
    } finally {
      await devnet.stop()
    }
    bus = await openEmbeddedBus({ dataDir: join(dir, "log") })
  }, 180_000)

  afterAll(async () => {
    await bus?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("given a finished devnet, when the index catches up, then every message's timeline runs from observed to delivered in log order", async () => {
    const store = AuditStore.open(join(dir, "a.sqlite"))
    try {
      const first = await catchUp(bus, store)
      expect(first.records).toBeGreaterThan(12)
      expect(first.unreadable).toBe(0)
      for (const id of ids) {
        const trace = traceMessage(store, id, { now: Date.now(), stuckAfterMs: 120_000 })!
        expect(trace.status, id).toBe("delivered")
        const stages = trace.steps.map((s) => s.stage)
        for (const stage of ORDER) expect(stages, id).toContain(stage)
        expect(stages[0]).toBe("observed")
        expect(stages.indexOf("delivered")).toBeGreaterThan(stages.indexOf("attested"))
        expect(stages.indexOf("attested")).toBeGreaterThan(stages.indexOf("proposed"))
        // Steps are in log time, and each delay is the gap to the step before.
        expect(trace.steps.slice(1).every((s, i) => s.sincePreviousMs === s.at - trace.steps[i]!.at)).toBe(
          true,
        )
        expect(trace.steps.slice(1).every((s) => s.sincePreviousMs! >= 0)).toBe(true)
        expect(stages.filter((s) => s.startsWith("signature-"))).toEqual([])
        const signed = trace.steps.find((s) => s.stage === "signed")!
        expect(signed.summary).toMatch(/signed by \d operator\(s\) with \d+ stake/)
        expect(trace.waiting).toEqual([])
      }
      const again = await catchUp(bus, store)
      expect(again.records).toBe(0)
    } finally {
      store.close()
    }
  })

  it("given the index is deleted, when it is rebuilt from offset zero, then it answers exactly as before", async () => {
    const path = join(dir, "b.sqlite")
    const answer = async () => {
      const store = AuditStore.open(path)
      try {
        await catchUp(bus, store)
        return {
          counts: store.counts(),
          traces: ids.map((id) =>
            traceMessage(store, id, { now: 0, stuckAfterMs: 1 })?.steps.map((s) => s.source.eventId),
          ),
        }
      } finally {
        store.close()
      }
    }
    const before = await answer()
    rmSync(path)
    expect(await answer()).toEqual(before)
  })

  it("lists messages by status, source and destination", async () => {
    const store = AuditStore.open(join(dir, "c.sqlite"))
    try {
      await catchUp(bus, store)
      const base = { now: Date.now(), stuckAfterMs: 120_000, limit: 0 }
      expect(listMessages(store, { ...base, status: "delivered" }).total).toBe(12)
      expect(listMessages(store, { ...base, status: "stuck" }).total).toBe(0)
      expect(listMessages(store, { ...base, status: "failed" }).total).toBe(0)
      const from901 = sent.filter((m) => m.srcChainId === 901).length
      expect(listMessages(store, { ...base, status: "all", srcChainId: 901 }).total).toBe(from901)
      const to902 = listMessages(store, { ...base, status: "all", dstChainId: 902 })
      expect(to902.rows.every((row) => row.dstChainId === 902)).toBe(true)
      expect(listMessages(store, { ...base, status: "all", limit: 5 })).toMatchObject({ total: 12 })
      expect(listMessages(store, { ...base, status: "all", limit: 5 }).rows).toHaveLength(5)
      // Seen from far in the future, nothing moved for a long time: still delivered, not stuck.
      expect(listMessages(store, { ...base, now: base.now + 86_400_000, status: "stuck" }).total).toBe(0)
    } finally {
      store.close()
    }
  })

  it("answers an id it has never seen with undefined, not an empty timeline", async () => {
    const store = AuditStore.open(join(dir, "d.sqlite"))
    try {
      await catchUp(bus, store)
      expect(
        traceMessage(store, `0x${"ab".repeat(32)}`, { now: Date.now(), stuckAfterMs: 1 }),
      ).toBeUndefined()
    } finally {
      store.close()
    }
  })

  it("the auditor service keeps an index current with tick()", async () => {
    const auditor = await startAuditor({
      bus,
      indexPath: join(dir, "e.sqlite"),
      logger: quietLogger(),
      autoStart: false,
    })
    try {
      expect((await auditor.tick()).records).toBeGreaterThan(0)
      expect((await auditor.tick()).records).toBe(0)
    } finally {
      await auditor.stop()
    }
  })

  describe("through the CLI, on the devnet's data dir", () => {
    const cli = runCli

    it("chorus trace prints the timeline with each step's delay and source record, and exits 0 for a delivered message", async () => {
      const { code, out } = await cli(["trace", ids[0]!, "--data-dir", dir])
      expect(code).toBe(0)
      const text = out.join("\n")
      expect(text).toContain(`message ${ids[0]!.toLowerCase()}`)
      expect(text).toContain("status delivered")
      expect(text).toMatch(/observed on chain 90\d in block \d+/)
      expect(text).toMatch(/delivered on chain 90\d in block \d+, tx 0x[0-9a-f]{64}/)
      expect(text).toMatch(/chorus\.messages\.observed\[\d\]@\d+/)
      expect(text).toMatch(/\+\d+(\.\d)? (ms|s)/)
    })

    it("chorus trace --json gives the same timeline as data", async () => {
      const { code, out } = await cli(["trace", ids[1]!, "--data-dir", dir, "--json"])
      expect(code).toBe(0)
      const parsed = JSON.parse(out.join(""))
      expect(parsed).toMatchObject({
        found: true,
        status: "delivered",
        message: { id: ids[1]!.toLowerCase() },
      })
      expect(parsed.steps.map((s: { stage: string }) => s.stage)).toContain("attested")
    })

    it("chorus trace on an id it never saw says so clearly and exits 1", async () => {
      const unknown = `0x${"cd".repeat(32)}`
      const { code, out, err } = await cli(["trace", unknown, "--data-dir", dir])
      expect(code).toBe(1)
      expect(out).toEqual([])
      expect(err.join("\n")).toMatch(
        /is not in the log: no chain-watcher observed it \(12 message\(s\) indexed\)/,
      )
    })

    it("rejects a malformed id and a bad --status with usage errors (exit 2)", async () => {
      expect((await cli(["trace", "0x1234", "--data-dir", dir])).code).toBe(2)
      const bad = await cli(["messages", "--data-dir", dir, "--status", "lost"])
      expect(bad.code).toBe(2)
      expect(bad.err.join("\n")).toMatch(
        /--status: "lost" is not one of stuck, failed, delivered, in-flight, rejected, quarantined, all/,
      )
    })

    it("chorus messages lists by status with a total, and --json has one object per line", async () => {
      const delivered = await cli(["messages", "--data-dir", dir, "--status", "delivered"])
      expect(delivered.code).toBe(0)
      expect(delivered.out.at(-1)).toBe("12 message(s) match")
      const stuck = await cli(["messages", "--data-dir", dir, "--status", "stuck", "--json"])
      expect(stuck.out.map((line) => JSON.parse(line)).at(-1)).toEqual({ total: 0, shown: 0 })
      const justIds = await cli(["messages", "--data-dir", dir, "--ids", "--limit", "0"])
      expect([...justIds.out].sort()).toEqual(ids.map((id) => id.toLowerCase()).sort())
      const limited = await cli(["messages", "--data-dir", dir, "--limit", "3"])
      expect(limited.out.at(-1)).toBe("12 message(s) match; showing the oldest 3 (--limit 0 shows all)")
    })
  })
})
