/**
 * Opening a data directory whoever owns it: this process becomes the owner
 * when the directory is free (or its LOCK is stale), and a client of the live
 * owner otherwise.
 *
 * Invariant: at most one process ever appends to the directory's files; any
 * number of others reach them through the owner. An owner that is starting
 * (locked, not yet listening) or closing (still locked) is waited for, up to
 * `ownerWaitMs`, so a client never races it into a spurious error.
 *
 * @module
 */
import { type EmbeddedBus, type EmbeddedBusOptions, openEmbeddedBus } from "./bus.ts"
import { EmbeddedBusClient } from "./client.ts"
import { BusOwnerUnreachableError, DataDirLockedError } from "./errors.ts"

export interface SharedEmbeddedBusOptions extends EmbeddedBusOptions {
  /** How long to wait for a live owner that does not answer yet. Default 5000 ms. */
  readonly ownerWaitMs?: number
}

const RETRY_MS = 50

/**
 * Opens the embedded bus on `dataDir` as its owner if no live process holds
 * it, else as a client of the process that does (through its socket). The
 * client offers every port operation but `subscribe`.
 *
 * @example
 * ```ts
 * const bus = await openEmbeddedBusShared({ dataDir: ".devnet/log" })
 * for await (const record of bus.read({ topic: "chorus.messages.observed", from: "earliest" })) console.log(record.offset)
 * await bus.close()
 * ```
 */
export async function openEmbeddedBusShared(
  options: SharedEmbeddedBusOptions,
): Promise<EmbeddedBus | EmbeddedBusClient> {
  const deadline = Date.now() + (options.ownerWaitMs ?? 5_000)
  for (;;) {
    let holder: number
    try {
      return await openEmbeddedBus(options)
    } catch (error) {
      if (!(error instanceof DataDirLockedError)) throw error
      holder = error.details.holderPid
    }
    const attempt = await EmbeddedBusClient.connect(options.dataDir, holder)
    if (attempt.kind === "connected") return attempt.client
    if (Date.now() >= deadline) {
      throw new BusOwnerUnreachableError(options.dataDir, holder, attempt.socketPath, attempt.reason)
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
  }
}
