/**
 * A cluster of `chorus run` processes on this machine, as `chorus cluster up`
 * left it: one state file (`<state-dir>/cluster.json`) naming each process,
 * its pid, its metrics address and its log, which `chorus cluster down`
 * reads to stop them.
 *
 * @module
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { UsageError } from "../command.ts"

export interface ClusterProcess {
  /** The plan's unit name, e.g. `submitter-902`. */
  readonly name: string
  readonly pid: number
  /** `host:port` of its `/metrics`, `/healthz` and `/readyz`. */
  readonly metrics: string
  readonly log: string
  /** The `chorus` arguments it was started with. */
  readonly args: ReadonlyArray<string>
}

export interface ClusterState {
  readonly config: string
  readonly startedAt: string
  readonly processes: ReadonlyArray<ClusterProcess>
}

export const stateFileOf = (stateDir: string) => join(stateDir, "cluster.json")

/**
 * Whether `pid` is alive and still a `chorus` process: a pid the system gave to something else since (after a
 * crash or a reboot) is not ours, and is never signalled. Pids 0 and 1, and negatives, are never ours.
 */
export const alive = (pid: number): boolean => {
  if (!Number.isSafeInteger(pid) || pid <= 1) return false
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("bin/chorus.js")
  } catch {
    // No /proc (not Linux): the pid answering is all there is to go on.
    return true
  }
}

/**
 * The cluster a state directory holds, or undefined when none was started there.
 *
 * @example
 * ```ts
 * readClusterState(".chorus-cluster")?.processes.map((p) => p.name)
 * ```
 */
export const readClusterState = (stateDir: string): ClusterState | undefined => {
  const file = stateFileOf(stateDir)
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ClusterState
  } catch (error) {
    throw new UsageError(
      `${file}: not a cluster state file (${(error as Error).message}); remove it if no cluster runs`,
    )
  }
}

export const writeClusterState = (stateDir: string, state: ClusterState): void => {
  writeFileSync(stateFileOf(stateDir), `${JSON.stringify(state, null, 2)}\n`)
}

export const removeClusterState = (stateDir: string): void => {
  rmSync(stateFileOf(stateDir), { force: true })
}
