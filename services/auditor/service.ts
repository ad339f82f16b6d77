import type { BusPort } from "../../bus/port.ts"
import type { RunningService, ServiceLogger } from "../runtime/index.ts"
import { type CatchUpResult, catchUp } from "./catch-up.ts"
import { AuditStore } from "./index-store.ts"

export interface AuditorOptions {
  readonly bus: BusPort
  /** The index file (see `auditIndexPath`). */
  readonly indexPath: string
  readonly logger: ServiceLogger
  /** Pause between rounds when the last one found nothing new. Default 1000 ms. */
  readonly intervalMs?: number
  /** false: no loop; the caller drives `tick()` (tests). Default true. */
  readonly autoStart?: boolean
}

export interface Auditor extends RunningService {
  /** One catch-up round. */
  tick(): Promise<CatchUpResult>
}

/**
 * Keeps the audit index current: a loop of catch-up rounds, so `chorus
 * trace` and `chorus messages` answer from an index that is already there.
 * It writes nothing to the bus; its only state is the index file, which can
 * be deleted and rebuilt from offset zero.
 *
 * @example
 * ```ts
 * const auditor = await startAuditor({ bus, indexPath: "/tmp/devnet/audit/index.sqlite", logger })
 * await auditor.stop()
 * ```
 */
export const startAuditor = async (options: AuditorOptions): Promise<Auditor> => {
  const store = AuditStore.open(options.indexPath)
  const interval = options.intervalMs ?? 1000
  let stopped = false
  let running: Promise<CatchUpResult> | undefined
  const tick = (): Promise<CatchUpResult> => {
    running ??= catchUp(options.bus, store).finally(() => {
      running = undefined
    })
    return running
  }
  let wake: (() => void) | undefined
  const loop = async () => {
    while (!stopped) {
      try {
        const result = await tick()
        if (result.rebuilt)
          options.logger.warn("audit index belonged to another log; rebuilt from offset zero", {})
        if (result.unreadable > 0)
          options.logger.warn("records that are not Chorus events were found", {
            unreadable: result.unreadable,
          })
        if (result.records > 0) continue
      } catch (error) {
        if (stopped) break
        options.logger.error("audit round failed; retrying", { error })
      }
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, interval)
      })
    }
  }
  const done = options.autoStart === false ? Promise.resolve() : loop()
  options.logger.info("auditor started", { index: options.indexPath })
  let stopping: Promise<void> | undefined
  return {
    name: "auditor",
    tick,
    done: done.then(() => undefined),
    stop: () => {
      stopping ??= (async () => {
        stopped = true
        wake?.()
        await done
        await running?.catch(() => undefined)
        store.close()
      })()
      return stopping
    },
  }
}
