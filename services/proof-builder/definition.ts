/**
 * The proof-builder's definition: one instance per cluster, consuming the
 * observed messages of every lane, reading each lane's Outbox root and
 * count on the source chain, and proposing checkpoints and proofs.
 *
 * @module
 */
import { TOPICS } from "../../topology/index.ts"
import { eraseCore } from "../runtime/lane-core.ts"
import { allPartitions, defineService, singleInstance } from "../runtime/service-definition.ts"

export const proofBuilder = defineService({
  name: "proof-builder",
  description:
    "Settles each lane's observed messages against the Outbox (rejecting false ones), proposes checkpoints, emits range and single proofs.",
  group: "chorus.proof-builder",
  consumes: [TOPICS.messagesObserved.name],
  reads: [TOPICS.laneReads.name],
  writes: [
    TOPICS.laneReads.name,
    TOPICS.checkpointsProposed.name,
    TOPICS.messagesProven.name,
    TOPICS.deadLetters.name,
  ],
  external: "source chain RPC: the Outbox's lane root and count at the message's block",
  single: true,
  instances: () => [singleInstance("proof-builder")],
  replay: {
    kind: "replayable",
    partitions: allPartitions,
    readsRecorded: true,
    core: async (config) => eraseCore((await import("./service/start.ts")).proofBuilderCoreFor(config)),
  },
  start: async ({ bus, config, logger, onOutput }) =>
    (await import("./service/start.ts")).startProofBuilder({ bus, config, logger, onOutput }),
})
