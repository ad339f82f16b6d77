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
 * Reads, per input: the core plans one (`planRead`), the service makes it,
 * and asks again with what it read, until the core needs nothing more or
 * `MAX_READS_PER_INPUT` were made. Every read is published on
 * `chorus.lane.reads` (by the lane runtime) before `decide` sees it, so a
 * replay decides on exactly these reads.
 *
 * A block past the proof-builder's finalized head is waited for (the bus
 * redelivers the input) for `FINALITY_GRACE_MS` at most: an honest
 * observation's block becomes final on this RPC within moments of the
 * watcher's. After that the finalized head is read instead, and the core
 * defers the observation. A block more than `MAX_BLOCKS_AHEAD` past this
 * RPC's latest block skips the grace: no honest watcher finalized it. So an
 * observation naming a block the chain has not reached holds the partition
 * for the grace period at most (only when within that margin), never for
 * good.
 *
 * @module
 */
import type { BusPort } from "../../../bus/port.ts"
import type { BlockRef, Envelope, Lane, OutboxLaneRead } from "../../../schemas/index.ts"
import { makeEnvelope } from "../../../schemas/index.ts"
import type { ChorusConfig } from "../../config/index.ts"
import {
  laneGroup,
  producerOf,
  type RunningService,
  type ServiceLogger,
  startLaneService,
} from "../../runtime/index.ts"
import { makeProofBuilderCore, type ProofBuilderCore } from "../core/index.ts"
import { proofBuilder as definition } from "../definition.ts"
import { BlockNotFinalizedError } from "./errors.ts"
import { makeLaneReader } from "./lane-reader.ts"

/**
 * How long an input waits for the block it names to become final on the proof-builder's RPC before it is
 * decided on a read of the finalized head (and deferred). 30 s: two RPCs of one chain agree on finality within
 * seconds, and the partition waits with the input, so the wait must stay short.
 */
export const FINALITY_GRACE_MS = 30_000

/**
 * How many blocks past this RPC's latest block an observation may name and still be waited for: more than
 * that is no block an honest watcher finalized (two RPCs of one chain are never that far apart), so the grace
 * is skipped and the observation is deferred at once.
 */
export const MAX_BLOCKS_AHEAD = 64

/** Reads one input may cause; each refutes or proves something, so more means a flood of observations. */
export const MAX_READS_PER_INPUT = 8

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
  /** Overrides `FINALITY_GRACE_MS` (tests). */
  finalityGraceMs?: number
}): Promise<RunningService> => {
  const { bus, config } = deps
  const logger = deps.logger.child({ service: "proof-builder" })
  const core = proofBuilderCoreFor(config)
  const reader = makeLaneReader(config)
  const graceMs = deps.finalityGraceMs ?? FINALITY_GRACE_MS
  const producer = producerOf("proof-builder", "proof-builder")
  /** When each input first found the block it needs not final, by input id and block. */
  const waitingSince = new Map<string, number>()

  const readFor = async (input: Envelope, lane: Lane, block: BlockRef): Promise<OutboxLaneRead> => {
    const key = `${input.id}:${block.number}`
    try {
      const read = await reader.read(lane, block.number)
      waitingSince.delete(key)
      return read
    } catch (error) {
      if (!(error instanceof BlockNotFinalizedError) || error.details.finalized === null) throw error
      const now = Date.now()
      const since = waitingSince.get(key) ?? now
      // Inputs that never come back (their shard moved) must not pile up.
      if (waitingSince.size > 10_000) waitingSince.clear()
      waitingSince.set(key, since)
      const unreachable = block.number > (await reader.latestHead(lane.srcChainId)) + MAX_BLOCKS_AHEAD
      if (!unreachable && now - since < graceMs) throw error
      waitingSince.delete(key)
      const finalized = error.details.finalized
      logger.warn("a message's block is still not final; deciding on the finalized head, the message waits", {
        srcChainId: lane.srcChainId,
        dstChainId: lane.dstChainId,
        block: block.number,
        finalized,
        waitedMs: now - since,
        eventId: input.id,
      })
      return reader.read(lane, finalized)
    }
  }

  const observe = async (state: Parameters<ProofBuilderCore["planRead"]>[0], input: Envelope) => {
    const reads: OutboxLaneRead[] = []
    // The core plans on envelopes, as `decide` sees them; these are stamped again when published.
    const asEnvelopes = () =>
      reads.map((read) => makeEnvelope(read, { producer, causationId: input.id, time: new Date(input.time) }))
    for (;;) {
      const plan = core.planRead(state, input, asEnvelopes())
      switch (plan.kind) {
        case "read":
          if (reads.length >= MAX_READS_PER_INPUT) {
            logger.warn("an input needs more reads than one input may make; it is decided on those made", {
              reads: reads.length,
              eventId: input.id,
            })
            return reads
          }
          reads.push(await readFor(input, plan.lane, plan.block))
          continue
        case "reuse":
          return reads
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
          return reads
      }
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
