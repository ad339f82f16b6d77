import { createPublicClient, http } from "viem"
import { describe, expect, it } from "vitest"
import { startAnvil } from "./startAnvil.ts"

describe("startAnvil", () => {
  it("starts on a free port with the chain id, and stop() reaps the process", async () => {
    const anvil = await startAnvil({ chainId: 4242, slotsInAnEpoch: 1 })
    const client = createPublicClient({ transport: http(anvil.rpcUrl) })
    expect(await client.getChainId()).toBe(4242)
    await anvil.stop()
    expect(() => process.kill(anvil.pid, 0)).toThrow()
    await anvil.stop()
  })

  it("runs two chains side by side", async () => {
    const [a, b] = await Promise.all([startAnvil({ chainId: 1001 }), startAnvil({ chainId: 1002 })])
    expect(a.port).not.toBe(b.port)
    await Promise.all([a.stop(), b.stop()])
  })
})
