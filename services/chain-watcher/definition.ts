/**
 * The chain-watcher's definition: one instance per watched chain, no
 * consumer group. It reads its own cursor and its last read from the log to
 * resume (and whether its chain is halted, or was resumed from a trusted
 * block, on the halts topic), reads the chain, records each read (with the lane counts that
 * prove it complete) on `chorus.watcher.reads` before folding it, and emits
 * messages, its cursor, or a halt. It also follows the proof-builder's
 * `LaneStalled` (`nonce-gap`) on `chorus.checkpoints.proposed` and re-reads
 * the one message a gap on its lanes lacks (`OutboxNonceRead`).
 *
 * @module
 */
import { partitionForKey } from "../../bus/partitioner/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { eraseCore } from "../runtime/lane-core.ts"
import { defineService, requireSome, type ServiceInstance } from "../runtime/service-definition.ts"

export const chainWatcher = defineService<ServiceInstance & { readonly chainId: number }>({
  name: "chain-watcher",
  description:
    "One per chain: reads Outbox events from finalized blocks, records each read, emits messages and its cursor.",
  group: null,
  consumes: [],
  // Its cursor and its last read (to resume), its chain's halt and resume (`resume.ts`), and the proof-builder's
  // nonce gaps on its lanes, each re-read from the chain (`nonce-gaps.ts`).
  reads: [
    TOPICS.watcherCursors.name,
    TOPICS.watcherReads.name,
    TOPICS.chainHalts.name,
    TOPICS.checkpointsProposed.name,
  ],
  writes: [
    TOPICS.watcherReads.name,
    TOPICS.messagesObserved.name,
    TOPICS.watcherCursors.name,
    TOPICS.chainHalts.name,
  ],
  external:
    "source chain RPC: finalized head, block headers, Outbox logs (by range, or one by its nonce) and lane counts",
  single: false,
  instances: (config) =>
    requireSome(
      "chain-watcher",
      "chainWatcher.chains",
      (config.chainWatcher.chains ?? config.chains.map((c) => c.chainId)).map((chainId) => ({
        id: String(chainId),
        aliases: [],
        label: String(chainId),
        groupFields: { chainId },
        chainId,
      })),
    ),
  replay: {
    kind: "replayable",
    inputs: [TOPICS.watcherReads.name],
    // A chain's reads are keyed by its id, so they all sit on one partition.
    partitions: (instance, count) => [partitionForKey(instance.id, count)],
    readsRecorded: false,
    core: async (_config, instance) =>
      eraseCore((await import("./core.ts")).makeWatcherCore(instance.chainId)),
  },
  start: async ({ bus, config, instance, logger }) =>
    (await import("./service.ts")).startChainWatcher({
      bus,
      config,
      chainId: instance.chainId,
      logger: logger.child({ chainId: instance.chainId }),
    }),
})
