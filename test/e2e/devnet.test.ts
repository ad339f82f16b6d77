/**
 * The relay end to end on the embedded bus: three chains, every service in
 * this process, traffic in all six directions, and every service restarted
 * once mid-run. Every message must reach its recipient exactly once, with
 * the payload that was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import type { SentMessage } from "../../cli/devnet/traffic.ts"
import { quietLogger } from "../../services/runtime/index.ts"
import { expectDeliveredExactlyOnce } from "./exactly-once.ts"

const MESSAGES = 30
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("devnet on the embedded bus", () => {
  let devnet: Devnet
  beforeAll(async () => {
    devnet = await startDevnet({ bus: { kind: "embedded" }, logger: quietLogger() })
  }, 120_000)
  afterAll(async () => {
    await devnet?.stop()
  })

  it("delivers every message exactly once while each service is restarted in turn", async () => {
    const sending = devnet.send({ messages: MESSAGES, rate: 6 })
    // Restart every unit once, one at a time, while traffic flows.
    for (const unit of devnet.units) {
      await sleep(700)
      await devnet.restart(unit)
    }
    const sent: SentMessage[] = await sending
    expect(sent).toHaveLength(MESSAGES)

    await expectDeliveredExactlyOnce(devnet, sent, { timeoutMs: 180_000 })
  }, 300_000)
})
