/**
 * Who runs a command that writes to the log (`chorus retry`, `chorus chain
 * resume`), as the record names them: `user@host`, or the pid where the
 * user cannot be read (a container without a passwd entry).
 *
 * @module
 */
import { hostname, userInfo } from "node:os"

/**
 * The person running this process, as the log records them.
 *
 * @example
 * ```ts
 * whoAmI() // "alice@ops-1"
 * ```
 */
export const whoAmI = (): string => {
  try {
    return `${userInfo().username}@${hostname()}`
  } catch {
    return `pid ${process.pid}@${hostname()}`
  }
}
