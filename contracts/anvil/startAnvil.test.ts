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

describe("startAnvil reaping", () => {
  it("kills anvil when its parent process receives SIGTERM", async () => {
    const { spawn } = await import("node:child_process")
    const { fileURLToPath } = await import("node:url")
    const entry = fileURLToPath(new URL("./index.ts", import.meta.url))
    const script = `import { startAnvil } from ${JSON.stringify(entry)}
const anvil = await startAnvil()
console.log(anvil.pid)
setInterval(() => {}, 1000)`
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    })
    const pid = await new Promise<number>((resolve, reject) => {
      child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())))
      child.once("exit", (code) => reject(new Error(`child exited early with ${code}`)))
    })
    expect(() => process.kill(pid, 0)).not.toThrow()
    const exited = new Promise((resolve) => child.once("exit", resolve))
    child.kill("SIGTERM")
    await exited
    // Poll: the SIGKILL is sent synchronously, but the kernel may take a moment to reap.
    const deadline = Date.now() + 5_000
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0)
      } catch {
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`anvil ${pid} survived its parent`)
  }, 30_000)
})
