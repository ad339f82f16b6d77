/**
 * The attestation-collector's definition: one instance per cluster, over
 * proposals and signatures (co-partitioned by lane), reading each
 * destination's operator set from its Inbox.
 *
 * @module
 */
import { TOPICS } from "../../topology/index.ts"
import { eraseCore } from "../runtime/lane-core.ts"
import { allPartitions, defineService, singleInstance } from "../runtime/service-definition.ts"

export const attestationCollector = defineService({
  name: "attestation-collector",
  description:
    "Verifies signatures against the destination's operator set, counts stake, attests or expires.",
  group: "chorus.attestation-collector",
  // Operator-set signatures beside the lane inputs, co-partitioned: one core, one group, one rebuild.
  consumes: [
    TOPICS.checkpointsProposed.name,
    TOPICS.attestationsSigned.name,
    TOPICS.operatorSets.name,
    TOPICS.operatorSetsSigned.name,
    // The submitters' outcomes: which roots are committed, and which commits a rotation made the Inbox refuse.
    TOPICS.deliveries.name,
  ],
  reads: [TOPICS.laneReads.name],
  writes: [
    TOPICS.laneReads.name,
    TOPICS.checkpointsAttested.name,
    TOPICS.checkpointsResign.name,
    TOPICS.attestationVerdicts.name,
    TOPICS.evidence.name,
    TOPICS.operatorSetsAttested.name,
    TOPICS.deadLetters.name,
  ],
  external:
    "destination chain RPC: the Inbox's operator set (for a lane, and for every Inbox on an update); source chain RPC: a contested checkpoint's lane at its proposal's final block",
  single: true,
  instances: () => [singleInstance("attestation-collector")],
  replay: {
    kind: "replayable",
    partitions: allPartitions,
    readsRecorded: true,
    core: async (config) => eraseCore((await import("./service.ts")).collectorCoreFor(config)),
  },
  start: async ({ bus, config, logger, onOutput }) =>
    (await import("./service.ts")).startAttestationCollector({
      bus,
      config,
      logger,
      onOutput,
    }),
})
