/**
 * The operator's definition: one instance per restaked operator, each with
 * a consumer group of its own (every operator must see every proposal), its
 * own key and its own RPCs. It stamps its checksummed address as its
 * instance.
 *
 * @module
 */
import { TOPICS } from "../../topology/index.ts"
import { type OperatorConfig, operatorIdentity } from "../config/index.ts"
import { eraseCore } from "../runtime/lane-core.ts"
import {
  allPartitions,
  defineService,
  requireSome,
  type ServiceInstance,
} from "../runtime/service-definition.ts"

export const operator = defineService<ServiceInstance & { readonly operator: OperatorConfig }>({
  name: "operator",
  description:
    "One per restaked operator: verifies a proposal, or an operator-set update, on its own RPC and signs it, or refuses with a reason.",
  group: "chorus.operator.{operator}",
  // Operator-set updates and the collector's requests to sign again beside proposals, co-partitioned: one core,
  // one group, one rebuild.
  consumes: [TOPICS.checkpointsProposed.name, TOPICS.checkpointsResign.name, TOPICS.operatorSets.name],
  // Its recorded reads (rebuilds), and which source chains are halted (`services/runtime/chain-halts.ts`).
  reads: [TOPICS.laneReads.name, TOPICS.chainHalts.name],
  writes: [
    TOPICS.laneReads.name,
    TOPICS.attestationsSigned.name,
    TOPICS.operatorSetsSigned.name,
    TOPICS.deadLetters.name,
  ],
  external:
    "the operator's own source chain RPC: the Outbox's lane root and count at the proposal's block (none for a chain halted on the log); its own destination RPC: the Inbox's epoch, to sign under; its own hub RPC: the registry's set at its finalized head, for an update",
  single: false,
  instances: (config) =>
    requireSome(
      "operator",
      "operators",
      config.operators.map((operator, index) => {
        const { address } = operatorIdentity(config, operator)
        return {
          id: address,
          aliases: [String(index)],
          label: `${index} (${address})`,
          groupFields: { operator: address },
          operator,
        }
      }),
    ),
  replay: {
    kind: "replayable",
    partitions: allPartitions,
    readsRecorded: true,
    // A shadow run decides as the operator but never signs with its key.
    core: async (config, instance) =>
      eraseCore((await import("./service.ts")).operatorCoreFor(config, instance.operator, { shadow: true })),
    resigned: { AttestationSigned: ["signature"], OperatorSetSigned: ["signature"] },
  },
  start: async ({ bus, config, instance, logger, onOutput }) =>
    (await import("./service.ts")).startOperator({
      bus,
      config,
      operator: instance.operator,
      logger,
      onOutput,
    }),
})
