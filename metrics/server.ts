/**
 * The HTTP endpoint of a process's metrics and health:
 * - `GET /metrics`: the Prometheus exposition (text format 0.0.4);
 * - `GET /healthz`: liveness, 200 while the process's event loop answers (with its pid, so a supervisor
 *   knows which process answered the port);
 * - `GET /readyz`: 200 when every readiness check passes, 503 otherwise, with
 *   each check's result as JSON.
 *
 * Read-only: any other method gets 405, any other path 404. It serves
 * nothing secret (see `chorus-metrics.ts`); bind it where Prometheus reaches
 * it, and no further.
 *
 * @module
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import type { ChorusMetrics } from "./chorus-metrics.ts"
import type { ReadinessReport } from "./readiness.ts"

export interface MetricsServer {
  /** `host:port` it listens on (the port the system chose, when asked for 0). */
  readonly address: string
  close(): Promise<void>
}

/** A `host:port` to listen on, parsed, or why not. */
export type ListenAddress = { readonly host: string; readonly port: number }

/**
 * Parses `host:port` (`[::1]:9464` for IPv6).
 *
 * @example
 * ```ts
 * parseListen("127.0.0.1:9464") // { host: "127.0.0.1", port: 9464 }
 * parseListen("9464")           // throws: expected host:port …
 * ```
 */
export const parseListen = (text: string): ListenAddress => {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text)
  const port = match === null ? Number.NaN : Number(match[3])
  if (match === null || port > 65_535) {
    throw new Error(`expected host:port (e.g. 127.0.0.1:9464), got ${JSON.stringify(text)}`)
  }
  return { host: (match[1] ?? match[2]) as string, port }
}

const send = (
  response: import("node:http").ServerResponse,
  status: number,
  contentType: string,
  body: string,
) => {
  response.writeHead(status, { "content-type": contentType, "cache-control": "no-store" })
  response.end(body)
}

const JSON_TYPE = "application/json; charset=utf-8"

/**
 * Starts serving; resolves once it listens.
 *
 * @example
 * ```ts
 * const server = await serveMetrics({ listen: parseListen("127.0.0.1:9464"), metrics, ready: () => readiness(checks) })
 * ```
 */
export const serveMetrics = async (options: {
  readonly listen: ListenAddress
  readonly metrics: ChorusMetrics
  readonly ready: () => Promise<ReadinessReport>
}): Promise<MetricsServer> => {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0]
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD")
      send(
        response,
        405,
        JSON_TYPE,
        `${JSON.stringify({ error: `${request.method} is not served; use GET` })}\n`,
      )
      return
    }
    const answer = async () => {
      switch (path) {
        case "/metrics": {
          const { contentType, body } = await options.metrics.exposition()
          return send(response, 200, contentType, body)
        }
        case "/healthz":
          return send(response, 200, JSON_TYPE, `${JSON.stringify({ status: "ok", pid: process.pid })}\n`)
        case "/readyz": {
          const report = await options.ready()
          return send(response, report.ready ? 200 : 503, JSON_TYPE, `${JSON.stringify(report)}\n`)
        }
        default:
          return send(
            response,
            404,
            JSON_TYPE,
            `${JSON.stringify({ error: `no ${path}; served: /metrics, /healthz, /readyz` })}\n`,
          )
      }
    }
    answer().catch((error: unknown) => {
      if (!response.headersSent) {
        send(
          response,
          500,
          JSON_TYPE,
          `${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`,
        )
      } else response.destroy()
    })
  })
  // A scrape holds nothing open: a stopping process must not wait on an idle keep-alive socket.
  return listenOn(server, options.listen)
}

/**
 * Starts `server` on `listen` and gives its address (`host:port`, the port the system chose when asked for 0)
 * and a `close` that drops idle keep-alive connections rather than waiting on them.
 *
 * @example
 * ```ts
 * const { address, close } = await listenOn(createServer(handler), { host: "127.0.0.1", port: 0 })
 * ```
 */
export const listenOn = async (
  server: Server,
  listen: ListenAddress,
): Promise<{ readonly address: string; close(): Promise<void> }> => {
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject)
      resolve()
    })
  })
  const bound = server.address() as AddressInfo
  const host = bound.family === "IPv6" ? `[${bound.address}]` : bound.address
  return {
    address: `${host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
