/**
 * What the embedded log fails with. Each error has a `_tag`, a short message,
 * the details that locate the problem, and what to do next.
 *
 * @module
 */

/** A frame in the middle of a segment is damaged; nothing after it is trusted. */
export class SegmentCorruptError extends Error {
  readonly _tag = "SegmentCorruptError"
  readonly file: string
  readonly position: number
  readonly reason: string
  constructor(file: string, position: number, reason: string) {
    super(
      `segment ${file} is corrupt at byte ${position}: ${reason}. ` +
        "Valid frames follow the damage, so it is not a torn write: restore the data directory " +
        "from a backup, or move the file aside to drop that partition's records.",
    )
    this.name = "SegmentCorruptError"
    this.file = file
    this.position = position
    this.reason = reason
  }
}

/** Another live process (or this one) already has the data directory open. */
export class DataDirLockedError extends Error {
  readonly _tag = "DataDirLockedError"
  readonly dataDir: string
  readonly holderPid: number
  constructor(dataDir: string, holderPid: number) {
    super(
      `data directory ${dataDir} is in use by process ${holderPid}. ` +
        "To use it alongside that process, open it with openEmbeddedBusShared (the CLI's --data-dir does); " +
        "to own it, stop that process (or close its bus) first, or use another data directory. " +
        "If no Chorus process uses it (the pid was reused), delete its LOCK file.",
    )
    this.name = "DataDirLockedError"
    this.dataDir = dataDir
    this.holderPid = holderPid
  }
}

/** The topic was never created with `ensureTopics`. */
export class TopicNotFoundError extends Error {
  readonly _tag = "TopicNotFoundError"
  readonly topic: string
  constructor(topic: string) {
    super(`topic ${JSON.stringify(topic)} does not exist. Create it with ensureTopics (see topology/).`)
    this.name = "TopicNotFoundError"
    this.topic = topic
  }
}

/** A partition number outside `[0, partitions)`. */
export class PartitionOutOfRangeError extends Error {
  readonly _tag = "PartitionOutOfRangeError"
  readonly topic: string
  readonly partition: number
  readonly partitions: number
  constructor(topic: string, partition: number, partitions: number) {
    super(
      `topic ${JSON.stringify(topic)} has partitions 0..${partitions - 1}, not ${partition}. ` +
        "Pick a partition in range or leave it out to partition by key.",
    )
    this.name = "PartitionOutOfRangeError"
    this.topic = topic
    this.partition = partition
    this.partitions = partitions
  }
}

/** A topic spec or name the log cannot store (Kafka's naming rules apply). */
export class InvalidTopicError extends Error {
  readonly _tag = "InvalidTopicError"
  readonly topic: string
  constructor(topic: string, reason: string) {
    super(`invalid topic ${JSON.stringify(topic)}: ${reason}. Fix its declaration in topology/.`)
    this.name = "InvalidTopicError"
    this.topic = topic
  }
}

/** The bus was closed (or crashed) and cannot be used any more. */
export class BusClosedError extends Error {
  readonly _tag = "BusClosedError"
  constructor(operation: string) {
    super(`cannot ${operation}: the embedded bus is closed. Open a new one on the same data directory.`)
    this.name = "BusClosedError"
  }
}

/** A subscription was asked about a partition it does not own. */
export class NotAssignedError extends Error {
  readonly _tag = "NotAssignedError"
  readonly topic: string
  readonly partition: number
  constructor(topic: string, partition: number) {
    super(
      `this member does not own ${topic}/${partition}. ` +
        "Seek only partitions in subscription.assignment(); the group may have rebalanced.",
    )
    this.name = "NotAssignedError"
    this.topic = topic
    this.partition = partition
  }
}

/**
 * A process that uses another process's data directory (a shared-bus client)
 * asked to join a consumer group. Groups keep their members, assignment and
 * partition workers in memory, so they exist only in the owning process.
 */
export class ConsumerGroupsInOwnerError extends Error {
  readonly _tag = "ConsumerGroupsInOwnerError"
  readonly dataDir: string
  readonly ownerPid: number
  readonly groupId: string
  constructor(dataDir: string, ownerPid: number, groupId: string) {
    super(
      `cannot join consumer group ${JSON.stringify(groupId)}: data directory ${dataDir} is owned by ` +
        `process ${ownerPid}, and the embedded bus's consumer groups live in the process that owns it. ` +
        "Run this service inside that process (as the devnet does), stop that process so this one owns " +
        "the directory, or use Kafka (--brokers) to run services as separate processes.",
    )
    this.name = "ConsumerGroupsInOwnerError"
    this.dataDir = dataDir
    this.ownerPid = ownerPid
    this.groupId = groupId
  }
}

/** The owning process of a shared bus exited or closed its bus; the client cannot be used any more. */
export class BusOwnerGoneError extends Error {
  readonly _tag = "BusOwnerGoneError"
  readonly dataDir: string
  readonly ownerPid: number
  readonly operation: string
  /** Whether the call was already sent when the connection broke (its effect is then unknown). */
  readonly inFlight: boolean
  constructor(dataDir: string, ownerPid: number, operation: string, inFlight: boolean, reason: string) {
    super(
      `cannot ${operation}: process ${ownerPid}, which owns data directory ${dataDir}, ` +
        `${inFlight ? "dropped the connection while the call was in flight" : "is no longer connected"} ` +
        `(${reason}). ` +
        (inFlight && operation === "publish"
          ? "The records may or may not have been written: read the topic before publishing them again. "
          : "") +
        "Open the bus again: if the owner is gone, this process takes the directory over.",
    )
    this.name = "BusOwnerGoneError"
    this.dataDir = dataDir
    this.ownerPid = ownerPid
    this.operation = operation
    this.inFlight = inFlight
  }
}

/** The data directory is locked by a live process, but no bus answers on its socket. */
export class BusOwnerUnreachableError extends Error {
  readonly _tag = "BusOwnerUnreachableError"
  readonly dataDir: string
  readonly ownerPid: number
  readonly socketPath: string
  readonly reason: string
  constructor(dataDir: string, ownerPid: number, socketPath: string, reason: string) {
    super(
      `data directory ${dataDir} is locked by live process ${ownerPid}, but no bus answers at ` +
        `${socketPath} (${reason}). The owner may be starting or shutting down (try again), may have ` +
        "opened the bus with serve: false, or may run an older Chorus; if no Chorus process has the " +
        `directory open (the pid was reused), delete ${dataDir}/LOCK.`,
    )
    this.name = "BusOwnerUnreachableError"
    this.dataDir = dataDir
    this.ownerPid = ownerPid
    this.socketPath = socketPath
    this.reason = reason
  }
}

/** A frame on a shared-bus connection was malformed, too large, or from another protocol version. */
export class BusProtocolError extends Error {
  readonly _tag = "BusProtocolError"
  readonly detail: string
  constructor(detail: string) {
    super(
      `the shared embedded bus connection broke its protocol: ${detail}. ` +
        "Owner and client must run the same Chorus version; publish large batches in smaller pieces.",
    )
    this.name = "BusProtocolError"
    this.detail = detail
  }
}

/**
 * An error the owning process raised that this process has no class for; it
 * keeps the owner's tag, name and message.
 */
export class RemoteBusError extends Error {
  readonly _tag: string
  readonly ownerPid: number
  constructor(tag: string, name: string, message: string, ownerPid: number) {
    super(`${message} (raised by the owning process ${ownerPid})`)
    this.name = name
    this._tag = tag
    this.ownerPid = ownerPid
  }
}
