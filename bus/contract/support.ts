/**
 * Helpers for the contract suite: bounded polling, gates, unique names, and
 * the per-test bookkeeping of open buses.
 *
 * Invariant: nothing here waits a fixed time for correctness; every wait is a
 * poll for a condition with a deadline, failing with what it waited for.
 *
 * @module
 */
import { randomBytes } from "node:crypto"
import type { BusPort, BusRecord, TopicSpec } from "../port.ts"
import type { BusHarness } from "./harness.ts"

/** The test was waiting for something that did not happen in time. */
export class WaitTimeoutError extends Error {
  readonly _tag = "WaitTimeoutError"
  constructor(what: string, timeoutMs: number, detail: string) {
    super(
      `timed out after ${timeoutMs} ms waiting for ${what}${detail ? ` (last seen: ${detail})` : ""}. ` +
        "If the adapter is only slow here, raise the harness's timeouts.waitMs.",
    )
    this.name = "WaitTimeoutError"
  }
}

/**
 * Polls `predicate` until it holds or the deadline passes.
 *
 * @example
 * ```ts
 * await waitFor("three records", () => seen.length >= 3, { timeoutMs: 10_000, detail: () => `${seen.length}` })
 * ```
 */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  options: { readonly timeoutMs: number; readonly detail?: () => string; readonly intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    if (await predicate()) return
    if (Date.now() > deadline) throw new WaitTimeoutError(what, options.timeoutMs, options.detail?.() ?? "")
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20))
  }
}

/** A promise the test resolves by hand: holds a handler in flight. */
export interface Gate {
  readonly promise: Promise<void>
  open(): void
}

/**
 * A gate a handler can wait on.
 *
 * @example
 * ```ts
 * const gate = makeGate()
 * handler = async () => gate.promise // in flight until gate.open()
 * ```
 */
export function makeGate(): Gate {
  const { promise, resolve } = Promise.withResolvers<void>()
  return { promise, open: () => resolve() }
}

/**
 * A name no other test or run uses: `contract.<label>.<time><random>`.
 *
 * @example
 * ```ts
 * uniqueName("seek") // => "contract.seek.m3x9k2a1b2c3d4"
 * uniqueName("seek", "-") // => "contract-seek-m3x9k2a1b2c3d4" (a group id)
 * ```
 */
export function uniqueName(label: string, separator = "."): string {
  return ["contract", label, `${Date.now().toString(36)}${randomBytes(4).toString("hex")}`].join(separator)
}

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text)
export const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/**
 * A topic spec for tests: kept forever, delete policy.
 *
 * @example
 * ```ts
 * await bus.ensureTopics([topicSpec(uniqueName("t"), 3)])
 * ```
 */
export const topicSpec = (name: string, partitions: number): TopicSpec => ({
  name,
  partitions,
  cleanupPolicy: "delete",
  retentionMs: -1,
})

/**
 * Reads a range into an array.
 *
 * @example
 * ```ts
 * const records = await collect(bus.read({ topic, from: "earliest" }))
 * ```
 */
export async function collect(records: AsyncIterable<BusRecord>): Promise<BusRecord[]> {
  const out: BusRecord[] = []
  for await (const record of records) out.push(record)
  return out
}

/**
 * Offsets by partition, for comparisons that ignore order.
 *
 * @example
 * ```ts
 * byPartition(await bus.committedOffsets(group, topic)) // => { 0: 12, 1: 7 }
 * ```
 */
export function byPartition(
  entries: ReadonlyArray<{ readonly partition: number; readonly offset: number }>,
): Record<number, number> {
  return Object.fromEntries(entries.map(({ partition, offset }) => [partition, offset]))
}

/** What every contract test gets: the harness wrapped with bookkeeping. */
export interface ContractContext {
  readonly waitMs: number
  readonly testMs: number
  /** A fresh bus; closed after the test unless crashed or closed by the test. */
  open(): Promise<BusPort>
  reopen(bus: BusPort): Promise<BusPort>
  crash(bus: BusPort): Promise<void>
  close(bus: BusPort): Promise<void>
  /** Creates a fresh uniquely named topic and returns its name. */
  topic(bus: BusPort, label: string, partitions: number): Promise<string>
  /** A fresh unique consumer group id. */
  group(label: string): string
  /** `waitFor` with the harness's wait deadline. */
  waitFor(what: string, predicate: () => boolean | Promise<boolean>, detail?: () => string): Promise<void>
  /** Closes whatever the last test left open. */
  cleanup(): Promise<void>
}

/**
 * Wraps a harness so every bus a test opens is closed after it.
 *
 * @example
 * ```ts
 * const ctx = contractContext(harness)
 * afterEach(() => ctx.cleanup())
 * ```
 */
export function contractContext(harness: BusHarness): ContractContext {
  const waitMs = harness.timeouts?.waitMs ?? 20_000
  const testMs = harness.timeouts?.testMs ?? 60_000
  const live = new Set<BusPort>()
  const track = (bus: BusPort) => {
    live.add(bus)
    return bus
  }
  return {
    waitMs,
    testMs,
    open: async () => track(await harness.open()),
    reopen: async (bus) => track(await harness.reopen(bus)),
    crash: async (bus) => {
      live.delete(bus)
      await harness.crash(bus)
    },
    close: async (bus) => {
      live.delete(bus)
      await bus.close()
    },
    topic: async (bus, label, partitions) => {
      const name = uniqueName(label)
      const result = await bus.ensureTopics([topicSpec(name, partitions)])
      if (!result.created.includes(name)) throw new Error(`ensureTopics did not create ${name}`)
      return name
    },
    group: (label) => uniqueName(label, "-"),
    waitFor: (what, predicate, detail) =>
      waitFor(what, predicate, { timeoutMs: waitMs, ...(detail === undefined ? {} : { detail }) }),
    cleanup: async () => {
      const buses = [...live]
      live.clear()
      await Promise.all(buses.map((bus) => bus.close()))
    },
  }
}
