/**
 * SIGTERM on a consuming process: the record in flight finishes, its offset
 * is committed, the process exits 0 — checked from outside with the admin
 * client's committed offsets.
 */
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Kafka, logLevel } from "kafkajs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { BusPort } from "../port.ts"
import { openKafkaBus } from "./bus.ts"
import { kafkaBrokers } from "./fixtures/brokers.ts"
import { kafkaSecurityFromEnv, toKafkaJS } from "./security.ts"

const root = fileURLToPath(new URL("../..", import.meta.url))
const child = fileURLToPath(new URL("./fixtures/shutdown-child.ts", import.meta.url))

let bus: BusPort
beforeAll(async () => {
  bus = await openKafkaBus({ brokers: kafkaBrokers(), logLevel: "error" })
})
afterAll(async () => {
  await bus?.close()
})

describe("SIGTERM", () => {
  it("lets the handler in flight finish, commits its offset, exits 0", async () => {
    const topic = `chorus-test-sigterm-${randomUUID()}`
    const group = `sigterm-${randomUUID()}`
    await bus.ensureTopics([{ name: topic, partitions: 1, cleanupPolicy: "delete", retentionMs: -1 }])
    const value = new TextEncoder().encode("work")
    await bus.publish([0, 1, 2].map(() => ({ topic, key: "k", value })))

    const process_ = spawn(`${root}node_modules/.bin/node`, [child], {
      cwd: root,
      env: {
        ...process.env,
        KAFKA_BROKERS: kafkaBrokers().join(","),
        TOPIC: topic,
        GROUP: group,
        HANDLER_MS: "1500",
      },
      stdio: ["ignore", "pipe", "pipe"],
    })
    const events: Array<{ event: string; offset?: number }> = []
    let stderr = ""
    process_.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => process_.once("exit", (code) => resolve(code)))
    const lines = createInterface({ input: process_.stdout })
    const sentAt = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the child never handled a record:\n${stderr}`)),
        60_000,
      )
      lines.on("line", (line) => {
        const event = JSON.parse(line) as { event: string; offset?: number }
        events.push(event)
        if (event.event === "handling" && event.offset === 0) {
          clearTimeout(timer)
          process_.kill("SIGTERM")
          resolve(Date.now())
        }
      })
    })

    const timeout = setTimeout(() => process_.kill("SIGKILL"), 30_000)
    const code = await exited
    clearTimeout(timeout)
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) })
    // The signal arrived mid-handler, yet the handler finished...
    expect(events.map((event) => `${event.event}${event.offset ?? ""}`)).toEqual([
      "ready",
      "handling0",
      "closing",
      "handled0",
      "closed",
    ])
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1000)
    // ...and its offset (and only its) was committed before the exit.
    const admin = new Kafka({
      brokers: kafkaBrokers(),
      logLevel: logLevel.NOTHING,
      ...toKafkaJS(kafkaSecurityFromEnv()),
    }).admin()
    await admin.connect()
    try {
      const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] })
      expect(offsets[0]?.partitions).toEqual([{ partition: 0, offset: "1", metadata: null }])
    } finally {
      await admin.disconnect()
    }
  })
})
