/**
 * The metrics of a running relay, scraped over HTTP as Prometheus would:
 * a devnet with `--metrics` carries traffic, some of it to recipients that
 * revert, and what `/metrics` counts must match what the chains hold: every
 * message a PingRecipient received is in `chorus_messages_delivered_total`,
 * every gated one in `chorus_messages_failed_total`, and the submitters'
 * balances fell by what they paid.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { receivedPayloads } from "../../cli/devnet/recipients.ts"
import { quietLogger } from "../../services/runtime/index.ts"
import { untilSettled } from "./exactly-once.ts"

const MESSAGES = 12

/** Every series of `name` in an exposition, as `labels → value`. */
const series = (body: string, name: string): Map<string, number> => {
  const found = new Map<string, number>()
  for (const line of body.split("\n")) {
    const match = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line)
    if (match !== null) found.set(match[1] ?? "", Number(match[2]))
  }
  return found
}

const sum = (values: Map<string, number>) => [...values.values()].reduce((a, b) => a + b, 0)

describe("metrics of a running devnet", () => {
  const dir = mkdtempSync(join(tmpdir(), "chorus-metrics-"))
  let devnet: Devnet
  beforeAll(async () => {
    devnet = await startDevnet({
      bus: { kind: "embedded", dataDir: dir },
      logger: quietLogger(),
      metrics: { host: "127.0.0.1", port: 0 },
    })
  }, 180_000)
  afterAll(async () => {
    await devnet?.stop()
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  const scrape = async (path = "/metrics") => {
    const response = await fetch(`http://${devnet.metricsAddress}${path}`)
    return { status: response.status, body: await response.text() }
  }

  it("counts what the chains hold: deliveries, recipient failures, gas and fees, and the balance that paid them", async () => {
    const before = (await scrape()).body
    expect(sum(series(before, "chorus_messages_delivered_total"))).toBe(0)
    const balancesBefore = series(before, "chorus_submitter_balance_wei")
    expect(balancesBefore.size).toBe(3)

    const sent = await devnet.send({ messages: MESSAGES, rate: 6, reverting: 25 })
    await untilSettled(devnet, sent.length, 120_000)
    const after = (await scrape()).body

    // Ground truth: what the PingRecipients hold on chain.
    const received = await receivedPayloads(devnet.world)
    const gated = sent.filter((m) => m.gated).length
    expect(gated).toBe(3)
    expect(received).toHaveLength(MESSAGES - gated)
    const delivered = series(after, "chorus_messages_delivered_total")
    expect(sum(delivered)).toBe(received.length)
    for (const m of received)
      expect(delivered.get(`{lane="${m.srcChainId}-${m.dstChainId}"}`)).toBeGreaterThan(0)
    expect(sum(series(after, "chorus_messages_failed_total"))).toBe(gated)
    expect(sum(series(after, "chorus_messages_observed_total"))).toBe(MESSAGES)
    expect(sum(series(after, "chorus_messages_proven_total"))).toBe(MESSAGES)
    expect(sum(series(after, "chorus_checkpoints_committed_total"))).toBeGreaterThan(0)
    expect(series(after, "chorus_signatures_total").size).toBeGreaterThan(0)
    expect(sum(series(after, "chorus_pending_messages"))).toBe(0)

    const succeeded = [...series(after, "chorus_submitter_transactions_total").entries()]
      .filter(([labels]) => labels.includes('outcome="succeeded"'))
      .reduce((a, [, v]) => a + v, 0)
    expect(succeeded).toBeGreaterThan(0)
    const fees = series(after, "chorus_submitter_fees_paid_wei_total")
    const balancesAfter = series(after, "chorus_submitter_balance_wei")
    for (const [labels, was] of balancesBefore) {
      const chain = /chain="(\d+)"/.exec(labels)![1]
      const paid = fees.get(`{chain="${chain}"}`) ?? 0
      // The balance fell by what the submitter paid (floats: the exposition's wei are doubles).
      expect(Math.abs(was - balancesAfter.get(labels)! - paid)).toBeLessThan(was * 1e-12)
    }

    const rpc = series(after, "chorus_rpc_requests_total")
    expect(
      [...rpc.keys()].some(
        (l) => l.includes('method="eth_sendRawTransaction"') && l.includes('outcome="ok"'),
      ),
    ).toBe(true)
    expect(series(after, "chorus_hop_latency_seconds_count").size).toBeGreaterThan(0)
    expect(series(after, "chorus_consumer_lag_records").size).toBeGreaterThan(0)

    const ready = await scrape("/readyz")
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true })
    expect(ready.status).toBe(200)
  }, 240_000)
})
