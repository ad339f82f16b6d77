/**
 * What every started service hands back: a name to report, a graceful stop,
 * and a promise that settles when it ends by itself (a chain-watcher that
 * halted rejects it).
 *
 * @module
 */

export interface RunningService {
  /** `service/instance`, e.g. `chain-watcher/901`. */
  readonly name: string
  /** Finishes the work in flight, commits, and leaves. Idempotent. */
  stop(): Promise<void>
  /** Settles when the service ends on its own: resolves after `stop()`, rejects on a fatal error. */
  readonly done: Promise<void>
}
