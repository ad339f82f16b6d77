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
        "Stop that process (or close its bus) first, or use another data directory. " +
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
