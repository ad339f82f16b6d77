/**
 * Delivers one partition's records to one member's handler.
 *
 * Invariants:
 * - One record at a time, in offset order: the next is read only after the
 *   handler's promise for the previous one settled.
 * - The offset is committed (as `offset + 1`) only after the handler resolved.
 *   A handler that rejects is retried on the same record after a back-off, so
 *   a failure redelivers and never skips.
 * - `stop()` lets the record in flight finish and commit, then ends;
 *   `abandon()` (a crash) ends without committing anything more, even if the
 *   handler in flight resolves later.
 * - An idle worker sleeps on the log's append notification, not a poll; a
 *   busy one lets the event loop turn every few dozen records.
 *
 * @module
 */
import type { DeliveryContext, RecordHandler } from "../port.ts"
import type { EmbeddedBusLogger } from "./logger.ts"
import { type PartitionLog, readPlace } from "./segment.ts"

const RETRY_BASE_MS = 100
const RETRY_MAX_MS = 5_000
const YIELD_EVERY = 64

export interface PartitionWorkerOptions {
  readonly log: PartitionLog
  readonly start: number
  readonly handler: RecordHandler
  readonly context: DeliveryContext
  /** Records the next offset to read, after a handler resolved. */
  readonly commit: (nextOffset: number) => void
  readonly logger: EmbeddedBusLogger
}

export class PartitionWorker {
  private readonly options: PartitionWorkerOptions
  private position: number
  /** Where the next record starts in the file, kept so a worker behind the tail reads it without a walk. */
  private readonly place = readPlace()
  private state: "running" | "stopping" | "abandoned" = "running"
  private pendingSeek: number | undefined
  /** Ends the current wait (for records or for a retry), if any. */
  private wake: (() => void) | undefined
  /** Settles when the worker has ended (after stop or abandon). */
  readonly done: Promise<void>

  constructor(options: PartitionWorkerOptions) {
    this.options = options
    this.position = options.start
    this.done = this.run()
  }

  /** Makes the record at `offset` the next one handled, after the one in flight. */
  seek(offset: number): void {
    this.pendingSeek = offset
    this.poke()
  }

  /** Finishes the record in flight, commits it, and ends. */
  stop(): Promise<void> {
    if (this.state === "running") this.state = "stopping"
    this.poke()
    return this.done
  }

  /** Ends without committing anything more (a crash). */
  abandon(): void {
    this.state = "abandoned"
    this.poke()
  }

  // A method, not an inline comparison: the state changes while the handler is awaited.
  private abandoned(): boolean {
    return this.state === "abandoned"
  }

  // The loop re-checks state and seeks before every wait, so a poke while not
  // waiting needs no memory; one resolver per wait keeps nothing piling up on
  // a long-lived promise.
  private poke(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  private async run(): Promise<void> {
    const { log, handler, context, logger } = this.options
    let failures = 0
    let handledSinceYield = 0
    while (this.state === "running") {
      // The bus closed under a worker that started late (a join racing close): end, do not spin.
      if (log.isClosed) return
      if (this.pendingSeek !== undefined) {
        this.position = this.pendingSeek
        this.pendingSeek = undefined
      }
      if (this.position >= log.high) {
        await new Promise<void>((resolve) => {
          this.wake = resolve
          void log.nextAppend().then(resolve)
        })
        this.wake = undefined
        continue
      }
      try {
        const record = log.read(this.position, this.place)
        await handler(record, context)
      } catch (error) {
        if (this.abandoned()) return
        failures++
        const delay = Math.min(RETRY_BASE_MS * 2 ** (failures - 1), RETRY_MAX_MS)
        logger.error(
          `group ${context.groupId} member ${context.memberId}: ${log.topic}/${log.partition} ` +
            `offset ${this.position} failed (attempt ${failures}), retrying in ${delay} ms: ${describe(error)}`,
        )
        if (this.state === "running") await this.sleep(delay)
        continue
      }
      failures = 0
      if (this.abandoned()) return
      this.position += 1
      this.options.commit(this.position)
      // A backlog with handlers that never wait on I/O would otherwise run as
      // one endless chain of microtasks, starving timers, sockets and the
      // batched offset writes of the whole process.
      if (++handledSinceYield >= YIELD_EVERY) {
        handledSinceYield = 0
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wake = done
    })
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
