/**
 * A shared-bus client: the bus port for a process that opens a data
 * directory another live process owns. Every call is forwarded to the owner
 * over its Unix socket (protocol: `wire.ts`) and runs there as a local call.
 *
 * Invariants:
 * - `publish` resolves only after the owner's bus acknowledged the records
 *   (written to their segments), so the durability is the owner's local one.
 * - `read` asks the owner for the range when it is called (the owner fixes
 *   its end then) and pulls it chunk by chunk as it is iterated, at most one
 *   chunk ahead: memory stays bounded however long the range.
 * - `subscribe` is refused with `ConsumerGroupsInOwnerError`: groups live in
 *   the owning process.
 * - Errors the owner raises come back as the same classes with the same
 *   message and `_tag`. If the connection breaks, every call in flight and
 *   every later call fails with `BusOwnerGoneError`; nothing hangs.
 * - The connection keeps this process alive only while calls are in flight,
 *   so an idle client does not hold a finished CLI open.
 *
 * @module
 */
import { createConnection, type Socket } from "node:net"
import type {
  BusPort,
  BusRecord,
  EnsureTopicsResult,
  OutgoingRecord,
  PartitionOffset,
  PartitionWatermarks,
  ReadRangeOptions,
  RecordPosition,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "../port.ts"
import { BusClosedError, BusOwnerGoneError, ConsumerGroupsInOwnerError } from "./errors.ts"
import { assertRecordShape } from "./record-shape.ts"
import { locateSocket } from "./socket-path.ts"
import {
  encodeFrame,
  FrameDecoder,
  fromWireError,
  fromWireRecord,
  PROTOCOL_VERSION,
  type Request,
  type Response,
  type Results,
  toWireOutgoing,
} from "./wire.ts"

interface Pending {
  readonly operation: string
  readonly resolve: (result: unknown) => void
  readonly reject: (error: Error) => void
}

/** How an attempt to reach an owner ended. */
export type ConnectAttempt =
  | { readonly kind: "connected"; readonly client: EmbeddedBusClient }
  /** Nobody answered (no socket yet or any more, or the owner closing): worth trying again. */
  | { readonly kind: "not-listening"; readonly socketPath: string; readonly reason: string }

type Body<K extends Request["op"]> = Omit<Extract<Request, { op: K }>, "id" | "op">

/** The bus port of a data directory another process owns; {@link EmbeddedBusClient.connect} makes one. */
export class EmbeddedBusClient implements BusPort {
  readonly kind = "embedded" as const
  readonly dataDir: string
  readonly socketPath: string
  private ownerPidValue: number
  private readonly socket: Socket
  private readonly frames = new FrameDecoder()
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private nextStream = 1
  private state: "open" | "closing" | "closed" = "open"
  /** Why the connection broke, once it has. */
  private lost: string | undefined
  private drained: (() => void) | undefined
  private closing: Promise<void> | undefined

  private constructor(dataDir: string, socketPath: string, socket: Socket, ownerPid: number) {
    this.dataDir = dataDir
    this.socketPath = socketPath
    this.socket = socket
    this.ownerPidValue = ownerPid
    socket.unref()
    let failure: Error | undefined
    socket.on("data", (chunk: Buffer) => this.receive(chunk))
    socket.on("error", (error) => {
      failure = error
    })
    socket.on("close", () => this.disconnected(failure?.message ?? "the connection was closed"))
  }

  /** The pid of the process that owns the data directory. */
  get ownerPid(): number {
    return this.ownerPidValue
  }

  /**
   * Connects to the owner serving `dataDir` and checks it speaks this
   * protocol. Resolves to `not-listening` when nobody answers; throws if the
   * owner answers with another protocol version.
   *
   * @example
   * ```ts
   * const attempt = await EmbeddedBusClient.connect("/data/bus", lockHolderPid)
   * if (attempt.kind === "connected") await attempt.client.watermarks("chorus.x")
   * ```
   */
  static async connect(dataDir: string, lockHolderPid: number): Promise<ConnectAttempt> {
    const socketPath = locateSocket(dataDir)
    let socket: Socket
    try {
      socket = await new Promise<Socket>((resolve, reject) => {
        const connecting = createConnection(socketPath)
        connecting.once("error", reject)
        connecting.once("connect", () => {
          connecting.off("error", reject)
          resolve(connecting)
        })
      })
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException
      return { kind: "not-listening", socketPath, reason: code ?? message }
    }
    const client = new EmbeddedBusClient(dataDir, socketPath, socket, lockHolderPid)
    try {
      const hello = await client.call("hello", { version: PROTOCOL_VERSION }, "connect")
      client.ownerPidValue = hello.pid
    } catch (error) {
      client.socket.destroy()
      // The owner accepted and then went away: it is closing, and the directory is about to be free.
      if (error instanceof BusOwnerGoneError) {
        return { kind: "not-listening", socketPath, reason: "the owner closed the connection" }
      }
      throw error
    }
    return { kind: "connected", client }
  }

  async ensureTopics(topics: ReadonlyArray<TopicSpec>): Promise<EnsureTopicsResult> {
    return this.call("ensureTopics", { topics }, "ensure topics")
  }

  async partitions(topic: string): Promise<number> {
    return this.call("partitions", { topic }, "read partitions")
  }

  async publish(records: ReadonlyArray<OutgoingRecord>): Promise<ReadonlyArray<RecordPosition>> {
    this.assertUsable("publish")
    for (const record of records) assertRecordShape(record)
    return this.call("publish", { records: records.map(toWireOutgoing) }, "publish")
  }

  /** Refused: consumer groups live in the owning process ({@link ConsumerGroupsInOwnerError}). */
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    throw new ConsumerGroupsInOwnerError(this.dataDir, this.ownerPid, options.groupId)
  }

  read(options: ReadRangeOptions): AsyncIterable<BusRecord> {
    const stream = this.nextStream++
    const opened = this.call("readOpen", { stream, options }, "read")
    // A failed open is reported by the first next(); until then nobody awaits it.
    opened.catch(() => {})
    return new RemoteRead(this, stream, options.topic, opened)
  }

  async watermarks(topic: string): Promise<ReadonlyArray<PartitionWatermarks>> {
    return this.call("watermarks", { topic }, "read watermarks")
  }

  async offsetsForTimestamp(topic: string, timestamp: number): Promise<ReadonlyArray<PartitionOffset>> {
    return this.call("offsetsForTimestamp", { topic, timestamp }, "look up offsets")
  }

  async committedOffsets(groupId: string, topic: string): Promise<ReadonlyArray<PartitionOffset>> {
    return this.call("committedOffsets", { groupId, topic }, "read committed offsets")
  }

  /** Lets the calls in flight finish, then disconnects. The owner and its bus are unaffected. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.state = "closing"
      if (this.pending.size > 0) await new Promise<void>((resolve) => (this.drained = resolve))
      if (!this.socket.destroyed) {
        await new Promise<void>((resolve) => {
          this.socket.once("close", () => resolve())
          // The socket is unref'd between calls; the close handshake must keep the process alive, or a CLI
          // exits with this promise unsettled. An owner that never answers the FIN is cut off after 1 s.
          this.socket.ref()
          const cutoff = setTimeout(() => this.socket.destroy(), 1000)
          this.socket.once("close", () => clearTimeout(cutoff))
          this.socket.end()
        })
      }
      this.state = "closed"
    })()
    return this.closing
  }

  /** @internal Sends one request; resolves with its result or rejects with the owner's error. */
  call<K extends Request["op"]>(op: K, body: Body<K>, operation: string): Promise<Results[K]> {
    try {
      this.assertUsable(operation)
    } catch (error) {
      return Promise.reject(error)
    }
    const id = this.nextId++
    let frame: Buffer
    try {
      frame = encodeFrame({ id, op, ...body } as unknown as Request)
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise<Results[K]>((resolve, reject) => {
      this.pending.set(id, { operation, resolve: resolve as (result: unknown) => void, reject })
      // Keep the process alive while an answer is awaited, and only then.
      if (this.pending.size === 1) this.socket.ref()
      this.socket.write(frame)
    })
  }

  private assertUsable(operation: string): void {
    if (this.state !== "open") throw new BusClosedError(operation)
    if (this.lost !== undefined) {
      throw new BusOwnerGoneError(this.dataDir, this.ownerPid, operation, false, this.lost)
    }
  }

  private receive(chunk: Buffer): void {
    let messages: unknown[]
    try {
      messages = this.frames.push(chunk)
    } catch (error) {
      this.socket.destroy()
      this.disconnected((error as Error).message)
      return
    }
    for (const message of messages) {
      const response = message as Response
      const pending = this.pending.get(response.id)
      if (pending === undefined) continue
      this.settled(response.id)
      if (response.ok) pending.resolve(response.result)
      else pending.reject(fromWireError(response.error, this.ownerPid))
    }
  }

  private settled(id: number): void {
    this.pending.delete(id)
    if (this.pending.size > 0) return
    this.socket.unref()
    this.drained?.()
    this.drained = undefined
  }

  private disconnected(reason: string): void {
    if (this.lost !== undefined) return
    this.lost = reason
    const inFlight = [...this.pending]
    for (const [id, pending] of inFlight) {
      this.settled(id)
      pending.reject(new BusOwnerGoneError(this.dataDir, this.ownerPid, pending.operation, true, reason))
    }
    this.drained?.()
    this.drained = undefined
  }
}

type Chunk = Results["readNext"]

/**
 * One range read through the owner. Like the local adapter's generator it is
 * its own iterator and can be iterated once.
 */
class RemoteRead implements AsyncIterableIterator<BusRecord> {
  private readonly client: EmbeddedBusClient
  private readonly stream: number
  private readonly topic: string
  private readonly opened: Promise<null>
  private buffer: ReadonlyArray<Chunk["records"][number]> = []
  private index = 0
  private ahead: Promise<Chunk> | undefined
  /** The owner said the range is done, or the read failed or was returned. */
  private finished = false

  constructor(client: EmbeddedBusClient, stream: number, topic: string, opened: Promise<null>) {
    this.client = client
    this.stream = stream
    this.topic = topic
    this.opened = opened
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<BusRecord> {
    return this
  }

  async next(): Promise<IteratorResult<BusRecord>> {
    for (;;) {
      const wire = this.buffer[this.index]
      if (wire !== undefined) {
        this.index++
        return { done: false, value: fromWireRecord(this.topic, wire) }
      }
      if (this.finished) return { done: true, value: undefined }
      try {
        await this.opened
        const chunk = await (this.ahead ?? this.fetch())
        this.ahead = undefined
        this.buffer = chunk.records
        this.index = 0
        if (chunk.done) this.finished = true
        else this.ahead = this.fetch()
      } catch (error) {
        this.finished = true
        this.buffer = []
        throw error
      }
    }
  }

  async return(): Promise<IteratorResult<BusRecord>> {
    const open = !this.finished
    this.finished = true
    this.buffer = []
    // Frees the owner's cursor now rather than when the connection ends.
    if (open) await this.client.call("readClose", { stream: this.stream }, "read").catch(() => null)
    return { done: true, value: undefined }
  }

  private fetch(): Promise<Chunk> {
    const chunk = this.client.call("readNext", { stream: this.stream }, "read")
    // A chunk fetched ahead may fail before it is awaited; next() reports it.
    chunk.catch(() => {})
    return chunk
  }
}
