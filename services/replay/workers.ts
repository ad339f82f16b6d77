/**
 * Replay worker threads: where a replay checks, decodes and folds, when it
 * is given some (`replay({ …, workers })`). The replaying thread keeps the
 * bus: it reads the raw records, hands them to the threads, and publishes
 * the shadow records they send back in the order a replay in one thread
 * publishes them, so the shadows are the same record for record.
 *
 * Each thread builds the cores from the config the pool was started with
 * (`replayTargets`), and the producer policy from it when `authenticate` is
 * set (as `trustedBus` does from the same config): a replay refuses a pool
 * whose authentication differs from its bus's, and its targets must be the
 * config's (a core built otherwise, say with another chunk size, is replayed
 * in one thread).
 *
 * Units run on the thread with the least queued work, largest first, and a
 * thread is handed its next unit while it folds the current one, so the
 * reading here and the folding there overlap. A topic several replays read
 * whole (`chorus.lane.reads`) is checked once per pool and bus.
 *
 * @module
 */
import { availableParallelism } from "node:os"
import { Worker } from "node:worker_threads"
import { Schema } from "effect"
import type { VerifiedSignatures } from "../../bus/authentication/verified-signatures.ts"
import type { BusPort, BusRecord } from "../../bus/port.ts"
import { ChorusError } from "../../errors/index.ts"
import { ChorusConfig } from "../config/index.ts"
import type { EncodedOutput, UnitRange, UnitResult } from "./fold-unit.ts"

/** What a thread is started with. */
export interface WorkerData {
  /** The config, encoded (`Schema.encodeSync(ChorusConfig)`). */
  readonly config: unknown
  readonly authenticate: boolean
  /** Signatures verified before (`VerifiedSignatures.shared` and its key), looked up, never written, there. */
  readonly verified?: { readonly table: SharedArrayBuffer; readonly key: Uint8Array }
}

/** A record's check, as a thread answers it (the envelope stays there). */
export type CheckAnswer =
  | {
      readonly ok: true
      readonly service: string
      readonly instance: string
      readonly causationId: string | null
    }
  | { readonly ok: false; readonly error: string }

/** What a thread's checks did with the signatures verified before, since its last answer. */
export interface SignaturesChecked {
  /** Digests of the signatures the thread verified now (16 bytes each), for the main thread to remember. */
  readonly verified: Uint8Array
  /** Signatures the thread took from the table without verifying them. */
  readonly remembered: number
}

/** Messages to a thread. */
export type ToWorker =
  | { readonly kind: "check"; readonly job: number; readonly records: ReadonlyArray<BusRecord> }
  | { readonly kind: "reads"; readonly key: string; readonly records: ReadonlyArray<BusRecord> }
  | { readonly kind: "forget"; readonly key: string }
  | {
      readonly kind: "unit"
      readonly job: number
      readonly service: string
      readonly instance: string
      readonly readsKey: string | null
      readonly exclude: ReadonlyArray<string>
      readonly ranges: ReadonlyArray<UnitRange>
    }
  | {
      readonly kind: "records"
      readonly job: number
      readonly range: number
      readonly records: ReadonlyArray<BusRecord>
    }
  | { readonly kind: "fold"; readonly job: number }

/** Messages from a thread. */
export type FromWorker =
  | ({
      readonly kind: "checked"
      readonly job: number
      readonly answers: ReadonlyArray<CheckAnswer>
    } & SignaturesChecked)
  | { readonly kind: "outputs"; readonly job: number; readonly outputs: ReadonlyArray<EncodedOutput> }
  | ({ readonly kind: "done"; readonly job: number; readonly result: UnitResult } & SignaturesChecked)
  | { readonly kind: "failed"; readonly job: number; readonly message: string; readonly stack: string }

/** A replay thread failed: a bug, or a config the threads cannot load. */
export class ReplayWorkerError extends ChorusError {
  override readonly name = "ReplayWorkerError"
}

/** One unit as the replaying thread hands it over. */
export interface UnitTask {
  readonly service: string
  readonly instance: string
  /** The instance's recorded reads (checked), under a key unique to the replay; null when it has none. */
  readonly reads: { readonly key: string; readonly records: ReadonlyArray<BusRecord> } | null
  /** Causes whose reads an earlier partition already took (see `replay.ts`). */
  readonly exclude: ReadonlyArray<string>
  readonly ranges: ReadonlyArray<UnitRange>
  /** What it costs, in input records weighed by `unitCost`: the costlier go first. */
  readonly size: number
  /** Reads the unit's records, handing them over range by range, in offset order. */
  readonly feed: (post: (range: number, records: ReadonlyArray<BusRecord>) => void) => Promise<void>
  /** Called with the unit's outputs, in order, as they come. */
  readonly onOutputs: (outputs: ReadonlyArray<EncodedOutput>) => void
}

interface Thread {
  readonly worker: Worker
  /** Records handed over and not folded yet. */
  queued: number
  /** Units handed over and not done. */
  units: number
  readonly reads: Set<string>
}

interface Pending {
  readonly thread: Thread
  readonly size: number
  readonly onOutputs?: (outputs: ReadonlyArray<EncodedOutput>) => void
  readonly resolve: (value: unknown) => void
  readonly reject: (error: Error) => void
}

/**
 * What one input record of a topic costs a replay, relative to an observation's (bench:replay, a devnet log):
 * a watcher's range read carries every message of its range, and each becomes an output.
 */
const RECORD_COST: Readonly<Record<string, number>> = { "chorus.watcher.reads": 12 }

/**
 * A unit's cost, for the order units go to threads in: its records, weighed by topic.
 *
 * @example
 * ```ts
 * unitCost([{ topic: "chorus.messages.observed", low: 0, to: 100 }]) // 100
 * ```
 */
export const unitCost = (ranges: ReadonlyArray<{ topic: string; low: number; to: number }>): number =>
  ranges.reduce((n, r) => n + Math.max(0, r.to - r.low) * (RECORD_COST[r.topic] ?? 1), 0)

/** Units a thread holds at once: one folding, one being read for it. */
const UNITS_PER_THREAD = 2
/** Records per message to a thread. */
const RECORDS_PER_MESSAGE = 512

/**
 * Threads a replay folds in.
 *
 * @example
 * ```ts
 * const workers = await ReplayWorkers.start({ config, authenticate: true })
 * try {
 *   await Promise.all(services.map(async (s) => replay({ bus, targets: await replayTargets(s, config), from, suffix: s, workers })))
 * } finally {
 *   await workers.close()
 * }
 * ```
 */
export class ReplayWorkers {
  readonly threads: number
  /** Whether the threads hold records to the config's producer policy. */
  readonly authenticates: boolean
  readonly config: ChorusConfig
  readonly #threads: Thread[]
  readonly #pending = new Map<number, Pending>()
  readonly #queue: UnitTask[] = []
  readonly #waiting = new Map<UnitTask, { resolve: (r: UnitResult) => void; reject: (e: Error) => void }>()
  readonly #checked = new WeakMap<BusPort, Map<string, Promise<CheckedTopic>>>()
  readonly #signatures: VerifiedSignatures | undefined
  readonly #verifiedNow: Uint8Array[] = []
  #remembered = 0
  #next = 0
  #failed: Error | undefined
  #closed = false

  private constructor(
    config: ChorusConfig,
    authenticate: boolean,
    threads: Thread[],
    signatures: VerifiedSignatures | undefined,
  ) {
    this.config = config
    this.authenticates = authenticate
    this.#signatures = signatures
    this.#threads = threads
    this.threads = threads.length
    for (const thread of threads) {
      thread.worker.on("message", (message: FromWorker) => this.#answer(message))
      thread.worker.on("error", (error) => this.#fail(error))
      thread.worker.on("exit", (code) => {
        if (!this.#closed) this.#fail(new ReplayWorkerError(`a replay thread stopped (exit code ${code})`))
      })
    }
  }

  /**
   * Starts `threads` threads (default: one per core).
   *
   * @example
   * ```ts
   * const workers = await ReplayWorkers.start({ config: loadConfig("config.json"), authenticate: true, threads: 2 })
   * ```
   */
  static async start(options: {
    readonly config: ChorusConfig
    /** Hold records to the config's producer policy: set it when the replayed bus is `trustedBus` over this config. */
    readonly authenticate: boolean
    readonly threads?: number
    /** Signatures verified before: the threads take them without verifying; those they verify are added on close. */
    readonly signatures?: VerifiedSignatures
  }): Promise<ReplayWorkers> {
    const count = Math.max(1, options.threads ?? availableParallelism())
    const workerData: WorkerData = {
      config: Schema.encodeSync(ChorusConfig)(options.config),
      authenticate: options.authenticate,
      ...(options.signatures === undefined
        ? {}
        : { verified: { table: options.signatures.shared, key: options.signatures.key } }),
    }
    const threads = Array.from({ length: count }, () => ({
      worker: new Worker(new URL("./replay-worker.ts", import.meta.url), { workerData }),
      queued: 0,
      units: 0,
      reads: new Set<string>(),
    }))
    await Promise.all(threads.map((t) => new Promise((resolve) => t.worker.once("online", resolve))))
    return new ReplayWorkers(options.config, options.authenticate, threads, options.signatures)
  }

  #signaturesChecked(message: SignaturesChecked): void {
    // Added when the threads close, so they do not grow the table they read. (The main thread's own checks may
    // add meanwhile; a half-written slot can only make a thread miss and verify again.)
    if (message.verified.length > 0) this.#verifiedNow.push(message.verified)
    this.#remembered += message.remembered
  }

  /** Signatures the threads took from `signatures` without verifying them. */
  get signaturesRemembered(): number {
    return this.#remembered
  }

  /** Stops the threads, then adds the signatures they verified to `signatures`; what is still running fails. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#fail(new ReplayWorkerError("the replay threads were closed"))
    await Promise.all(this.#threads.map((t) => t.worker.terminate()))
    for (const packed of this.#verifiedNow.splice(0))
      for (let at = 0; at < packed.length; at += 16) this.#signatures?.add(packed.subarray(at, at + 16))
  }

  /**
   * Every record of a topic, as it is now, with each one's check; once per bus and topic while the topic
   * does not grow.
   */
  checkTopic(bus: BusPort, topic: string): Promise<CheckedTopic> {
    let byTopic = this.#checked.get(bus)
    if (byTopic === undefined) {
      byTopic = new Map()
      this.#checked.set(bus, byTopic)
    }
    const known = byTopic
    return bus.watermarks(topic).then((marks) => {
      const at = `${topic}\u0000${marks.map((m) => `${m.partition}:${m.low}-${m.high}`).join(",")}`
      let checked = known.get(at)
      if (checked === undefined) {
        checked = this.#checkAll(bus, topic)
        known.set(at, checked)
      }
      return checked
    })
  }

  async #checkAll(bus: BusPort, topic: string): Promise<CheckedTopic> {
    const records: BusRecord[] = []
    const answers: Array<Promise<ReadonlyArray<CheckAnswer>>> = []
    let chunk: BusRecord[] = []
    const flush = () => {
      if (chunk.length === 0) return
      const thread = this.#leastLoaded()
      const job = this.#next++
      const size = chunk.length
      thread.queued += size
      answers.push(
        new Promise((resolve, reject) => {
          this.#pending.set(job, { thread, size, resolve: resolve as (v: unknown) => void, reject })
          this.#post(thread, { kind: "check", job, records: chunk })
        }),
      )
      chunk = []
    }
    for await (const record of bus.read({ topic, from: "earliest" })) {
      records.push(record)
      chunk.push(record)
      if (chunk.length >= RECORDS_PER_MESSAGE) flush()
    }
    flush()
    return { records, answers: (await Promise.all(answers)).flat() }
  }

  /** Runs a unit on a thread; its outputs go to `task.onOutputs` as they come. */
  runUnit(task: UnitTask): Promise<UnitResult> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed)
    return new Promise((resolve, reject) => {
      this.#waiting.set(task, { resolve, reject })
      this.#queue.push(task)
      this.#queue.sort((a, b) => b.size - a.size)
      this.#dispatch()
    })
  }

  /** Drops a replay's reads from every thread. */
  forget(key: string): void {
    for (const thread of this.#threads) {
      if (thread.reads.delete(key)) this.#post(thread, { kind: "forget", key })
    }
  }

  #leastLoaded(): Thread {
    return this.#threads.reduce((best, t) => (t.queued < best.queued ? t : best))
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#failed === undefined) {
      const free = this.#threads.filter((t) => t.units < UNITS_PER_THREAD)
      if (free.length === 0) return
      const thread = free.reduce((best, t) => (t.queued < best.queued ? t : best))
      const task = this.#queue.shift()!
      const waiter = this.#waiting.get(task)!
      this.#waiting.delete(task)
      this.#start(thread, task).then(waiter.resolve, waiter.reject)
    }
  }

  async #start(thread: Thread, task: UnitTask): Promise<UnitResult> {
    const job = this.#next++
    thread.units++
    thread.queued += task.size
    const done = new Promise<UnitResult>((resolve, reject) => {
      this.#pending.set(job, {
        thread,
        size: task.size,
        onOutputs: task.onOutputs,
        resolve: resolve as (v: unknown) => void,
        reject,
      })
    })
    try {
      if (task.reads !== null && !thread.reads.has(task.reads.key)) {
        thread.reads.add(task.reads.key)
        this.#post(thread, { kind: "reads", key: task.reads.key, records: task.reads.records })
      }
      this.#post(thread, {
        kind: "unit",
        job,
        service: task.service,
        instance: task.instance,
        readsKey: task.reads?.key ?? null,
        exclude: task.exclude,
        ranges: task.ranges,
      })
      let batch: BusRecord[] = []
      let batchRange = 0
      const flush = () => {
        if (batch.length > 0) this.#post(thread, { kind: "records", job, range: batchRange, records: batch })
        batch = []
      }
      await task.feed((range, records) => {
        if (range !== batchRange) flush()
        batchRange = range
        for (const record of records) {
          batch.push(record)
          if (batch.length >= RECORDS_PER_MESSAGE) flush()
        }
      })
      flush()
      this.#post(thread, { kind: "fold", job })
    } catch (error) {
      // The thread holds half a unit: nothing it does from here can be trusted to be whole.
      this.#fail(error as Error)
    }
    return done
  }

  #post(thread: Thread, message: ToWorker): void {
    if (this.#failed !== undefined) throw this.#failed
    thread.worker.postMessage(message)
  }

  #answer(message: FromWorker): void {
    const pending = this.#pending.get(message.job)
    if (pending === undefined) return
    switch (message.kind) {
      case "outputs":
        pending.onOutputs?.(message.outputs)
        return
      case "checked":
        this.#settle(message.job, pending)
        this.#signaturesChecked(message)
        pending.resolve(message.answers)
        return
      case "done":
        this.#signaturesChecked(message)
        pending.thread.units--
        this.#settle(message.job, pending)
        pending.resolve(message.result)
        this.#dispatch()
        return
      case "failed": {
        const error = new ReplayWorkerError(`a replay thread failed: ${message.message}`, {
          details: { stack: message.stack },
          hint: "This is a bug in the replay: report it with the stack above.",
        })
        this.#fail(error)
        return
      }
    }
  }

  #settle(job: number, pending: Pending): void {
    pending.thread.queued -= pending.size
    this.#pending.delete(job)
  }

  #fail(error: Error): void {
    this.#failed ??= error
    for (const pending of this.#pending.values()) pending.reject(this.#failed)
    this.#pending.clear()
    for (const waiter of this.#waiting.values()) waiter.reject(this.#failed)
    this.#waiting.clear()
    this.#queue.length = 0
  }
}

/** A topic's records as read, with each one's check, in the same order. */
export interface CheckedTopic {
  readonly records: ReadonlyArray<BusRecord>
  readonly answers: ReadonlyArray<CheckAnswer>
}
