import { createServer, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { Transform } from "node:stream"
import { brotliCompressSync, deflateRawSync, gzipSync, zstdCompressSync } from "node:zlib"
import { createPublicClient, http } from "viem"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { MAX_ANSWER_BYTES, nodeFetch } from "./node-fetch.ts"

/** Every decompressing stream made, in order (the module's `node:zlib`, watched). */
const { decoders } = vi.hoisted(() => ({ decoders: [] as Transform[] }))
vi.mock("node:zlib", async (importOriginal) => {
  const zlib = await importOriginal<typeof import("node:zlib")>()
  const watched =
    <A extends unknown[]>(make: (...args: A) => Transform) =>
    (...args: A) => {
      const stream = make(...args)
      decoders.push(stream)
      return stream
    }
  return {
    ...zlib,
    createGunzip: watched(zlib.createGunzip),
    createInflate: watched(zlib.createInflate),
    createInflateRaw: watched(zlib.createInflateRaw),
    createBrotliDecompress: watched(zlib.createBrotliDecompress),
    createZstdDecompress: watched(zlib.createZstdDecompress),
  }
})

/** The chunks written so far by the answers of the endless behaviours still open. */
const pumping = new Map<ServerResponse, number>()

const answer = (body: string, result: string) =>
  JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(body).id, result })

/** A response that writes spaces until the client goes. */
const pumpEndlessly = (response: ServerResponse) => {
  const chunk = Buffer.alloc(64 * 1024, 0x20)
  const write = () => {
    pumping.set(response, (pumping.get(response) ?? 0) + 1)
    return response.write(chunk)
  }
  const pump = () => {
    while (!response.destroyed && write());
    if (!response.destroyed) response.once("drain", pump)
  }
  pumping.set(response, 0)
  response.on("close", () => {
    pumping.delete(response)
    response.destroy()
  })
  pump()
}

/** What a hostile or broken RPC does, chosen by the request's path. */
const behaviours: Record<string, (response: ServerResponse, body: string, authorization?: string) => void> = {
  ok: (response, body) => {
    response.setHeader("content-type", "application/json")
    response.end(JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(body).id, result: "0x2a" }))
  },
  "rpc-error": (response, body) => {
    response.setHeader("content-type", "application/json")
    response.end(
      JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(body).id, error: { code: -32005, message: "limit" } }),
    )
  },
  "status-500": (response) => {
    response.statusCode = 500
    response.end("upstream exploded")
  },
  "status-429-rpc": (response, body) => {
    response.statusCode = 429
    response.setHeader("content-type", "application/json")
    response.end(
      JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(body).id, error: { code: 429, message: "slow down" } }),
    )
  },
  "not-json": (response) => {
    response.end("<html>gateway</html>")
  },
  gzip: (response, body) => {
    response.setHeader("content-type", "application/json")
    response.setHeader("content-encoding", "gzip")
    response.end(gzipSync(JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(body).id, result: "0x2b" })))
  },
  br: (response, body) => {
    response.setHeader("content-type", "application/json")
    response.setHeader("content-encoding", "br")
    response.end(
      brotliCompressSync(JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(body).id, result: "0x2c" })),
    )
  },
  bom: (response, body) => {
    response.end(`\ufeff${JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(body).id, result: "0x2d" })}`)
  },
  redirect: (response) => {
    response.statusCode = 307
    response.setHeader("location", "/ok")
    response.end()
  },
  silent: () => {
    // Never answers: the client's timeout must end it.
  },
  "cut-mid-body": (response) => {
    response.setHeader("content-length", "1000")
    response.write('{"jsonrpc":"2.0","id":1,"res')
    setTimeout(() => response.socket?.destroy(), 20)
  },
  endless: (response) => {
    response.setHeader("content-type", "application/json")
    pumpEndlessly(response)
  },
  "gzip-bomb": (response) => {
    response.setHeader("content-encoding", "gzip")
    response.end(gzipSync(Buffer.alloc(MAX_ANSWER_BYTES * 4, 0x20)))
  },
  // 64 MiB of zeros in 51 bytes: what is left of it after the limit must not go on being decompressed.
  "br-bomb": (response) => {
    response.setHeader("content-encoding", "br")
    response.end(brBomb)
  },
  "gzip-then-br": (response, body) => {
    response.setHeader("content-type", "application/json")
    response.setHeader("content-encoding", "gzip, BR")
    response.end(brotliCompressSync(gzipSync(answer(body, "0x2e"))))
  },
  "deflate-raw": (response, body) => {
    response.setHeader("content-encoding", "deflate")
    response.end(deflateRawSync(answer(body, "0x2f")))
  },
  zstd: (response, body) => {
    response.setHeader("content-encoding", "zstd")
    response.end(zstdCompressSync(answer(body, "0x30")))
  },
  "gzip-without-trailer": (response, body) => {
    response.setHeader("content-encoding", "gzip")
    const gzip = gzipSync(answer(body, "0x31"))
    response.end(gzip.subarray(0, gzip.length - 8))
  },
  "unknown-encoding-last": (response, body) => {
    response.setHeader("content-encoding", "gzip, snappy")
    response.end(answer(body, "0x32"))
  },
  "too-many-encodings": (response, body) => {
    response.setHeader("content-encoding", "identity, identity, identity, identity, identity, identity")
    response.end(answer(body, "0x33"))
  },
  "no-content-gzip": (response) => {
    response.statusCode = 204
    response.setHeader("content-encoding", "gzip")
    response.end()
  },
  // An upgrade nobody asked for: Node's client drops the connection without an 'error' on the request.
  "switching-protocols": (response) => {
    response.socket?.end("HTTP/1.1 101 Switching Protocols\r\nupgrade: chorus\r\nconnection: upgrade\r\n\r\n")
  },
  "redirect-endless": (response) => {
    response.statusCode = 307
    response.setHeader("location", "/ok")
    pumpEndlessly(response)
  },
  auth: (response, body, authorization) => {
    response.setHeader("content-type", "application/json")
    response.end(JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(body).id, result: authorization ?? null }))
  },
}

let server: Server
let brBomb: Buffer
let base: string
let openConnections = 0
let acceptedConnections = 0

beforeAll(async () => {
  brBomb = brotliCompressSync(Buffer.alloc(64 * 1024 * 1024))
  server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const behaviour = behaviours[request.url!.slice(1)]
      if (behaviour === undefined) {
        response.statusCode = 404
        response.end()
        return
      }
      behaviour(response, Buffer.concat(chunks).toString(), request.headers.authorization)
    })
  })
  server.on("connection", (socket) => {
    openConnections++
    acceptedConnections++
    socket.on("close", () => openConnections--)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

/** What a viem client over `fetchFn` makes of one request: its result, or its error's class and what viem kept. */
const outcome = async (path: string, fetchFn?: typeof fetch, url = `${base}/${path}`) => {
  const client = createPublicClient({
    transport: http(url, { retryCount: 0, timeout: 1_500, ...(fetchFn === undefined ? {} : { fetchFn }) }),
  })
  try {
    return { result: await client.request({ method: "eth_blockNumber" } as never) }
  } catch (error) {
    const e = error as { name: string; status?: number; code?: number; details?: string }
    return { error: e.name, status: e.status, code: e.code }
  }
}

describe("nodeFetch under viem's HTTP transport", () => {
  it.each(Object.keys(behaviours).filter((path) => path !== "auth"))(
    "given an RPC that answers %s, then viem makes of it what it makes of fetch's answer",
    async (path) => {
      const ours = await outcome(path, nodeFetch)
      expect(ours).toEqual(await outcome(path))
      if (path === "endless" || path.endsWith("-bomb")) expect(ours.error).toBe("ResponseBodyTooLargeError")
      if (path === "silent") expect(ours.error).toBe("TimeoutError")
      if (path === "ok" || path.startsWith("redirect")) expect(ours.result).toBe("0x2a")
    },
    20_000,
  )

  it("sends the URL's credentials as basic authorization, as viem does with fetch", async () => {
    const url = `http://chorus:s%3Acret@${base.slice("http://".length)}/auth`
    const expected = `Basic ${Buffer.from("chorus:s:cret").toString("base64")}`
    expect(await outcome("auth", nodeFetch, url)).toEqual({ result: expected })
    expect(await outcome("auth", undefined, url)).toEqual({ result: expected })
  })

  it("drops the connection of an answer it refuses, and keeps one alive for the next requests", async () => {
    await outcome("ok", nodeFetch)
    const [accepted, open] = [acceptedConnections, openConnections]
    // The refused answer comes on the kept connection, which is then destroyed, not returned to the pool.
    await outcome("endless", nodeFetch)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(openConnections).toBe(open - 1)
    for (let i = 0; i < 5; i++) await outcome("ok", nodeFetch)
    expect(acceptedConnections).toBe(accepted + 1)
    expect(openConnections).toBe(open)
  })

  it("given a bomb it refuses, then no decompression goes on after", async () => {
    for (const path of ["gzip-bomb", "br-bomb"]) {
      const before = decoders.length
      expect((await outcome(path, nodeFetch)).error).toBe("ResponseBodyTooLargeError")
      const made = decoders.slice(before)
      expect(made.length).toBeGreaterThan(0)
      expect(made.every((decoder) => decoder.destroyed)).toBe(true)
    }
  })

  it("given a redirect whose body never ends, then its connection is not read without end", async () => {
    // (`fetch`, which follows the redirect, leaves its own such connection open, unread.)
    expect(await outcome("redirect-endless", nodeFetch)).toEqual({ result: "0x2a" })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const written = new Map(pumping)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect([...pumping].filter(([response, chunks]) => chunks > (written.get(response) ?? 0))).toEqual([])
  })

  it("rejects with the signal's reason when aborted, before or during the request", async () => {
    const before = new AbortController()
    before.abort(new Error("stopped before"))
    await expect(
      nodeFetch(`${base}/ok`, { method: "POST", body: "{}", signal: before.signal }),
    ).rejects.toThrow("stopped before")
    const during = new AbortController()
    const pending = nodeFetch(`${base}/silent`, { method: "POST", body: "{}", signal: during.signal })
    setTimeout(() => during.abort(new Error("stopped during")), 50)
    await expect(pending).rejects.toThrow("stopped during")
  })
})
