import type { Hex as ViemHex } from "viem"
import type { BusPort } from "../../bus/port.ts"
import { makeChainAccess } from "../../chains/index.ts"
import { getCheckpointDomain } from "../../contracts/index.ts"
import type { Envelope } from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import type { ChorusConfig } from "../config/index.ts"
import { laneGroup, type RunningService, type ServiceLogger, startLaneService } from "../runtime/index.ts"
import { makeCollectorCore } from "./collector-core.ts"
import { attestationCollector as definition } from "./definition.ts"
import { makeOperatorSetObserver } from "./observe-operator-set.ts"

export interface StartAttestationCollectorDeps {
  readonly bus: BusPort
  readonly config: ChorusConfig
  readonly logger: ServiceLogger
  /** Called with every verdict, attestation and expiry after it was published. */
  readonly onOutput?: (e: Envelope) => void
}

/**
 * Starts the attestation-collector: one consumer group over proposals and
 * signatures (co-partitioned by lane), reading each destination's operator
 * set from its Inbox.
 *
 * @example
 * ```ts
 * const running = await startAttestationCollector({ bus, config, logger })
 * await running.stop()
 * ```
 */
export const startAttestationCollector = async (
  deps: StartAttestationCollectorDeps,
): Promise<RunningService> => {
  const { bus, config, logger } = deps
  const domain = getCheckpointDomain({
    registryChainId: config.network.registryChainId,
    registry: config.network.registry as ViemHex,
  })
  const chains = makeChainAccess(config)
  const service = await startLaneService({
    bus,
    service: "attestation-collector",
    instance: "attestation-collector",
    groupId: laneGroup(definition, {}),
    inputs: definition.consumes,
    core: makeCollectorCore({ domain, proposalTtlMs: config.attestationCollector.proposalTtlMs }),
    observe: makeOperatorSetObserver({
      chains: config.chains,
      readerFor: (chainId) => chains.reader(chainId),
      logger,
    }),
    logger,
    onOutput: (envelope) => {
      const event = envelope.event
      if (event._tag === "CheckpointAttested") {
        logger.info("checkpoint attested", {
          lane: envelope.key,
          count: event.checkpoint.count,
          root: event.checkpoint.root,
          signedStake: event.signedStake,
          totalStake: event.totalStake,
          signers: event.signatures.length,
        })
      } else if (event._tag === "CheckpointExpired") {
        logger.warn("checkpoint expired", {
          lane: envelope.key,
          count: event.checkpoint.count,
          reason: event.reason,
        })
      } else if (
        event._tag === "SignatureVerdict" &&
        event.result !== "accepted" &&
        event.result !== "late"
      ) {
        logger.warn("signature not counted", {
          lane: envelope.key,
          operator: event.operator,
          result: event.result,
          reason: event.reason,
        })
      }
      deps.onOutput?.(envelope)
    },
  })
  logger.info("attestation-collector started", { group: laneGroup(definition, {}) })
  return { name: service.name, done: service.done, stop: () => service.stop() }
}
