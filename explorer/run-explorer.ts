/**
 * A running explorer: the audit index opened from the bus, caught up with the log every second while it
 * serves, and the server over it. What `chorus explorer` runs, and what its tests start.
 *
 * @module
 */
import type { CommandInput } from "../cli/command.ts"
import { openAudit } from "../cli/open-audit.ts"
import type { ListenAddress } from "../metrics/server.ts"
import { catchUp } from "../services/auditor/index.ts"
import type { Freshness } from "./api.ts"
import { isLoopbackHost } from "./listen.ts"
import { type ExplorerServer, readOnlyBus, serveExplorer } from "./server.ts"

export interface RunningExplorer extends ExplorerServer {
  /** The page's URL. */
  readonly url: string
}

/** How often the index catches up with the log while the explorer serves. */
const REFRESH_MS = 1_000

/**
 * Opens the index the flags name and serves it on `listen`; `close` stops serving and closes the index and bus.
 *
 * @example
 * ```ts
 * const explorer = await runExplorer({ "data-dir": ".devnet" }, { host: "127.0.0.1", port: 8080 }, console.error)
 * ```
 */
export const runExplorer = async (
  values: CommandInput["values"],
  listen: ListenAddress,
  warn: (line: string) => void,
  stuckAfterMs?: number,
): Promise<RunningExplorer> => {
  const audit = await openAudit(values, warn)
  const bus = readOnlyBus(audit.bus)
  let freshness: Freshness = { caughtUpAt: Date.now(), records: audit.caughtUp.records, error: null }
  let stopped = false
  let round: Promise<void> = Promise.resolve()
  const timer = setInterval(() => {
    round = round.then(async () => {
      if (stopped) return
      try {
        const result = await catchUp(bus, audit.store)
        freshness = { caughtUpAt: Date.now(), records: freshness.records + result.records, error: null }
      } catch (error) {
        freshness = { ...freshness, error: error instanceof Error ? error.message : String(error) }
      }
    })
  }, REFRESH_MS)
  const busFlags =
    typeof values["data-dir"] === "string"
      ? `--data-dir ${values["data-dir"]}`
      : `--brokers ${String(values.brokers)}${typeof values.config === "string" ? ` --config ${values.config}` : ""}`
  let server: ExplorerServer
  try {
    server = await serveExplorer({
      listen,
      context: {
        store: audit.store,
        bus,
        freshness: () => freshness,
        now: () => Date.now(),
        busFlags,
        ...(stuckAfterMs === undefined ? {} : { stuckAfterMs }),
      },
    })
  } catch (error) {
    clearInterval(timer)
    await audit.close()
    throw error
  }
  if (!isLoopbackHost(listen.host))
    warn(
      `warning: the explorer listens on ${server.address}, beyond this machine: anyone who reaches it reads every message of the log`,
    )
  return {
    address: server.address,
    url: `http://${server.address}/`,
    close: async () => {
      stopped = true
      clearInterval(timer)
      await round
      await server.close()
      await audit.close()
    },
  }
}
