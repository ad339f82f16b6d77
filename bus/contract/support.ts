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
import { describe, it } from "vitest"
import { ChorusError } from "../../errors/index.ts"
import type { BusPort, BusRecord, PartitionOffset, Subscription, TopicSpec } from "../port.ts"
import type { BusHarness } from "./harness.ts"

/** The test was waiting for something that did not happen in time. */
export class WaitTimeoutError extends ChorusError {
  override readonly name = "WaitTimeoutError"
  constructor(what: string, timeoutMs: number, detail: string) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? ` (last seen: ${detail})` : ""}`, {
      details: { what, timeoutMs },
      hint: "If the adapter is only slow here, raise the harness's timeouts.waitMs.",
    })
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
 * Reads a range (or any async iterable) into an array.
 *
 * @example
 * ```ts
 * const records = await collect(bus.read({ topic, from: "earliest" }))
 * ```
 */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

/**
 * Reads a whole topic, every partition from its earliest record.
 *
 * @example
 * ```ts
 * const records = await readAll(bus, topic)
 * ```
 */
export const readAll = (bus: BusPort, topic: string): Promise<BusRecord[]> =>
  collect(bus.read({ topic, from: "earliest" }))

/**
 * Offsets by partition, for comparisons that ignore order.
 *
 * @example
 * ```ts
 * byPartition(await bus.committedOffsets(group, topic)) // => { 0: 12, 1: 7 }
 * ```
 */
export function byPartition(entries: ReadonlyArray<PartitionOffset>): Record<number, number> {
  return Object.fromEntries(entries.map(({ partition, offset }) => [partition, offset]))
}

/**
 * Subscribes a member of `groupId` to `topic` that only records what it is
 * handed, in the order it was handed.
 *
 * @example
 * ```ts
 * const { records } = await recordAll(bus, groupId, topic)
 * await ctx.waitFor("three records", () => records.length >= 3)
 * ```
 */
export async function recordAll(
  bus: BusPort,
  groupId: string,
  topic: string,
): Promise<{ readonly records: BusRecord[]; readonly subscription: Subscription }> {
  const records: BusRecord[] = []
  const subscription = await bus.subscribe({
    groupId,
    topics: [topic],
    handler: async (record) => {
      records.push(record)
    },
  })
  return { records, subscription }
}

/** What most contract tests start from: a bus, a topic of their own on it, and a group id of their own. */
export interface Fresh {
  readonly bus: BusPort
  readonly topic: string
  readonly groupId: string
}

/** What every contract test gets: the harness wrapped with bookkeeping. */
export interface ContractContext {
  readonly waitMs: number
  readonly testMs: number
  /** A fresh bus; closed after the test unless crashed or closed by the test. */
  open(): Promise<BusPort>
  /** A fresh bus with a fresh topic and group id, both named after `label`. */
  fresh(label: string, partitions: number): Promise<Fresh>
  reopen(bus: BusPort): Promise<BusPort>
  crash(bus: BusPort): Promise<void>
  close(bus: BusPort): Promise<void>
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
    fresh: async (label, partitions) => {
      const bus = track(await harness.open())
      const topic = uniqueName(label)
      const result = await bus.ensureTopics([topicSpec(topic, partitions)])
      if (!result.created.includes(topic)) throw new Error(`ensureTopics did not create ${topic}`)
      return { bus, topic, groupId: uniqueName(label, "-") }
    },
    reopen: async (bus) => track(await harness.reopen(bus)),
    crash: async (bus) => {
      live.delete(bus)
      await harness.crash(bus)
    },
    close: async (bus) => {
      live.delete(bus)
      await bus.close()
    },
    waitFor: (what, predicate, detail) =>
      waitFor(what, predicate, { timeoutMs: waitMs, ...(detail === undefined ? {} : { detail }) }),
    cleanup: async () => {
      const buses = [...live]
      live.clear()
      await Promise.all(buses.map((bus) => bus.close()))
    },
  }
}

/** One contract test: what it does with the context it is given. */
export type ContractTest = (ctx: ContractContext) => Promise<void>

/**
 * One part of the contract: a `describe` block of its tests, each bounded by
 * the harness's `testMs`. The result registers them for a context.
 *
 * @example
 * ```ts
 * export const seekContract = contractPart("seek", {
 *   "seeks by offset": async (ctx) => { const { bus, topic } = await ctx.fresh("seek", 1) … },
 * })
 * seekContract(contractContext(harness))
 * ```
 */
export const contractPart =
  (title: string, tests: Readonly<Record<string, ContractTest>>) =>
  (ctx: ContractContext): void => {
    describe(title, () => {
      for (const [name, test] of Object.entries(tests)) it(name, () => test(ctx), ctx.testMs)
    })
  }
