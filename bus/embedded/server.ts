/**
 * The owner's side of the shared bus: serves an open embedded bus to other
 * processes on a Unix socket (protocol: `wire.ts`, location: `socket-path.ts`).
 *
 * Invariants:
 * - Only the LOCK holder serves, so a socket file found at start-up is stale
 *   (its owner was killed) and is replaced.
 * - Every call runs on the owner's bus exactly as a local call: a publish is
 *   answered only after the bus acknowledged it (written to its segments).
 * - Requests of one connection start in arrival order; the bus's methods do
 *   their work before their first await, so a read opened before a publish on
 *   the same connection does not see it, as locally.
 * - A read stream produces a chunk only when the client asks for one, so a
 *   slow reader costs the owner one cursor, not a buffered range.
 * - Serving never keeps the owner alive: the listener and connections are
 *   unref'd. `close` stops listening, drops every connection (clients fail
 *   with `BusOwnerGoneError`) and removes the socket and pointer files.
 *
 * @module
 */
import { chmodSync, rmSync } from "node:fs"
import { createServer, type Server, type Socket } from "node:net"
import type { BusPort, BusRecord } from "../port.ts"
import { writeFileAtomic } from "./atomic-file.ts"
import { BusProtocolError } from "./errors.ts"
import type { EmbeddedBusLogger } from "./logger.ts"
import { type SocketCandidate, socketCandidates, socketPointerFile } from "./socket-path.ts"
import {
  encodeFrame,
  FrameDecoder,
  fromWireOutgoing,
  fromWireReadOptions,
  PROTOCOL_VERSION,
  READ_CHUNK_BYTES,
  READ_CHUNK_RECORDS,
  type Request,
  type Response,
  toWireError,
  toWireRecord,
  type WireRecord,
} from "./wire.ts"

/** What the server needs of the bus: everything but consumer groups and closing. */
export type ServedBus = Omit<BusPort, "subscribe" | "close" | "kind">

/** A running server. */
export interface BusServer {
  /** The socket path clients connect to. */
  readonly path: string
  /**
   * Stops serving: refuses new connections, waits up to `drainMs` for the
   * connected clients to finish and leave, drops the rest, and removes the
   * socket and pointer files.
   */
  close(drainMs?: number): Promise<void>
}

/**
 * Serves `bus` for the data directory it owns. Resolves once listening;
 * resolves to `undefined` (after a warning) if no socket could be created, so
 * the owner keeps working unshared.
 *
 * @example
 * ```ts
 * const server = await serveBus(bus, "/data/bus", stderrLogger)
 * // … other processes open the directory as clients …
 * await server?.close()
 * ```
 */
export async function serveBus(
  bus: ServedBus,
  dataDir: string,
  logger: EmbeddedBusLogger,
): Promise<BusServer | undefined> {
  const failures: string[] = []
  for (const candidate of socketCandidates(dataDir)) {
    try {
      return await listenOn(candidate, bus, dataDir, logger)
    } catch (error) {
      failures.push(`${candidate.path}: ${(error as Error).message}`)
    }
  }
  logger.warn(
    `cannot serve the bus of ${dataDir} to other processes (${failures.join("; ")}); ` +
      "it works in this process only, and other processes cannot open the directory until it closes",
  )
  return undefined
}

async function listenOn(
  candidate: SocketCandidate,
  bus: ServedBus,
  dataDir: string,
  logger: EmbeddedBusLogger,
): Promise<BusServer> {
  // This process holds the LOCK, so whatever is at these paths was left by a dead owner.
  rmSync(candidate.path, { force: true })
  if (candidate.pointer === undefined) rmSync(socketPointerFile(dataDir), { force: true })
  const connections = new Set<Connection>()
  const server = createServer((socket) => {
    socket.unref()
    const connection = new Connection(socket, bus, dataDir, logger)
    connections.add(connection)
    socket.on("close", () => {
      connections.delete(connection)
      connection.dispose()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    // Whoever can connect can publish to every topic: the socket is created owner-only, whatever the umask
    // (the bind happens inside listen(), so the mask is back before any other file is created).
    const mask = process.umask(0o077)
    try {
      server.listen(candidate.path, () => {
        server.off("error", reject)
        resolve()
      })
    } finally {
      process.umask(mask)
    }
  })
  server.unref()
  server.on("error", (error) => logger.error(`bus server on ${candidate.path}: ${error.message}`))
  try {
    chmodSync(candidate.path, 0o600)
    if (candidate.pointer !== undefined) {
      writeFileAtomic(candidate.pointer, `${candidate.path}\n`, false)
    }
  } catch (error) {
    await closeServer(server, connections)
    rmSync(candidate.path, { force: true })
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    path: candidate.path,
    close: (drainMs = 0) => {
      closing ??= (async () => {
        await closeServer(server, connections, drainMs, logger)
        if (candidate.pointer !== undefined) rmSync(candidate.pointer, { force: true })
        rmSync(candidate.path, { force: true })
      })()
      return closing
    },
  }
}

async function closeServer(
  server: Server,
  connections: Set<Connection>,
  drainMs = 0,
  logger?: EmbeddedBusLogger,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  if (drainMs > 0 && connections.size > 0) {
    // Another chorus process is mid-operation on this log (a retry waiting for its answer, say):
    // cutting it off would fail it halfway, so it gets time to finish.
    logger?.warn(
      `${connections.size} other chorus process(es) use this log through its socket; serving them until they finish (at most ${Math.round(drainMs / 1000)} s)`,
    )
    const deadline = Date.now() + drainMs
    while (connections.size > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50))
  }
  for (const connection of connections) connection.destroy()
  await closed
}

interface ReadStream {
  readonly topic: string
  readonly iterator: AsyncIterator<BusRecord>
  /** The chunk being produced; chunks of one stream are produced one after another. */
  busy: Promise<void>
}

/** One client connection: its frames, its read streams. */
class Connection {
  private readonly socket: Socket
  private readonly bus: ServedBus
  private readonly dataDir: string
  private readonly logger: EmbeddedBusLogger
  private readonly frames = new FrameDecoder()
  private readonly streams = new Map<number, ReadStream>()
  private disposed = false

  constructor(socket: Socket, bus: ServedBus, dataDir: string, logger: EmbeddedBusLogger) {
    this.socket = socket
    this.bus = bus
    this.dataDir = dataDir
    this.logger = logger
    socket.on("data", (chunk: Buffer) => this.receive(chunk))
    // A client that vanishes resets the connection: that is its "close", not an error to report.
    socket.on("error", () => {})
  }

  destroy(): void {
    this.socket.destroy()
    this.dispose()
  }

  /** Ends every read stream of this connection. */
  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    for (const stream of this.streams.values()) void stream.iterator.return?.()
    this.streams.clear()
  }

  private receive(chunk: Buffer): void {
    let messages: unknown[]
    try {
      messages = this.frames.push(chunk)
    } catch (error) {
      this.logger.warn(`dropping a bus client of ${this.dataDir}: ${(error as Error).message}`)
      this.destroy()
      return
    }
    for (const message of messages) {
      if (!isRequest(message)) {
        this.logger.warn(`dropping a bus client of ${this.dataDir}: a frame is not a request`)
        this.destroy()
        return
      }
      void this.answer(message)
    }
  }

  private async answer(request: Request): Promise<void> {
    let response: Response
    try {
      response = { id: request.id, ok: true, result: await this.run(request) }
    } catch (error) {
      response = { id: request.id, ok: false, error: toWireError(error) }
    }
    if (this.disposed) return
    let frame: Buffer
    try {
      frame = encodeFrame(response)
    } catch (error) {
      frame = encodeFrame({ id: request.id, ok: false, error: toWireError(error) })
    }
    this.socket.write(frame)
  }

  private async run(request: Request): Promise<unknown> {
    switch (request.op) {
      case "hello":
        if (request.version !== PROTOCOL_VERSION) {
          throw new BusProtocolError(
            `the client speaks protocol ${request.version}, this owner (pid ${process.pid}) ${PROTOCOL_VERSION}`,
          )
        }
        return { version: PROTOCOL_VERSION, pid: process.pid, dataDir: this.dataDir }
      case "ensureTopics":
        return this.bus.ensureTopics(request.topics)
      case "partitions":
        return this.bus.partitions(request.topic)
      case "publish":
        return this.bus.publish(request.records.map(fromWireOutgoing))
      case "watermarks":
        return this.bus.watermarks(request.topic)
      case "offsetsForTimestamp":
        return this.bus.offsetsForTimestamp(request.topic, request.timestamp ?? Number.NaN)
      case "committedOffsets":
        return this.bus.committedOffsets(request.groupId, request.topic)
      case "readOpen": {
        if (this.streams.has(request.stream)) {
          throw new BusProtocolError(`read stream ${request.stream} is already open`)
        }
        const options = fromWireReadOptions(request.options)
        // The bus fixes the range's end here, before any later request of this connection runs.
        const iterator = this.bus.read(options)[Symbol.asyncIterator]()
        this.streams.set(request.stream, { topic: options.topic, iterator, busy: Promise.resolve() })
        return null
      }
      case "readNext":
        return this.nextChunk(request.stream)
      case "readClose": {
        const stream = this.streams.get(request.stream)
        this.streams.delete(request.stream)
        await stream?.iterator.return?.()
        return null
      }
      default:
        throw new BusProtocolError(`unknown request ${JSON.stringify((request as { op: unknown }).op)}`)
    }
  }

  private async nextChunk(id: number): Promise<{ records: WireRecord[]; done: boolean }> {
    const stream = this.streams.get(id)
    if (stream === undefined) throw new BusProtocolError(`read stream ${id} is not open`)
    const produce = async () => {
      const records: WireRecord[] = []
      let bytes = 0
      while (records.length < READ_CHUNK_RECORDS && bytes < READ_CHUNK_BYTES) {
        let next: IteratorResult<BusRecord>
        try {
          next = await stream.iterator.next()
        } catch (error) {
          this.streams.delete(id)
          throw error
        }
        if (next.done === true) {
          this.streams.delete(id)
          return { records, done: true }
        }
        records.push(toWireRecord(next.value))
        bytes += next.value.value.byteLength
      }
      return { records, done: false }
    }
    const chunk = stream.busy.then(produce)
    stream.busy = chunk.then(
      () => undefined,
      () => undefined,
    )
    return chunk
  }
}

function isRequest(message: unknown): message is Request {
  return (
    typeof message === "object" &&
    message !== null &&
    typeof (message as { id?: unknown }).id === "number" &&
    typeof (message as { op?: unknown }).op === "string"
  )
}
