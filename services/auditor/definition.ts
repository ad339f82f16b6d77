/**
 * The auditor's definition: one instance, no consumer group, no writes. It
 * reads every audited topic as fixed ranges into its index file, which can
 * be deleted and rebuilt from offset zero. Of the lane services' chain reads
 * it takes only the operator sets and the failed reads (`AUDITED_TYPES`).
 *
 * @module
 */

import type { EventType } from "../../schemas/index.ts"
import { TOPICS, type TopicName } from "../../topology/index.ts"
import { defineService, singleInstance } from "../runtime/service-definition.ts"
import { auditIndexPath } from "./index-path.ts"

/** Topics that say nothing about a message's path: the watcher's reads and cursors are inputs, not steps. */
const NOT_AUDITED = new Set<string>([TOPICS.watcherReads.name, TOPICS.watcherCursors.name])

/**
 * Every topic the index follows, observations first: a round reads them in
 * this order, so a message's row exists before the events that name it.
 */
export const AUDITED_TOPICS: ReadonlyArray<TopicName> = [
  TOPICS.messagesObserved.name,
  ...Object.values(TOPICS)
    .map((topic) => topic.name)
    .filter((name) => name !== TOPICS.messagesObserved.name && !NOT_AUDITED.has(name)),
]

/**
 * Topics of which the index takes only some event types, picked by the record's type header before it is
 * decoded: of the lane services' chain reads, the operator sets the collector counts against and the reads
 * that failed (an RPC's stall and recovery). The Outbox reads and head reads, most of that topic, are
 * skipped unread.
 */
export const AUDITED_TYPES: ReadonlyMap<string, ReadonlySet<EventType>> = new Map([
  [TOPICS.laneReads.name, new Set<EventType>(["OperatorSetRead", "ChainReadFailed", "ChainReadRecovered"])],
])

export const auditor = defineService({
  name: "auditor",
  description: "Reads every step of every message from the log and indexes its path into a local file.",
  group: null,
  consumes: [],
  reads: AUDITED_TOPICS,
  writes: [],
  external: "writes its index to a local file; reads no chain",
  single: true,
  instances: () => [singleInstance("auditor")],
  replay: {
    kind: "not-replayable",
    reason:
      "the auditor writes no event to the bus, only its local index, which it rebuilds from the log itself",
  },
  start: async ({ bus, config, logger, auditIndex }) =>
    (await import("./service.ts")).startAuditor({
      bus,
      indexPath:
        auditIndex ??
        auditIndexPath({
          ...(config.bus?.dataDir !== undefined ? { dataDir: config.bus.dataDir } : {}),
          ...(config.bus?.brokers !== undefined ? { brokers: config.bus.brokers } : {}),
        }),
      logger,
    }),
})
