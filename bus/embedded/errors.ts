/**
 * What the embedded log fails with: the project's `ChorusError`, so each has
 * a `_tag`, a short message, `details` that locate the problem and a `hint`
 * saying what to do next.
 *
 * Invariant: `details` holds only plain values (strings, numbers, booleans),
 * because a shared-bus client re-creates these errors from what crosses the
 * socket (`wire.ts`), and an error's constructor arguments are its details,
 * so a re-created one carries what the owner's had.
 *
 * @module
 */
import { ChorusError } from "../../errors/index.ts"

/** A frame in the middle of a segment is damaged; nothing after it is trusted. */
export class SegmentCorruptError extends ChorusError {
  override readonly name = "SegmentCorruptError"
  constructor(file: string, position: number, reason: string) {
    super(`segment ${file} is corrupt at byte ${position}: ${reason}`, {
      details: { file, position, reason },
      hint:
        "Valid frames follow the damage, so it is not a torn write: restore the data directory " +
        "from a backup, or move the file aside to drop that partition's records.",
    })
  }
}

/** Another live process (or this one) already has the data directory open. */
export class DataDirLockedError extends ChorusError {
  override readonly name = "DataDirLockedError"
  /** Typed: `openEmbeddedBusShared` reads the holder to reach its bus. */
  declare readonly details: { readonly dataDir: string; readonly holderPid: number }
  constructor(dataDir: string, holderPid: number) {
    super(`data directory ${dataDir} is in use by process ${holderPid}`, {
      details: { dataDir, holderPid },
      hint:
        "To use it alongside that process, open it with openEmbeddedBusShared (the CLI's --data-dir does); " +
        "to own it, stop that process (or close its bus) first, or use another data directory. " +
        "If no Chorus process uses it (the pid was reused), delete its LOCK file.",
    })
  }
}

/** The topic was never created with `ensureTopics`. */
export class TopicNotFoundError extends ChorusError {
  override readonly name = "TopicNotFoundError"
  constructor(topic: string) {
    super(`topic ${JSON.stringify(topic)} does not exist`, {
      details: { topic },
      hint: "Create it with ensureTopics (see topology/).",
    })
  }
}

/** A partition number outside `[0, partitions)`. */
export class PartitionOutOfRangeError extends ChorusError {
  override readonly name = "PartitionOutOfRangeError"
  constructor(topic: string, partition: number, partitions: number) {
    super(`topic ${JSON.stringify(topic)} has partitions 0..${partitions - 1}, not ${partition}`, {
      details: { topic, partition, partitions },
      hint: "Pick a partition in range or leave it out to partition by key.",
    })
  }
}

/** A topic spec or name the log cannot store (Kafka's naming rules apply). */
export class InvalidTopicError extends ChorusError {
  override readonly name = "InvalidTopicError"
  constructor(topic: string, reason: string) {
    super(`invalid topic ${JSON.stringify(topic)}: ${reason}`, {
      details: { topic, reason },
      hint: "Fix its declaration in topology/.",
    })
  }
}

/** The bus was closed (or crashed) and cannot be used any more. */
export class BusClosedError extends ChorusError {
  override readonly name = "BusClosedError"
  constructor(operation: string) {
    super(`cannot ${operation}: the embedded bus is closed`, {
      details: { operation },
      hint: "Open a new one on the same data directory.",
    })
  }
}

/** A subscription was asked about a partition it does not own. */
export class NotAssignedError extends ChorusError {
  override readonly name = "NotAssignedError"
  constructor(topic: string, partition: number) {
    super(`this member does not own ${topic}/${partition}`, {
      details: { topic, partition },
      hint: "Seek only partitions in subscription.assignment(); the group may have rebalanced.",
    })
  }
}

/**
 * A process that uses another process's data directory (a shared-bus client)
 * asked to join a consumer group. Groups keep their members, assignment and
 * partition workers in memory, so they exist only in the owning process.
 */
export class ConsumerGroupsInOwnerError extends ChorusError {
  override readonly name = "ConsumerGroupsInOwnerError"
  constructor(dataDir: string, ownerPid: number, groupId: string) {
    super(
      `cannot join consumer group ${JSON.stringify(groupId)}: data directory ${dataDir} is owned by ` +
        `process ${ownerPid}, and the embedded bus's consumer groups live in the process that owns it`,
      {
        details: { dataDir, ownerPid, groupId },
        hint:
          "Run this service inside that process (as the devnet does), stop that process so this one owns " +
          "the directory, or use Kafka (--brokers) to run services as separate processes.",
      },
    )
  }
}

const REOPEN = "Open the bus again: if the owner is gone, this process takes the directory over."

/** The owning process of a shared bus exited or closed its bus; the client cannot be used any more. */
export class BusOwnerGoneError extends ChorusError {
  override readonly name = "BusOwnerGoneError"
  constructor(dataDir: string, ownerPid: number, operation: string, inFlight: boolean, reason: string) {
    super(
      `cannot ${operation}: process ${ownerPid}, which owns data directory ${dataDir}, ` +
        `${inFlight ? "dropped the connection while the call was in flight" : "is no longer connected"} ` +
        `(${reason})`,
      {
        details: { dataDir, ownerPid, operation, inFlight, reason },
        hint:
          inFlight && operation === "publish"
            ? `The records may or may not have been written: read the topic before publishing them again. ${REOPEN}`
            : REOPEN,
      },
    )
  }
}

/** The data directory is locked by a live process, but no bus answers on its socket. */
export class BusOwnerUnreachableError extends ChorusError {
  override readonly name = "BusOwnerUnreachableError"
  constructor(dataDir: string, ownerPid: number, socketPath: string, reason: string) {
    super(
      `data directory ${dataDir} is locked by live process ${ownerPid}, but no bus answers at ` +
        `${socketPath} (${reason})`,
      {
        details: { dataDir, ownerPid, socketPath, reason },
        hint:
          "The owner may be starting or shutting down (try again), may have opened the bus with serve: false, " +
          "or may run an older Chorus; if no Chorus process has the directory open (the pid was reused), " +
          `delete ${dataDir}/LOCK.`,
      },
    )
  }
}

/** A frame on a shared-bus connection was malformed, too large, or from another protocol version. */
export class BusProtocolError extends ChorusError {
  override readonly name = "BusProtocolError"
  constructor(detail: string) {
    super(`the shared embedded bus connection broke its protocol: ${detail}`, {
      details: { detail },
      hint: "Owner and client must run the same Chorus version; publish large batches in smaller pieces.",
    })
  }
}

/**
 * An error the owning process raised that this process has no class for; it
 * keeps the owner's tag, name and message.
 */
export class RemoteBusError extends ChorusError {
  override readonly name: string
  /** The owner's tag, which need not be the error's name. */
  readonly #tag: string
  constructor(tag: string, name: string, message: string, ownerPid: number) {
    super(`${message} (raised by the owning process ${ownerPid})`, { details: { tag, ownerPid } })
    this.name = name
    this.#tag = tag
  }

  override get _tag(): string {
    return this.#tag
  }
}

/** A member asked for another assignment than the group's members share (`SubscribeOptions.assignment`). */
export class AssignmentMismatchError extends ChorusError {
  override readonly name = "AssignmentMismatchError"
  constructor(groupId: string, asked: string, group: string) {
    super(`group ${groupId} assigns "${group}", and a member asked for "${asked}"`, {
      details: { groupId, asked, group },
      hint: "Every member of a group must subscribe with the same assignment: run one version of the service.",
    })
  }
}
