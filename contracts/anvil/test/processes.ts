import { readdirSync, readFileSync } from "node:fs"
import { createServer } from "node:net"

/**
 * True while `pid` runs. A zombie (dead, waiting for whoever adopted it to reap it) counts as gone: after its
 * parent's death a killed process is reparented, and init may take a moment to reap it.
 *
 * @example
 * expect(running(process.pid)).toBe(true)
 */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces, so read the state after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"
  } catch {
    return true // no procfs (macOS): kill(pid, 0) is all there is
  }
}

/**
 * The pids of the live processes whose command line contains `marker` (Linux: reads /proc).
 *
 * @example
 * processesWith("chorus-parent-watch") // => [12345, 12350]
 */
export function processesWith(marker: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker) && running(Number(entry)))
        pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

/**
 * True if nothing listens on 127.0.0.1:`port` any more (it can be bound).
 *
 * @example
 * await portFree(8545) // => true once anvil is gone
 */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })
}

/**
 * Polls `check` every 50 ms until it holds or `ms` pass; returns whether it held.
 *
 * @example
 * expect(await eventually(() => !running(pid), 5_000)).toBe(true)
 */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return check()
}
