import type { ChildProcess } from "node:child_process"
import { ChorusError } from "../../errors/index.ts"
import { resolveAnvilBinary } from "./resolveAnvilBinary.ts"
import { spawnTiedToParent } from "./spawnTiedToParent.ts"

export type StartAnvilOptions = {
  /** Chain id of the new chain. Default 31337. */
  chainId?: number
  /** Mine a block every `blockTime` seconds instead of one per transaction. */
  blockTime?: number
  /** `--slots-in-an-epoch`: 1 makes `finalized` trail `latest` by two blocks. */
  slotsInAnEpoch?: number
  /** Host to bind. Default 127.0.0.1. */
  host?: string
  /** Port to bind; default 0, which lets the OS pick a free one (no probe-then-bind race). */
  port?: number
  /** Extra command-line arguments passed to anvil as is. */
  args?: readonly string[]
  /** How long to wait for the RPC to answer. Default 20 s. */
  timeoutMs?: number
}

export type Anvil = {
  readonly rpcUrl: string
  readonly chainId: number
  readonly port: number
  readonly pid: number
  /** Kills anvil and waits for it to exit. Safe to call more than once. */
  stop(): Promise<void>
}

/** Thrown when anvil exits or does not answer before the timeout. */
export class AnvilStartError extends ChorusError {
  override readonly name = "AnvilStartError"
  declare readonly details: { args: string[]; output: string }
  constructor(reason: string, details: { args: string[]; output: string }) {
    super(`anvil did not start: ${reason}`, {
      details,
      hint: "Check anvil's output in error.details.output; is the binary runnable?",
    })
  }
}

const running = new Set<ChildProcess>()
let hooksInstalled = false

function killAll(): void {
  for (const child of running) child.kill("SIGKILL")
  running.clear()
}

// Reap children on every way the process can end that runs code, so no anvil outlives its test run or devnet;
// kill -9 runs no code, and there the watcher of spawnTiedToParent kills anvil.
function installHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on("exit", killAll)
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const handler = () => {
      killAll()
      process.off(signal, handler)
      // Other listeners keep their say; otherwise die of the signal as we would have without this hook.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    }
    process.on(signal, handler)
  }
}

async function rpcReady(url: string, chainId: number): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1_000),
    })
    const json = (await res.json()) as { result?: string }
    return json.result !== undefined && Number(json.result) === chainId
  } catch {
    return false
  }
}

/**
 * Starts anvil by spawning its binary (not through npx), on a free port, and resolves once its RPC answers
 * `eth_chainId` (polling, never a fixed sleep). The process is killed by `stop()`, on process exit or
 * SIGINT/SIGTERM/SIGHUP, and when this process is killed with SIGKILL (see spawnTiedToParent.ts): no anvil
 * outlives the process that started it.
 *
 * @example
 * const anvil = await startAnvil({ chainId: 901, slotsInAnEpoch: 1 })
 * const client = createPublicClient({ transport: http(anvil.rpcUrl) })
 * await anvil.stop()
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? 31337
  const host = options.host ?? "127.0.0.1"
  const timeoutMs = options.timeoutMs ?? 20_000
  const args = ["--host", host, "--port", String(options.port ?? 0), "--chain-id", String(chainId)]
  if (options.blockTime !== undefined) args.push("--block-time", String(options.blockTime))
  if (options.slotsInAnEpoch !== undefined) args.push("--slots-in-an-epoch", String(options.slotsInAnEpoch))
  args.push(...(options.args ?? []))

  installHooks()
  const child = spawnTiedToParent(resolveAnvilBinary(), args)
  running.add(child)
  let output = ""
  let port: number | undefined
  let exited = false
  const exitedPromise = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true
      running.delete(child)
      resolve()
    })
  })
  // Keep draining both pipes for the whole life of the process: anvil logs every request, and a full pipe
  // would block it. Only a bounded tail is kept for error reports.
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-8_192)
    if (port === undefined) {
      const match = /Listening on [^\s:]+:(\d+)/.exec(output)
      if (match) port = Number(match[1])
    }
  }
  child.stdout.on("data", onData)
  child.stderr.on("data", onData)
  child.once("error", (error) => {
    output += `\nspawn error: ${error.message}`
  })

  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), 2_000)
      await exitedPromise
      clearTimeout(timer)
    }
  }

  const deadline = Date.now() + timeoutMs
  let delay = 10
  while (true) {
    if (exited) throw new AnvilStartError("it exited", { args, output })
    if (port !== undefined && (await rpcReady(`http://${host}:${port}`, chainId))) break
    if (Date.now() > deadline) {
      await stop()
      throw new AnvilStartError(`no RPC answer within ${timeoutMs} ms`, { args, output })
    }
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 200)
  }
  return { rpcUrl: `http://${host}:${port}`, chainId, port: port!, pid: child.pid!, stop }
}
