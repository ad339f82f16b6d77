/**
 * A zombie is fenced: a member whose process is paused past its session
 * (SIGSTOP, as a long GC pause or a frozen VM) loses its partitions to a
 * standby, and when it runs again its first `fence()` says so, before it
 * could act on its stale view. Checked with a real paused process, and the
 * group coordinator as the judge.
 */
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { waitFor } from "../contract/support.ts"
import type { BusPort, Subscription } from "../port.ts"
import { openKafkaBus } from "./bus.ts"
import { kafkaBrokers } from "./fixtures/brokers.ts"

const root = fileURLToPath(new URL("../..", import.meta.url))
const child = fileURLToPath(new URL("./fixtures/fence-child.ts", import.meta.url))
const SESSION_TIMEOUT_MS = 6_000
const PARTITIONS = 3

let bus: BusPort
beforeAll(async () => {
  bus = await openKafkaBus({
    brokers: kafkaBrokers(),
    logLevel: "error",
    consumer: { sessionTimeoutMs: SESSION_TIMEOUT_MS, heartbeatIntervalMs: 500 },
  })
})
afterAll(async () => {
  await bus?.close()
})

describe("fencing a paused member", () => {
  it("given the active member paused past its session, when it runs again, then its first fence refuses it: the standby holds the partitions", async () => {
    const topic = `chorus-test-fence-${randomUUID()}`
    const groupId = `fence-${randomUUID()}`
    await bus.ensureTopics([
      { name: topic, partitions: PARTITIONS, cleanupPolicy: "delete", retentionMs: -1 },
    ])
    const member = spawn(`${root}node_modules/.bin/node`, [child], {
      cwd: root,
      env: {
        ...process.env,
        KAFKA_BROKERS: kafkaBrokers().join(","),
        TOPIC: topic,
        GROUP: groupId,
        SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      },
      stdio: ["pipe", "pipe", "pipe"],
    })
    let stderr = ""
    member.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const events: Array<{ event: string; ok?: boolean; name?: string; partitions?: number }> = []
    createInterface({ input: member.stdout }).on("line", (line) => events.push(JSON.parse(line)))
    const fences = () => events.filter((e) => e.event === "fence")
    const askFence = async () => {
      const before = fences().length
      member.stdin.write("fence\n")
      await waitFor("the member's fence answer", () => fences().length > before, {
        timeoutMs: 10_000,
        detail: () => stderr,
      })
      return fences().at(-1)!
    }
    let standby: Subscription | undefined
    try {
      // Given the child member holding every partition, and a standby member here
      await waitFor("the child to hold the partitions", () => events.some((e) => (e.partitions ?? 0) > 0), {
        timeoutMs: 60_000,
        detail: () => `${JSON.stringify(events)}\n${stderr}`,
      })
      standby = await bus.subscribe({
        groupId,
        topics: [topic],
        assignment: "single",
        handler: async () => {},
      })
      await waitFor("the group to settle with the child active", async () => (await askFence()).ok === true, {
        timeoutMs: 30_000,
      })
      await expect(standby.fence()).rejects.toMatchObject({ name: "MemberFencedError" })

      // When the child is paused past its session, the standby takes every partition
      member.kill("SIGSTOP")
      await waitFor(
        "the standby to hold every partition and pass its fence",
        async () =>
          standby!.assignment().length === PARTITIONS &&
          (await standby!.fence().then(
            () => true,
            () => false,
          )),
        { timeoutMs: SESSION_TIMEOUT_MS * 4 },
      )

      // Then the child, running again with its stale view, is refused by its first fence
      member.kill("SIGCONT")
      const first = await askFence()
      expect(first).toMatchObject({ ok: false, name: "MemberFencedError" })
    } finally {
      member.kill("SIGCONT")
      member.stdin.end()
      member.kill("SIGTERM")
      await standby?.stop()
    }
  }, 120_000)
})
