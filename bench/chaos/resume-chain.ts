/**
 * What the on-call engineer does after a rewrite below finality, done by
 * the chaos run as they would: wait for the chain's watcher to halt, pick a
 * block below the rewrite, and lift the halt with `chorus chain resume`
 * (a separate process, signed as the tool, recorded on the log with who
 * ran it). The chain's watcher then reads the new history from that block,
 * and every message of the chain must still settle.
 *
 * @module
 */
import { execFile } from "node:child_process"
import type { BusPort } from "../../bus/port.ts"
import { rpc } from "../../cli/devnet/world.ts"
import type { ChorusConfig } from "../../services/config/index.ts"
import { lastHalt } from "./log-facts.ts"
import { BIN } from "./traces.ts"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface ResumeDeps {
  readonly config: ChorusConfig
  /** Runs `work` on the run's bus (the harness's own way onto it). */
  readonly useBus: <T>(work: (bus: BusPort) => Promise<T>) => Promise<T>
  /** The chain's RPC (the anvil itself, not a faulty proxy: the engineer checks the block on a node they trust). */
  readonly rpcUrl: string
  /** The `chorus` flags that reach the run's log with the tools' config (`--brokers …`/`--data-dir …`, `--config …`). */
  readonly toolFlags: ReadonlyArray<string>
}

/**
 * Waits up to `waitMs` for the chain's watcher to halt after `rewrite` replaced blocks `from`.., then
 * resumes it from block `from - 1`; resolves with what it did, rejects with why it could not.
 *
 * @example
 * ```ts
 * await resumeAfterRewrite(deps, 901, { from: 52, to: 93 }, 180_000) // "halted at block 90 after 4 s; resumed from block 51 (0xab…)"
 * ```
 */
export const resumeAfterRewrite = async (
  deps: ResumeDeps,
  chainId: number,
  rewrite: { readonly from: number; readonly to: number },
  waitMs: number,
): Promise<string> => {
  const began = Date.now()
  let halt: Awaited<ReturnType<typeof lastHalt>>
  for (;;) {
    halt = await deps.useBus((bus) => lastHalt(bus, deps.config, chainId)).catch(() => undefined)
    if (halt !== undefined) break
    if (Date.now() - began > waitMs)
      throw new Error(
        `chain ${chainId}'s watcher did not halt within ${waitMs / 1000} s of the rewrite of blocks ${rewrite.from}-${rewrite.to}`,
      )
    await sleep(1_000)
  }
  const trusted = rewrite.from - 1
  const block = (await rpc(deps.rpcUrl, "eth_getBlockByNumber", [`0x${trusted.toString(16)}`, false])) as {
    hash: string
  } | null
  if (block === null) throw new Error(`chain ${chainId} has no block ${trusted} to resume from`)
  const args = [
    BIN,
    "chain",
    "resume",
    String(chainId),
    "--from",
    String(trusted),
    "--hash",
    block.hash,
    "--reason",
    `chaos: blocks ${rewrite.from}-${rewrite.to} were rewritten; block ${trusted} is below the rewrite`,
    ...deps.toolFlags,
  ]
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 120_000 }, (error, stdout, stderr) => {
      const text = `${stdout}${stderr}`.trim()
      if (error !== null)
        reject(new Error(`chorus chain resume failed (${error.code ?? error.message}): ${text}`))
      else resolve(text)
    })
  })
  return `halted at block ${halt.blockNumber} after ${Math.round((Date.now() - began) / 1000)} s; chorus chain resume ${chainId} --from ${trusted} --hash ${block.hash.slice(0, 10)}…: ${output.split("\n")[0]}`
}
