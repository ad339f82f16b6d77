import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { spawnTiedToParent, WATCHER_NAME } from "./spawnTiedToParent.ts"
import { eventually, processesWith, running } from "./test/processes.ts"

const IDLE = "setInterval(() => {}, 1000)"
const exitOf = (child: {
  once(event: "exit", cb: (code: number | null, signal: string | null) => void): unknown
}) =>
  new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  )

// The watcher is found through /proc, so these run where Chorus's chains do: Linux.
describe.skipIf(!existsSync("/proc/self/cmdline"))("spawnTiedToParent", () => {
  it("runs the command under the child's pid, and its watcher stands down when it exits", async () => {
    const marker = randomUUID()
    const child = spawnTiedToParent(process.execPath, ["-e", `${IDLE}; console.log("up")`, marker])
    await new Promise((resolve) => child.stdout.once("data", resolve))
    // The shell exec'd the command: the pid Node holds is the command's own, so signals reach it directly.
    expect(readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0")[0]).toBe(process.execPath)
    const watchers = processesWith(marker).filter((pid) => pid !== child.pid)
    expect(watchers).toHaveLength(1)
    expect(readFileSync(`/proc/${watchers[0]}/cmdline`, "utf8")).toContain(WATCHER_NAME)

    const exited = exitOf(child)
    child.kill("SIGTERM")
    expect(await exited).toEqual({ code: null, signal: "SIGTERM" })
    expect(await eventually(() => processesWith(marker).length === 0, 3_000)).toBe(true)
  })

  it("reports a command that cannot run as exit 127, and leaves no watcher", async () => {
    const marker = `/nonexistent/${randomUUID()}`
    const child = spawnTiedToParent(marker, [])
    let output = ""
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    expect((await exitOf(child)).code).toBe(127)
    expect(output).toContain(marker)
    expect(await eventually(() => processesWith(marker).length === 0, 3_000)).toBe(true)
  })

  it("kills the command when its parent is killed with SIGKILL", async () => {
    const marker = randomUUID()
    const entry = fileURLToPath(new URL("./spawnTiedToParent.ts", import.meta.url))
    const script = `import { spawnTiedToParent } from ${JSON.stringify(entry)}
const child = spawnTiedToParent(process.execPath, ["-e", ${JSON.stringify(IDLE)}, ${JSON.stringify(marker)}])
console.log(child.pid)
${IDLE}`
    const parent = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    })
    const pid = await new Promise<number>((resolve) =>
      parent.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
    )
    try {
      expect(running(pid)).toBe(true)
      const exited = exitOf(parent)
      parent.kill("SIGKILL")
      await exited
      expect(await eventually(() => !running(pid), 3_000), `command ${pid} survived its parent`).toBe(true)
      expect(await eventually(() => processesWith(marker).length === 0, 3_000)).toBe(true)
    } finally {
      for (const left of processesWith(marker)) process.kill(left, "SIGKILL")
    }
  })
})
