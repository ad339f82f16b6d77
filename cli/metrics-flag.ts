/**
 * `--metrics <host:port>`, as every command that serves a process's metrics
 * takes it (`chorus run`, `chorus devnet`): parsed before anything starts,
 * and a failure to listen named by where the address came from.
 *
 * @module
 */
import type { openProcessEndpoint, ProcessEndpoint } from "../metrics/process-endpoint.ts"
import { type ListenAddress, parseListen } from "../metrics/server.ts"
import { UsageError } from "./command.ts"

/**
 * The address `--metrics` gives, or a usage error naming the flag.
 *
 * @example
 * ```ts
 * parseMetricsFlag("127.0.0.1:9464") // { host: "127.0.0.1", port: 9464 }
 * parseMetricsFlag("9464")           // throws UsageError: --metrics: expected host:port …
 * ```
 */
export const parseMetricsFlag = (text: string): ListenAddress => {
  try {
    return parseListen(text)
  } catch (error) {
    throw new UsageError(`--metrics: ${(error as Error).message}`)
  }
}

const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: "the port is in use",
  EADDRNOTAVAIL: "no such local address",
  ENOTFOUND: "no such host",
  EACCES: "not permitted",
}

/**
 * The endpoint on `listen`, or a usage error naming `from` (the flag or the config field) when it cannot listen.
 *
 * @example
 * ```ts
 * const endpoint = await openMetricsEndpoint(listen, "--metrics", { bus, config })
 * ```
 */
export const openMetricsEndpoint = async (
  listen: ListenAddress,
  from: string,
  options: Omit<Parameters<typeof openProcessEndpoint>[0], "listen">,
): Promise<ProcessEndpoint> => {
  // Loaded only here: a process that serves no metrics never loads prom-client.
  const { openProcessEndpoint: open } = await import("../metrics/process-endpoint.ts")
  try {
    return await open({ ...options, listen })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === undefined ? undefined : LISTEN_ERRORS[code]
    if (why !== undefined)
      throw new UsageError(`${from}: cannot listen on ${listen.host}:${listen.port} (${code}: ${why})`)
    throw error
  }
}
