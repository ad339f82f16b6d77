import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { createPublicClient, http } from "viem"
import { describe, expect, it } from "vitest"
import { startAnvil } from "./startAnvil.ts"
import { eventually, portFree, running } from "./test/processes.ts"

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

/** A child Node process (a stand-in for `chorus devnet`) that starts one anvil and idles. */
async function parentWithAnvil(): Promise<{ child: ChildProcess; pid: number; port: number }> {
  const entry = fileURLToPath(new URL("./index.ts", import.meta.url))
  const script = `import { startAnvil } from ${JSON.stringify(entry)}
const anvil = await startAnvil()
console.log(anvil.pid, anvil.port)
setInterval(() => {}, 1000)`
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  })
  const [pid, port] = await new Promise<number[]>((resolve, reject) => {
    child.stdout!.once("data", (chunk: Buffer) => resolve(chunk.toString().trim().split(" ").map(Number)))
    child.once("exit", (code) => reject(new Error(`child exited early with ${code}`)))
  })
  expect(running(pid!)).toBe(true)
  return { child, pid: pid!, port: port! }
}

describe("startAnvil reaping", () => {
  it("kills anvil when its parent process receives SIGTERM", async () => {
    const { child, pid } = await parentWithAnvil()
    try {
      const exited = new Promise((resolve) => child.once("exit", resolve))
      child.kill("SIGTERM")
      await exited
      // Poll: the SIGKILL is sent synchronously, but the kernel may take a moment to reap.
      expect(await eventually(() => !running(pid), 5_000), `anvil ${pid} survived its parent`).toBe(true)
    } finally {
      if (running(pid)) process.kill(pid, "SIGKILL")
    }
  }, 30_000)

  it("kills anvil and frees its port when its parent is killed with SIGKILL (no hook runs)", async () => {
    const { child, pid, port } = await parentWithAnvil()
    try {
      const exited = new Promise((resolve) => child.once("exit", resolve))
      child.kill("SIGKILL")
      await exited
      expect(await eventually(() => !running(pid), 5_000), `anvil ${pid} survived its parent's SIGKILL`).toBe(
        true,
      )
      expect(await eventually(() => portFree(port), 2_000), `port ${port} still taken`).toBe(true)
    } finally {
      // On failure, do not leave the orphan behind for the rest of the run.
      if (running(pid)) process.kill(pid, "SIGKILL")
    }
  }, 30_000)
})
