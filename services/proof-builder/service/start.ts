/**
 * The proof-builder as a running service: a consumer-group member of
 * `chorus.proof-builder` on `chorus.messages.observed`, folding each lane's
 * messages through the pure core, reading the source Outbox when the core
 * needs it, and publishing proposals, proofs and stalls.
 *
 * On start the lane runtime rebuilds each partition's state from the input
 * log and the reads recorded for it, so a restarted proof-builder resumes
 * with the trees and proposal counts it had, and re-handles nothing.
 *
 * A message from an outbox that is not the configured outbox of its source
 * chain (or from a chain that is not configured) is logged as a warning
 * with its details and ignored: it produces no read and no output.
 *
 * @module
 */
import type { BusPort } from "../../../bus/port.ts"
import type { Envelope } from "../../../schemas/index.ts"
import type { ChorusConfig } from "../../config/index.ts"
import { laneGroup, type RunningService, type ServiceLogger, startLaneService } from "../../runtime/index.ts"
import { makeProofBuilderCore, type ProofBuilderCore } from "../core/index.ts"
import { proofBuilder as definition } from "../definition.ts"
import { makeLaneReader } from "./lane-reader.ts"

/**
 * The core the service runs for a configuration (also what a replay of the
 * proof-builder should run).
 *
 * @example
 * ```ts
 * const core = proofBuilderCoreFor(config)               // production settings
 * const shadow = proofBuilderCoreFor(config, { chunkSize: 8 }) // a replay with another chunk size
 * ```
 */
export const proofBuilderCoreFor = (
  config: ChorusConfig,
  overrides: { readonly chunkSize?: number } = {},
): ProofBuilderCore =>
  makeProofBuilderCore({
    chunkSize: overrides.chunkSize ?? config.proofBuilder.chunkSize,
    sources: config.chains.map((chain) => ({ chainId: chain.chainId, outbox: chain.outbox })),
  })

/**
 * Starts the proof-builder.
 *
 * @example
 * ```ts
 * const running = await startProofBuilder({ bus, config, logger })
 * await running.stop()
 * ```
 */
export const startProofBuilder = async (deps: {
  bus: BusPort
  config: ChorusConfig
  logger: ServiceLogger
  onOutput?: (e: Envelope) => void
}): Promise<RunningService> => {
  const { bus, config } = deps
  const logger = deps.logger.child({ service: "proof-builder" })
  const core = proofBuilderCoreFor(config)
  const reader = makeLaneReader(config)

  const observe = async (state: Parameters<ProofBuilderCore["planRead"]>[0], input: Envelope) => {
    const plan = core.planRead(state, input)
    switch (plan.kind) {
      case "read":
        return [await reader.read(plan.lane, plan.block)]
      case "reuse":
        return []
      case "none":
        if (plan.reason === "unconfigured-outbox" && input.event._tag === "MessageObserved") {
          const { message, outbox, messageId, block, transactionHash } = input.event
          logger.warn("ignored a message from an outbox that is not configured for its source chain", {
            srcChainId: message.srcChainId,
            outbox,
            configuredOutbox: config.chains.find((c) => c.chainId === message.srcChainId)?.outbox ?? null,
            dstChainId: message.dstChainId,
            nonce: message.nonce,
            messageId,
            block: block.number,
            transactionHash,
            eventId: input.id,
          })
        } else if (plan.reason === "not-a-message") {
          logger.warn("ignored an input that is not a MessageObserved", {
            type: input.type,
            eventId: input.id,
          })
        }
        return []
    }
  }

  return startLaneService({
    bus,
    service: "proof-builder",
    instance: "proof-builder",
    groupId: laneGroup(definition, {}),
    inputs: definition.consumes,
    core,
    observe,
    logger,
    ...(deps.onOutput === undefined ? {} : { onOutput: deps.onOutput }),
  })
}
