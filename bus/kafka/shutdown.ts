/**
 * Graceful shutdown of a process that runs on the bus.
 *
 * Invariants:
 * - On the first SIGTERM or SIGINT, the bus is closed: every subscription
 *   lets its in-flight record finish, commits it and leaves its group; only
 *   then does the process exit, with 0.
 * - Shutdown is bounded: if closing takes longer than `timeoutMs`, or
 *   fails, the process exits with 1 (uncommitted records are redelivered to
 *   the next member — at-least-once still holds).
 * - A second signal while shutting down exits at once (130), for the
 *   operator who really means it.
 *
 * @module
 */
import type { BusPort } from "../port.ts"

export interface ShutdownOptions {
  /** Default `["SIGTERM", "SIGINT"]`. */
  readonly signals?: ReadonlyArray<NodeJS.Signals>
  /** Bound on `bus.close()`. Default 30000. */
  readonly timeoutMs?: number
  /** Told when shutdown starts and ends (for logs). */
  readonly onEvent?: (event: "closing" | "closed" | "timeout" | "failed", detail?: unknown) => void
  /** Runs after the bus closed, before exit (e.g. flush logs). */
  readonly beforeExit?: () => Promise<void> | void
  /** Default `process.exit`; replaced in tests. */
  readonly exit?: (code: number) => void
}

/**
 * Installs the signal handlers; returns a function that removes them.
 *
 * @example
 * ```ts
 * const bus = await openKafkaBus({ brokers })
 * installShutdownHandlers(bus)
 * await bus.subscribe({ groupId: "submitter", topics: ["chorus.checkpoints.attested"], handler })
 * // `kill -TERM <pid>`: the record in flight finishes, its offset is committed, exit 0
 * ```
 */
export const installShutdownHandlers = (
  bus: Pick<BusPort, "close">,
  options: ShutdownOptions = {},
): (() => void) => {
  const signals = options.signals ?? ["SIGTERM", "SIGINT"]
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const timeoutMs = options.timeoutMs ?? 30_000
  let shuttingDown = false

  const shutdown = async (): Promise<number> => {
    options.onEvent?.("closing")
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const outcome = await Promise.race([
        bus.close().then(() => "closed" as const),
        new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), timeoutMs)
        }),
      ])
      options.onEvent?.(outcome)
      if (outcome === "timeout") return 1
      await options.beforeExit?.()
      return 0
    } catch (error) {
      options.onEvent?.("failed", error)
      return 1
    } finally {
      clearTimeout(timer)
    }
  }

  const onSignal = (): void => {
    if (shuttingDown) {
      exit(130)
      return
    }
    shuttingDown = true
    void shutdown().then(exit)
  }

  for (const signal of signals) process.on(signal, onSignal)
  return () => {
    for (const signal of signals) process.off(signal, onSignal)
  }
}
