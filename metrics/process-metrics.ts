/**
 * The metrics of this process, where code far from the process's wiring
 * reports to them: the RPC transport, a chain writer, the event publisher,
 * the dead-letter path. A process that serves no metrics installs none, and
 * every report is then a no-op that costs one check.
 *
 * One per process, as Prometheus scrapes a process: `chorus run` and
 * `chorus devnet --metrics` install theirs before any service starts.
 *
 * @module
 */
import type { ChorusMetrics } from "./chorus-metrics.ts"

let installed: ChorusMetrics | undefined

/** The metrics this process serves, or undefined when it serves none. */
export const processMetrics = (): ChorusMetrics | undefined => installed

/**
 * Makes `metrics` this process's; returns the undo (which leaves a later install alone).
 *
 * @example
 * ```ts
 * const uninstall = installProcessMetrics(new ChorusMetrics())
 * ```
 */
export const installProcessMetrics = (metrics: ChorusMetrics): (() => void) => {
  installed = metrics
  return () => {
    if (installed === metrics) installed = undefined
  }
}
