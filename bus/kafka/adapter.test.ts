/**
 * Kafka adapter tests that need no broker: error translation (including a
 * bus pointed at a port nobody listens on), produce-response offsets,
 * position resolution and the shutdown handler.
 */
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from "kafkajs"
import { describe, expect, it } from "vitest"
import { closedPort } from "../../test/fixtures/ports.ts"
import type { OutgoingRecord } from "../port.ts"
import { openKafkaBus } from "./bus.ts"
import {
  KafkaConfigError,
  KafkaOperationError,
  KafkaTopicNotFoundError,
  KafkaUnreachableError,
  translateKafkaError,
} from "./errors.ts"
import { resolvePositions } from "./positions.ts"
import { positionsFromResponse } from "./records.ts"
import { installShutdownHandlers } from "./shutdown.ts"

describe("openKafkaBus without a broker", () => {
  it("fails fast with KafkaUnreachableError naming the brokers and the way out", async () => {
    const broker = `127.0.0.1:${await closedPort()}`
    const started = Date.now()
    const error = await openKafkaBus({ brokers: [broker], connectTimeoutMs: 3000, logLevel: "nothing" }).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(KafkaUnreachableError)
    const unreachable = error as KafkaUnreachableError
    expect(unreachable.code).toBe("KAFKA_UNREACHABLE")
    expect(unreachable.message).toContain(broker)
    expect(unreachable.hint).toContain("scripts/kafka-local start")
    expect(unreachable.hint).toContain("KAFKA_BROKERS")
    expect(unreachable.details).toMatchObject({ brokers: [broker], operation: "connect" })
    expect(Date.now() - started).toBeLessThan(6000)
  })

  it("rejects bad options before connecting", async () => {
    await expect(openKafkaBus({ brokers: [] })).rejects.toBeInstanceOf(KafkaConfigError)
    await expect(openKafkaBus({ brokers: ["localhost"] })).rejects.toThrow(/host:port/)
    await expect(openKafkaBus({ brokers: ["a b:1"] })).rejects.toBeInstanceOf(KafkaConfigError)
  })
})

describe("translateKafkaError", () => {
  const context = { operation: "publish", brokers: ["b:9092"], topic: "t" }
  // kafkajs builds protocol errors from its error-code table at runtime; its
  // typings only admit a message.
  const translateProtocolError = (type: string, code: number, message: string) =>
    translateKafkaError(
      new KafkaJSProtocolError({ type, code, retriable: true, message } as unknown as Error),
      context,
    )

  it("looks through retry wrappers to a connection failure", () => {
    const root = new KafkaJSConnectionError("Connection error: connect ECONNREFUSED 127.0.0.1:9092")
    const wrapped = new KafkaJSNumberOfRetriesExceeded(root, { retryCount: 5, retryTime: 1000 })
    const error = translateKafkaError(wrapped, context)
    expect(error).toBeInstanceOf(KafkaUnreachableError)
    expect(error.cause).toBe(wrapped)
  })

  it("names a missing topic", () => {
    const error = translateProtocolError(
      "UNKNOWN_TOPIC_OR_PARTITION",
      3,
      "This server does not host this topic-partition",
    )
    expect(error).toBeInstanceOf(KafkaTopicNotFoundError)
    expect(error.shortMessage).toBe("topic t does not exist")
    expect(error.hint).toContain("chorus topics create")
    expect(error.message).toBe(`topic t does not exist\n${error.hint}`)
  })

  it.each([
    ["INVALID_REPLICATION_FACTOR", 38, "the replication factor is larger", "lower the replication factor"],
    ["SECURITY_DISABLED", 54, "the brokers have no authorizer", "authorizer.class.name"],
  ])(
    "given the broker's %s, when translated, then says what went wrong and what to do",
    (type, code, reason, hint) => {
      const error = translateProtocolError(type, code, "kafkajs's own wording")
      expect(error).toBeInstanceOf(KafkaOperationError)
      expect(error.shortMessage).toContain(`publish failed: ${reason}`)
      expect(error.hint).toContain(hint)
      expect(error.details).toMatchObject({ kafkaError: type, topic: "t" })
    },
  )

  it("keeps the broker's error code for anything else", () => {
    const error = translateProtocolError(
      "NOT_ENOUGH_REPLICAS",
      19,
      "Messages are rejected since there are fewer in-sync replicas than required",
    )
    expect(error).toBeInstanceOf(KafkaOperationError)
    expect(error.details).toMatchObject({
      kafkaError: "NOT_ENOUGH_REPLICAS",
      topic: "t",
      operation: "publish",
    })
    expect(error.message).toMatch(/^publish failed: /)
  })

  it("passes adapter errors through and wraps non-errors", () => {
    const own = new KafkaTopicNotFoundError("x", "read")
    expect(translateKafkaError(own, context)).toBe(own)
    expect(translateKafkaError("weird", context).shortMessage).toBe("publish failed: weird")
  })
})

describe("positionsFromResponse", () => {
  it("numbers several records of one partition from the batch's base offset, in input order", () => {
    const records = [{ topic: "a" }, { topic: "b" }, { topic: "a" }, { topic: "a" }, { topic: "a" }] as const
    const positions = positionsFromResponse(
      records as unknown as OutgoingRecord[],
      [0, 0, 1, 0, 1],
      [
        { topicName: "a", partition: 0, errorCode: 0, baseOffset: "41" },
        { topicName: "a", partition: 1, errorCode: 0, baseOffset: "7" },
        { topicName: "b", partition: 0, errorCode: 0, baseOffset: "0" },
      ],
    )
    expect(positions).toEqual([
      { topic: "a", partition: 0, offset: 41 },
      { topic: "b", partition: 0, offset: 0 },
      { topic: "a", partition: 1, offset: 7 },
      { topic: "a", partition: 0, offset: 42 },
      { topic: "a", partition: 1, offset: 8 },
    ])
  })

  it("refuses a response missing a partition it sent to", () => {
    expect(() => positionsFromResponse([{ topic: "a" }] as OutgoingRecord[], [3], [])).toThrow(/a\/3/)
  })
})

describe("resolvePositions", () => {
  const lookups = {
    watermarks: async () => [
      { partition: 0, low: 5, high: 10 },
      { partition: 1, low: 0, high: 0 },
    ],
    offsetsForTimestamp: async () => [
      { partition: 0, offset: 7 },
      { partition: 1, offset: 0 },
    ],
  }

  it("clamps into the watermarks and resolves every kind of position", async () => {
    const at = async (position: Parameters<typeof resolvePositions>[3]) =>
      Object.fromEntries(await resolvePositions(lookups, "t", [0, 1], position))
    expect(await at("earliest")).toEqual({ 0: 5, 1: 0 })
    expect(await at("latest")).toEqual({ 0: 10, 1: 0 })
    expect(await at({ offset: 2 })).toEqual({ 0: 5, 1: 0 })
    expect(await at({ offset: 99 })).toEqual({ 0: 10, 1: 0 })
    expect(await at({ timestamp: 1 })).toEqual({ 0: 7, 1: 0 })
  })

  it("rejects unknown partitions and garbage positions", async () => {
    await expect(resolvePositions(lookups, "t", [2], "earliest")).rejects.toBeInstanceOf(KafkaConfigError)
    await expect(resolvePositions(lookups, "t", [0], { offset: -1 })).rejects.toBeInstanceOf(KafkaConfigError)
    await expect(resolvePositions(lookups, "t", [0], { timestamp: Number.NaN })).rejects.toBeInstanceOf(
      KafkaConfigError,
    )
  })
})

describe("installShutdownHandlers", () => {
  const signal = "SIGUSR2" as const

  it("closes the bus, then exits 0; a second signal exits at once", async () => {
    const events: string[] = []
    let release: () => void = () => {}
    const closing = new Promise<void>((resolve) => {
      release = resolve
    })
    const exited = new Promise<number>((resolve) => {
      const uninstall = installShutdownHandlers(
        {
          close: async () => {
            events.push("close")
            await closing
          },
        },
        {
          signals: [signal],
          exit: (code) => {
            events.push(`exit ${code}`)
            if (code !== 130) {
              uninstall()
              resolve(code)
            }
          },
        },
      )
    })
    process.emit(signal)
    expect(events).toEqual(["close"])
    process.emit(signal)
    expect(events).toEqual(["close", "exit 130"])
    release()
    expect(await exited).toBe(0)
    expect(events).toEqual(["close", "exit 130", "exit 0"])
  })

  it("exits 1 when closing outlives its bound", async () => {
    const code = await new Promise<number>((resolve) => {
      const uninstall = installShutdownHandlers(
        { close: () => new Promise<void>(() => {}) },
        {
          signals: [signal],
          timeoutMs: 50,
          exit: (exitCode) => {
            uninstall()
            resolve(exitCode)
          },
        },
      )
      process.emit(signal)
    })
    expect(code).toBe(1)
  })
})
