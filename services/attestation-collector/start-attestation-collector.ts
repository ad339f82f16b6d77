import type { PublicClient, Hex as ViemHex } from "viem"
import type { BusPort } from "../../bus/port.ts"
import { getCheckpointDomain } from "../../contracts/index.ts"
import type { Envelope } from "../../schemas/index.ts"
import { groupFor, TOPICS } from "../../topology/index.ts"
import { type ChorusConfig, chainOf } from "../config/index.ts"
import {
  makeChainClient,
  type RunningService,
  type ServiceLogger,
  startLaneService,
} from "../runtime/index.ts"
import { makeCollectorCore } from "./collector-core.ts"
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
  const clients = new Map<number, PublicClient>()
  const clientFor = (chainId: number): PublicClient => {
    let client = clients.get(chainId)
    if (client === undefined) {
      client = makeChainClient({ chainId, rpcUrls: chainOf(config, chainId).rpcUrls })
      clients.set(chainId, client)
    }
    return client
  }
  const service = await startLaneService({
    bus,
    service: "attestation-collector",
    instance: "attestation-collector",
    groupId: groupFor("attestation-collector"),
    inputs: [TOPICS.checkpointsProposed.name, TOPICS.attestationsSigned.name],
    core: makeCollectorCore({ domain, proposalTtlMs: config.attestationCollector.proposalTtlMs }),
    observe: makeOperatorSetObserver({ chains: config.chains, clientFor, logger }),
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
  logger.info("attestation-collector started", { group: groupFor("attestation-collector") })
  return { name: service.name, done: service.done, stop: () => service.stop() }
}
