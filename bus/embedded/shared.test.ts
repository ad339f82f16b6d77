import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { quietLogger } from "../../test/fixtures/embedded-bus.ts"
import { useTempDirs } from "../../test/fixtures/temp-dirs.ts"
import type { BusHarness } from "../contract/harness.ts"
import { positionsContract } from "../contract/positions.ts"
import { publishingContract } from "../contract/publishing.ts"
import { contractContext, decode, encode, readAll, topicSpec, waitFor } from "../contract/support.ts"
import type { BusPort } from "../port.ts"
import { FixtureChild } from "./fixtures/child.ts"
import {
  BusOwnerGoneError,
  BusOwnerUnreachableError,
  ConsumerGroupsInOwnerError,
  EmbeddedBus,
  EmbeddedBusClient,
  openEmbeddedBus,
  openEmbeddedBusShared,
  PartitionOutOfRangeError,
  TopicNotFoundError,
} from "./index.ts"
import { MAX_SOCKET_PATH_BYTES } from "./socket-path.ts"
import { READ_CHUNK_RECORDS } from "./wire.ts"

const freshDir = useTempDirs("chorus-bus-shared-")

/** A client of the owner of `dataDir` in this process (the LOCK is held here, so the opener connects). */
async function clientOf(dataDir: string, ownerWaitMs?: number): Promise<EmbeddedBusClient> {
  const bus = await openEmbeddedBusShared({
    dataDir,
    logger: quietLogger,
    ...(ownerWaitMs === undefined ? {} : { ownerWaitMs }),
  })
  if (!(bus instanceof EmbeddedBusClient))
    throw new TypeError(`expected a client of ${dataDir}, got the owner`)
  return bus
}

/**
 * The contract's bus for one test: every call goes through a client, except
 * `subscribe`, which goes to the owner, where consumer groups live. So the
 * delivery checks of these contract parts consume what the client published.
 */
interface SharedPair {
  readonly dataDir: string
  readonly owner: EmbeddedBus
  readonly client: EmbeddedBusClient
}
/** An owner in this process, on a fresh directory, with a topic `t` of `partitions`. */
async function ownerOfT(
  partitions: number,
  options: { readonly drainClientsMs?: number } = {},
): Promise<{ dataDir: string; owner: EmbeddedBus }> {
  const dataDir = await freshDir()
  const owner = await openEmbeddedBus({ dataDir, logger: quietLogger, ...options })
  await owner.ensureTopics([topicSpec("t", partitions)])
  return { dataDir, owner }
}

const pairs = new WeakMap<BusPort, SharedPair>()
async function openPair(dataDir: string): Promise<BusPort> {
  const owner = await openEmbeddedBus({ dataDir, logger: quietLogger })
  const client = await clientOf(dataDir)
  const bus: BusPort = {
    kind: client.kind,
    ensureTopics: (topics) => client.ensureTopics(topics),
    partitions: (topic) => client.partitions(topic),
    publish: (records) => client.publish(records),
    subscribe: (options) => owner.subscribe(options),
    read: (options) => client.read(options),
    watermarks: (topic) => client.watermarks(topic),
    offsetsForTimestamp: (topic, timestamp) => client.offsetsForTimestamp(topic, timestamp),
    committedOffsets: (groupId, topic) => client.committedOffsets(groupId, topic),
    close: async () => {
      await client.close()
      await owner.close()
    },
  }
  pairs.set(bus, { dataDir, owner, client })
  return bus
}
const pairOf = (bus: BusPort): SharedPair => {
  const pair = pairs.get(bus)
  if (pair === undefined) throw new TypeError("the shared harness got a bus it did not open")
  return pair
}

const harness: BusHarness = {
  open: async () => openPair(await freshDir()),
  reopen: async (bus) => openPair(pairOf(bus).dataDir),
  crash: async (bus) => {
    const { owner, client } = pairOf(bus)
    await owner.crash()
    await client.close()
  },
  timeouts: { waitMs: 10_000, testMs: 30_000 },
}

describe("bus contract through a shared-bus client (publishing, positions and read)", () => {
  const ctx = contractContext(harness)
  afterEach(() => ctx.cleanup())
  publishingContract(ctx)
  positionsContract(ctx)
})

describe("shared embedded bus: a second process", () => {
  it("publishes into a live owner's consumer group, reads its log, and survives the owner's kill -9", async () => {
    const dataDir = await freshDir()
    const topic = "shared.t"
    const owner = new FixtureChild("owner.ts", [dataDir, topic])
    try {
      await waitFor("the owner to serve", () => owner.lines("ready").length > 0, {
        timeoutMs: 20_000,
        detail: () => owner.stderr,
      })

      const client = await clientOf(dataDir)
      expect(client.ownerPid).toBe(owner.pid)

      // Given a client's acknowledged publish, the owner's consumer group handles every record.
      const values = Array.from({ length: 30 }, (_, i) => `v${i}`)
      const positions = await client.publish(
        values.map((value, i) => ({ topic, key: `k${i % 7}`, value: encode(value) })),
      )
      await waitFor("the owner's group to consume 30 records", () => owner.lines("consumed").length >= 30, {
        timeoutMs: 10_000,
        detail: () => `${owner.lines("consumed").length}`,
      })
      const consumed = new Map(
        owner.lines("consumed").map(([partition, offset, value]) => [`${partition}@${offset}`, value]),
      )
      expect(positions.map((p) => consumed.get(`${p.partition}@${p.offset}`))).toEqual(values)

      // The owner's log, its groups' offsets and its errors reach the client.
      expect((await readAll(client, topic)).map((r) => decode(r.value)).sort()).toEqual([...values].sort())
      expect((await client.watermarks(topic)).reduce((sum, m) => sum + m.high, 0)).toBe(30)
      await waitFor(
        "the owner's group to commit 30 records",
        async () =>
          (await client.committedOffsets("owner-group", topic)).reduce((sum, c) => sum + c.offset, 0) === 30,
        { timeoutMs: 10_000 },
      )
      const missing = await client.partitions("shared.missing").catch((error: unknown) => error)
      expect(missing).toBeInstanceOf(TopicNotFoundError)
      expect(missing).toMatchObject({
        _tag: "TopicNotFoundError",
        details: { topic: "shared.missing" },
        message: new TopicNotFoundError("shared.missing").message,
      })

      // Consumer groups stay in the owner.
      const refused = await client
        .subscribe({ groupId: "elsewhere", topics: [topic], handler: async () => {} })
        .catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(ConsumerGroupsInOwnerError)
      expect((refused as Error).message).toContain(`owned by process ${owner.pid}`)
      expect((refused as Error).message).toContain("--brokers")

      // When the owner dies with a call in flight, the call and every later one fail clearly.
      process.kill(owner.pid, "SIGSTOP")
      const inFlight = client.watermarks(topic).catch((error: unknown) => error)
      await owner.kill()
      const failure = await inFlight
      expect(failure).toBeInstanceOf(BusOwnerGoneError)
      expect(failure).toMatchObject({
        _tag: "BusOwnerGoneError",
        details: { inFlight: true, ownerPid: owner.pid },
      })
      await expect(client.publish([{ topic, key: null, value: encode("late") }])).rejects.toMatchObject({
        _tag: "BusOwnerGoneError",
        details: { inFlight: false },
      })
      await client.close()

      // The dead owner left its LOCK and socket file; the next opener takes the directory over.
      expect(existsSync(join(dataDir, "bus.sock"))).toBe(true)
      expect(Number(readFileSync(join(dataDir, "LOCK"), "utf8"))).toBe(owner.pid)
      const next = await openEmbeddedBusShared({ dataDir, logger: quietLogger })
      expect(next).toBeInstanceOf(EmbeddedBus)
      // What the client was acknowledged is on disk.
      const stored = new Map(
        (await readAll(next, topic)).map((r) => [`${r.partition}@${r.offset}`, decode(r.value)]),
      )
      expect(positions.map((p) => stored.get(`${p.partition}@${p.offset}`))).toEqual(values)
      // And the new owner serves on the replaced socket.
      const again = await clientOf(dataDir)
      expect(again.ownerPid).toBe(process.pid)
      expect((await again.watermarks(topic)).reduce((sum, m) => sum + m.high, 0)).toBe(30)
      await again.close()
      await next.close()
    } finally {
      if (owner.child.exitCode === null && owner.child.signalCode === null) await owner.kill()
    }
  }, 60_000)
})

describe("shared embedded bus: one process", () => {
  it("streams a range longer than a chunk in order, and a read left early leaves the connection usable", async () => {
    const { dataDir, owner } = await ownerOfT(2)
    const total = READ_CHUNK_RECORDS * 2 + 500
    await owner.publish(
      Array.from({ length: total }, (_, i) => ({
        topic: "t",
        key: null,
        partition: i % 2,
        value: encode(`${i}`),
      })),
    )
    const client = await clientOf(dataDir)

    const local = (await readAll(owner, "t")).map((r) => [r.partition, r.offset, decode(r.value)])
    const remote = (await readAll(client, "t")).map((r) => [r.partition, r.offset, decode(r.value)])
    expect(remote).toHaveLength(total)
    expect(remote).toEqual(local)

    let taken = 0
    for await (const _ of client.read({ topic: "t", from: "earliest" })) if (++taken === 10) break
    expect(taken).toBe(10)
    expect(await client.partitions("t")).toBe(2)

    await client.close()
    await owner.close()
  })

  it("re-creates the owner's errors, and checks record shapes before sending", async () => {
    const { dataDir, owner } = await ownerOfT(2)
    const client = await clientOf(dataDir)

    const outOfRange = await client
      .publish([{ topic: "t", key: null, partition: 2, value: encode("x") }])
      .catch((error: unknown) => error)
    expect(outOfRange).toBeInstanceOf(PartitionOutOfRangeError)
    expect(outOfRange).toMatchObject({
      _tag: "PartitionOutOfRangeError",
      details: { topic: "t", partition: 2, partitions: 2 },
    })
    await expect(
      client.publish([{ topic: "t", key: null, timestamp: Number.NaN, value: encode("x") }]),
    ).rejects.toThrow(new RangeError("record timestamp for t must be a finite number"))
    await expect(
      client.publish([{ topic: "t", key: null, partition: Number.NaN, value: encode("x") }]),
    ).rejects.toBeInstanceOf(PartitionOutOfRangeError)
    await expect(client.publish([{ topic: "t", key: null, value: "x" as never }])).rejects.toThrow(
      new TypeError("record value for t must be a Uint8Array"),
    )
    await expect(readAll(client, "nope")).rejects.toBeInstanceOf(TopicNotFoundError)
    await expect(
      (async () => {
        for await (const _ of client.read({ topic: "t", partitions: [5], from: "earliest" })) break
      })(),
    ).rejects.toBeInstanceOf(PartitionOutOfRangeError)
    // Nothing of the refused batches was written.
    expect((await owner.watermarks("t")).map((m) => m.high)).toEqual([0, 0])

    await client.close()
    await expect(client.watermarks("t")).rejects.toMatchObject({ _tag: "BusClosedError" })
    await owner.close()
  })

  it("fails the client clearly once the owner closes, and the directory is then free", async () => {
    const { dataDir, owner } = await ownerOfT(1)
    const client = await clientOf(dataDir)
    await owner.close()
    expect(existsSync(join(dataDir, "bus.sock"))).toBe(false)
    await expect(client.watermarks("t")).rejects.toBeInstanceOf(BusOwnerGoneError)
    await client.close()

    const next = await openEmbeddedBusShared({ dataDir, logger: quietLogger })
    expect(next).toBeInstanceOf(EmbeddedBus)
    await next.close()
  })

  it("with drainClientsMs, a closing owner serves a connected client until it is done, then closes", async () => {
    const { dataDir, owner } = await ownerOfT(1, { drainClientsMs: 30_000 })
    const client = await clientOf(dataDir)
    let closed = false
    const closing = owner.close().then(() => {
      closed = true
    })
    await new Promise((resolve) => setTimeout(resolve, 200))
    // The owner is closing, yet the client's work still goes through.
    expect(closed).toBe(false)
    expect(await client.watermarks("t")).toEqual([{ partition: 0, low: 0, high: 0 }])
    await client.close()
    await closing
    expect(closed).toBe(true)
  })

  it("creates its socket owner-only whatever the umask: whoever connects can publish to every topic", async () => {
    const dataDir = await freshDir()
    const before = process.umask(0o000)
    let owner: Awaited<ReturnType<typeof openEmbeddedBus>> | undefined
    try {
      owner = await openEmbeddedBus({ dataDir, logger: quietLogger })
    } finally {
      process.umask(before)
    }
    try {
      expect(statSync(join(dataDir, "bus.sock")).mode & 0o777).toBe(0o600)
      // The mask is restored: files created afterwards follow the process's own umask again.
      expect(process.umask()).toBe(before)
    } finally {
      await owner.close()
    }
  })

  it("serves from the temporary directory when the data directory's socket path is too long", async () => {
    let dataDir = await freshDir()
    while (Buffer.byteLength(join(dataDir, "bus.sock")) <= MAX_SOCKET_PATH_BYTES) {
      dataDir = join(dataDir, "a-rather-long-directory-name")
    }
    mkdirSync(dataDir, { recursive: true })
    const owner = await openEmbeddedBus({ dataDir, logger: quietLogger })
    await owner.ensureTopics([topicSpec("t", 1)])
    const pointed = readFileSync(join(dataDir, "bus.sock.path"), "utf8").trim()
    expect(pointed.startsWith(tmpdir())).toBe(true)
    expect(existsSync(join(dataDir, "bus.sock"))).toBe(false)

    const client = await clientOf(dataDir)
    expect(client.socketPath).toBe(pointed)
    await client.publish([{ topic: "t", key: null, value: encode("far") }])
    expect((await readAll(owner, "t")).map((r) => decode(r.value))).toEqual(["far"])
    await client.close()
    await owner.close()
    expect(existsSync(join(dataDir, "bus.sock.path"))).toBe(false)
    expect(existsSync(pointed)).toBe(false)
  })

  it("replaces a stale socket file and pointer left by an owner that is gone", async () => {
    const dataDir = await freshDir()
    // A file where the socket goes, a pointer to nowhere, and a LOCK no live process holds.
    writeFileSync(join(dataDir, "bus.sock"), "")
    writeFileSync(join(dataDir, "bus.sock.path"), join(dataDir, "gone.sock"))
    writeFileSync(join(dataDir, "LOCK"), "2147483646\n")
    const owner = await openEmbeddedBusShared({ dataDir, logger: quietLogger })
    expect(owner).toBeInstanceOf(EmbeddedBus)
    expect(existsSync(join(dataDir, "bus.sock.path"))).toBe(false)
    const client = await clientOf(dataDir)
    expect(await client.ensureTopics([topicSpec("t", 1)])).toEqual({ created: ["t"], existing: [] })
    await client.close()
    await owner.close()
  })

  it("says so when a live owner does not serve its directory", async () => {
    const dataDir = await freshDir()
    const owner = await openEmbeddedBus({ dataDir, logger: quietLogger, serve: false })
    const failure = await clientOf(dataDir, 200).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(BusOwnerUnreachableError)
    expect(failure).toMatchObject({ details: { ownerPid: process.pid, reason: "ENOENT" } })
    await owner.close()
  })
})
