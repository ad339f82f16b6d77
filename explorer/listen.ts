import { isIP } from "node:net"

/**
 * Whether a host is this machine's loopback: `localhost`, 127.0.0.0/8 or `::1`. The explorer binds there unless
 * told otherwise, since it serves every message of the log to whoever reaches it.
 *
 * @example
 * ```ts
 * isLoopbackHost("127.0.0.1") // true
 * isLoopbackHost("0.0.0.0")   // false
 * ```
 */
export const isLoopbackHost = (host: string): boolean =>
  host === "localhost" ||
  host === "::1" ||
  (isIP(host) === 4 && host.startsWith("127.")) ||
  /^::ffff:127\./i.test(host)
