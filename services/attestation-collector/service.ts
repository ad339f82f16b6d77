/**
 * The attestation-collector as a running service: one consumer group over
 * proposals and signatures (co-partitioned by lane). For an input that needs
 * it, it reads the destination Inbox's operator set and records it on
 * `chorus.lane.reads`; the pure core verifies, counts stake, attests or
 * expires.
 *
 * @module
 */
import { publishEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { makeChainAccess } from "../../chains/index.ts"
import { type Envelope, makeEnvelope } from "../../schemas/index.ts"
import { type ChorusConfig, checkpointDomainOf } from "../config/index.ts"
import {
  type LaneCore,
  laneGroup,
  producerOf,
  type RunningService,
  type ServiceLogger,
  startLaneService,
} from "../runtime/index.ts"
import { type CollectorState, makeCollectorCore } from "./core.ts"
import { attestationCollector as definition } from "./definition.ts"
import { makeInboxSetsObserver } from "./observe-inbox-sets.ts"
import { makeOperatorSetObserver } from "./observe-operator-set.ts"
import { makeSourceObserver } from "./observe-source.ts"

export interface StartAttestationCollectorDeps {
  readonly bus: BusPort
  readonly config: ChorusConfig
  readonly logger: ServiceLogger
  /** Called with every verdict, attestation and expiry after it was published. */
  readonly onOutput?: (e: Envelope) => void
}

/**
 * The core the collector runs (also what a replay of it runs).
 *
 * @example
 * ```ts
 * const core = collectorCoreFor(config)
 * ```
 */
export const collectorCoreFor = (config: ChorusConfig): LaneCore<CollectorState> =>
  makeCollectorCore({
    domain: checkpointDomainOf(config),
    proposalTtlMs: config.attestationCollector.proposalTtlMs,
  })

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
  const chains = makeChainAccess(config)
  const abort = new AbortController()
  const producer = producerOf("attestation-collector", "attestation-collector")
  const observeLaneSet = makeOperatorSetObserver({
    chains: config.chains,
    readerFor: (chainId) => chains.reader(chainId),
    domain: checkpointDomainOf(config),
    rpcFaults: config.rpc,
    epochCheckEveryMs: config.attestationCollector.epochCheckEveryMs,
    // An outage of a destination's RPC is a read of its own, caused by the input it holds meanwhile.
    record: async (event, input) => {
      await publishEvents(bus, [makeEnvelope(event, { producer, causationId: input.id, time: new Date() })])
    },
    signal: abort.signal,
    logger,
  })
  const observeInboxSets = makeInboxSetsObserver({
    chains: config.chains,
    domain: checkpointDomainOf(config),
    readerFor: (chainId) => chains.reader(chainId),
    rpcFaults: config.rpc,
    signal: abort.signal,
    logger,
  })
  const observeSource = makeSourceObserver({
    chains: config.chains,
    readerFor: (chainId) => chains.reader(chainId),
    domain: checkpointDomainOf(config),
    rpcFaults: config.rpc,
    signal: abort.signal,
    logger,
  })
  const service = await startLaneService({
    bus,
    service: "attestation-collector",
    instance: "attestation-collector",
    groupId: laneGroup(definition, {}),
    inputs: definition.consumes,
    core: collectorCoreFor(config),
    observe: async (state, input) =>
      input.event._tag === "OperatorSetSigned"
        ? observeInboxSets(state.updates, input)
        : [...(await observeLaneSet(state, input)), ...(await observeSource(state, input))],
    logger,
    onOutput: (envelope) => {
      const event = envelope.event
      if (event._tag === "OperatorSetAttested") {
        logger.info("operator-set update attested for a destination", {
          destination: event.destination,
          fromEpoch: event.fromEpoch,
          epoch: event.epoch,
          signedStake: event.signedStake,
          totalStake: event.totalStake,
          signers: event.signatures.length,
        })
      } else if (event._tag === "CheckpointAttested") {
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
      } else if (event._tag === "OperatorEquivocated") {
        logger.error("evidence: an operator signed two roots for one lane and count", {
          lane: envelope.key,
          operator: event.operator,
          count: event.first.checkpoint.count,
          roots: [event.first.checkpoint.root, event.second.checkpoint.root],
          next: "send both signed checkpoints (chorus.evidence) to OperatorRegistry.proveEquivocation on the hub",
        })
      } else if (event._tag === "OperatorAttestedInvalid") {
        logger.error("evidence: an operator signed a root its source chain never had at that count", {
          lane: envelope.key,
          operator: event.operator,
          count: event.signed.checkpoint.count,
          signedRoot: event.signed.checkpoint.root,
          chainRoot: event.source.root,
          next: "prove it on the source chain's CheckpointFraudProofs; for a hub-chain lane, OperatorRegistry.proveInvalidAttestation ejects it",
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
  return {
    name: service.name,
    done: service.done,
    stop: () => {
      abort.abort()
      return service.stop()
    },
  }
}
