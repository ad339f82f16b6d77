/**
 * The explorer's HTTP server: the JSON API (`api.ts`) under `/api/`, and the page (`page/`) everywhere else,
 * from files in the repository — no external asset, so it works on a machine with no internet.
 *
 * Invariants:
 * - Read-only: only GET and HEAD; the bus it holds is wrapped so a publish throws (`readOnlyBus`).
 * - Every answer carries a content security policy allowing this origin only, and `nosniff`.
 * - A failure answers 500 with its message, never a stack.
 *
 * @module
 */
import { readFileSync } from "node:fs"
import { createServer, type ServerResponse } from "node:http"
import { join } from "node:path"
import type { BusPort } from "../bus/port.ts"
import { type ListenAddress, listenOn } from "../metrics/server.ts"
import { type ApiContext, answerApi } from "./api.ts"
import { isLoopbackHost } from "./listen.ts"

const PAGE_DIR = join(import.meta.dirname, "page")
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
}
const HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
}

export interface ExplorerServer {
  /** `host:port` it listens on. */
  readonly address: string
  close(): Promise<void>
}

/**
 * A bus that reads and never writes: what the explorer holds. Each reading method is forwarded (an adapter's
 * methods live on its prototype, which a spread would drop); anything that writes, creates or joins throws.
 */
export const readOnlyBus = (bus: BusPort): BusPort => {
  const refuse = async (): Promise<never> => {
    throw new Error("the explorer is read-only: it never writes to the bus (retry with `chorus retry`)")
  }
  return {
    kind: bus.kind,
    ensureTopics: refuse,
    partitions: (topic) => bus.partitions(topic),
    publish: refuse,
    subscribe: refuse,
    read: (options) => bus.read(options),
    watermarks: (topic) => bus.watermarks(topic),
    offsetsForTimestamp: (topic, timestamp) => bus.offsetsForTimestamp(topic, timestamp),
    committedOffsets: (groupId, topic) => bus.committedOffsets(groupId, topic),
    close: () => bus.close(),
    ...(bus.authenticate === undefined ? {} : { authenticate: bus.authenticate }),
  }
}

/**
 * Whether a request's `Host` names this machine's loopback: a page elsewhere that rebinds its own name to
 * 127.0.0.1 (DNS rebinding) sends its own host name, and is refused unless the explorer was made public.
 */
const loopbackHost = (host: string | undefined): boolean => {
  if (host === undefined) return false
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "")
  return isLoopbackHost(name.toLowerCase())
}

const send = (
  response: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  head: boolean,
) => {
  response.writeHead(status, { ...HEADERS, "content-type": type })
  response.end(head ? undefined : body)
}

/**
 * Serves the explorer on `listen`.
 *
 * @example
 * ```ts
 * const server = await serveExplorer({ listen: { host: "127.0.0.1", port: 8080 }, context })
 * ```
 */
export const serveExplorer = async (options: {
  readonly listen: ListenAddress
  readonly context: ApiContext
  /** Answer requests naming any host (`--public`); otherwise only requests for a loopback name. */
  readonly public?: boolean
}): Promise<ExplorerServer> => {
  const assets = new Map(
    Object.entries(ASSETS).map(([path, asset]) => [
      path,
      { body: readFileSync(join(PAGE_DIR, asset.file)), type: asset.type },
    ]),
  )
  const server = createServer((request, response) => {
    const method = request.method ?? "GET"
    const head = method === "HEAD"
    if (options.public !== true && !loopbackHost(request.headers.host)) {
      send(
        response,
        403,
        "application/json; charset=utf-8",
        JSON.stringify({
          error: {
            message: `host ${JSON.stringify(request.headers.host ?? "")} is not this machine's loopback`,
            hint: "open the explorer as http://127.0.0.1:<port>/ or http://localhost:<port>/, or start it with --public",
          },
        }),
        head,
      )
      return
    }
    let url: URL
    try {
      url = new URL(request.url ?? "/", "http://explorer")
    } catch {
      send(response, 400, "application/json", JSON.stringify({ error: { message: "not a URL" } }), head)
      return
    }
    if (url.pathname === "/api" || url.pathname.startsWith("/api/")) {
      answerApi(options.context, method, url).then(
        (answer) => {
          if (answer.status === 405) response.setHeader("allow", "GET, HEAD")
          send(response, answer.status, "application/json; charset=utf-8", JSON.stringify(answer.body), head)
        },
        (error: unknown) =>
          send(
            response,
            500,
            "application/json; charset=utf-8",
            JSON.stringify({ error: { message: error instanceof Error ? error.message : String(error) } }),
            head,
          ),
      )
      return
    }
    if (method !== "GET" && !head) {
      response.setHeader("allow", "GET, HEAD")
      send(response, 405, "text/plain; charset=utf-8", "the explorer only reads\n", head)
      return
    }
    const asset = assets.get(url.pathname)
    if (asset === undefined) {
      send(response, 404, "text/plain; charset=utf-8", `no page at ${url.pathname}\n`, head)
      return
    }
    send(response, 200, asset.type, asset.body, head)
  })
  return listenOn(server, options.listen)
}
