/**
 * One bus per data directory: `<dataDir>/LOCK` holds the owner's pid.
 *
 * Invariant: two live buses never append to the same segment files. A lock
 * left by a dead process (after `kill -9`) is taken over; a lock held by a
 * live process, or by an open bus in this process, is a
 * {@link DataDirLockedError}. Other processes reach a live owner's bus
 * through its socket instead (`shared.ts`), never through the files.
 *
 * @module
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { join } from "node:path"
import { DataDirLockedError } from "./errors.ts"

const heldHere = new Set<string>()

/** A held lock; `release` removes it. */
export interface DataDirLock {
  release(): void
}

/**
 * Takes the data directory's lock or throws {@link DataDirLockedError}.
 *
 * @example
 * ```ts
 * const lock = lockDataDir("/data")
 * try { … } finally { lock.release() }
 * ```
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = join(dataDir, "LOCK")
  if (heldHere.has(file)) throw new DataDirLockedError(dataDir, process.pid)
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, "wx")
      try {
        writeSync(fd, `${process.pid}\n`)
      } finally {
        closeSync(fd)
      }
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error
      const holder = Number.parseInt(readFileSync(file, "utf8"), 10)
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new DataDirLockedError(dataDir, holder)
      }
      // The holder is gone (killed, or an earlier bus of this process that crashed): take over.
      rmSync(file, { force: true })
    }
  }
  heldHere.add(file)
  let released = false
  return {
    release() {
      if (released) return
      released = true
      heldHere.delete(file)
      rmSync(file, { force: true })
    },
  }
}

/**
 * Whether a process with this pid exists (signal 0 checks without sending).
 *
 * @example
 * ```ts
 * isAlive(process.pid) // => true
 * ```
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to another user, so it is alive.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}
