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

/** A word as a POSIX shell reads it back unchanged: bare when it is plain, else single-quoted. */
const shellWord = (word: string): string =>
  /^[A-Za-z0-9_./:,=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`

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
  options: { readonly stuckAfterMs?: number; readonly public?: boolean } = {},
): Promise<RunningExplorer> => {
  const { stuckAfterMs } = options
  const audit = await openAudit(values, warn)
  const bus = readOnlyBus(audit.bus)
  let freshness: Freshness = { caughtUpAt: Date.now(), records: audit.caughtUp.records, error: null }
  let stopped = false
  let round: Promise<void> | undefined
  const timer = setInterval(() => {
    // One catch-up at a time: a slow or hung one (a broker gone) is not stacked on every second.
    if (stopped || round !== undefined) return
    round = (async () => {
      try {
        const result = await catchUp(bus, audit.store)
        freshness = { caughtUpAt: Date.now(), records: freshness.records + result.records, error: null }
      } catch (error) {
        freshness = { ...freshness, error: error instanceof Error ? error.message : String(error) }
      } finally {
        round = undefined
      }
    })()
  }, REFRESH_MS)
  const busFlags = [
    ...(typeof values["data-dir"] === "string" ? ["--data-dir", values["data-dir"]] : []),
    ...(typeof values.brokers === "string" ? ["--brokers", values.brokers] : []),
    ...(typeof values.config === "string" ? ["--config", values.config] : []),
  ]
    .map(shellWord)
    .join(" ")
  let server: ExplorerServer
  try {
    server = await serveExplorer({
      listen,
      ...(options.public === true ? { public: true } : {}),
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
      // A catch-up in flight gets a few seconds to end; a hung one (a broker gone) does not hold Ctrl-C.
      await Promise.race([round, new Promise((resolve) => setTimeout(resolve, 5_000).unref())])
      await server.close()
      await audit.close()
    },
  }
}
