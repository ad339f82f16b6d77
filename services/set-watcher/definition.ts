/**
 * The set-watcher's definition: one instance per cluster, on the hub chain, no consumer group. It reads the
 * hub registry's whole operator set at the hub's finality and records it on `chorus.operator-sets` each time
 * it is not the set last recorded there (which it reads back at start).
 *
 * @module
 */
import { TOPICS } from "../../topology/index.ts"
import { defineService } from "../runtime/service-definition.ts"

export const setWatcher = defineService({
  name: "set-watcher",
  description:
    "Reads the hub registry's operator set at the hub's finality and records it each time it changed.",
  group: null,
  consumes: [],
  reads: [TOPICS.operatorSets.name],
  writes: [TOPICS.operatorSets.name],
  external:
    "hub chain RPC: the finalized head, and the OperatorRegistry's set at it; every chain's RPC: its Inbox's epoch, to re-announce a set an Inbox lags",
  single: true,
  instances: (config) => {
    const chainId = config.network.registryChainId
    return [
      { id: String(chainId), aliases: ["set-watcher"], label: String(chainId), groupFields: { chainId } },
    ]
  },
  replay: {
    kind: "not-replayable",
    reason:
      "each OperatorSetObserved is itself the read of the hub registry it records; there is no input to fold again",
  },
  start: async ({ bus, config, logger }) =>
    (await import("./service.ts")).startSetWatcher({
      bus,
      config,
      logger: logger.child({ service: "set-watcher" }),
    }),
})
