/**
 * The CLI as `npm start` and `npm run chorus --` launch it: Ctrl-C reaches
 * the whole process group (npm, its shell, chorus), and the exit status must
 * still be chorus's own, as `--help` states it, not the shell's death by
 * SIGINT that npm reports as 130.
 */
import { spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { useTempDirs } from "../test/fixtures/temp-dirs.ts"

const ROOT = join(import.meta.dirname, "..")
const freshDir = useTempDirs("chorus-npm-")
const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}`

describe("npm run chorus", () => {
  it("given a service that stops cleanly on Ctrl-C, then npm exits with chorus's 0, not 130", async () => {
    const dir = await freshDir()
    const config = join(dir, "config.json")
    writeFileSync(
      config,
      JSON.stringify({
        network: { registryChainId: 901, registry: address(1) },
        chains: [{ chainId: 901, rpcUrls: ["http://127.0.0.1:9"], outbox: address(2), inbox: address(3) }],
      }),
    )
    const child = spawn(
      "npm",
      ["run", "-s", "chorus", "--", "run", "auditor", "--config", config, "--data-dir", join(dir, "log")],
      { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    )
    let out = ""
    child.stdout.on("data", (chunk) => {
      out += chunk
    })
    child.stderr.on("data", (chunk) => {
      out += chunk
    })
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    const deadline = Date.now() + 60_000
    while (!out.includes("running auditor") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    expect(out).toContain("running auditor")
    // As a terminal's Ctrl-C does: SIGINT to every process of the group.
    process.kill(-child.pid!, "SIGINT")
    expect(await exited, out).toBe(0)
  }, 90_000)
})
