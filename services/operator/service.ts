import { keccak256, stringToHex } from "viem"
import { publishEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { makeChainAccess } from "../../chains/index.ts"
import { type ChorusEvent, type Envelope, makeEnvelope, toAddress } from "../../schemas/index.ts"
import {
  type ChorusConfig,
  checkpointDomainOf,
  type OperatorConfig,
  operatorIdentity,
} from "../config/index.ts"
import {
  chainHaltsView,
  type LaneCore,
  laneGroup,
  producerOf,
  type RunningService,
  type ServiceLogger,
  startLaneService,
} from "../runtime/index.ts"
import { makeOperatorCore, type OperatorState } from "./core.ts"
import { operator as definition } from "./definition.ts"
import { OperatorConfigError } from "./errors.ts"
import { makeInboxEpochObserver } from "./observe-inbox-epoch.ts"
import { makeOutboxObserver } from "./observe-outbox.ts"
import { makeRegistryObserver } from "./observe-registry.ts"
import { remoteSignatures } from "./remote-signatures.ts"
import { asToSign, verifyProposal } from "./verify-proposal.ts"

export interface StartOperatorDeps {
  readonly bus: BusPort
  readonly config: ChorusConfig
  /** This operator's entry (one of `config.operators`, or one built in code). */
  readonly operator: OperatorConfig
  readonly logger: ServiceLogger
  /** Called with every signature and refusal after it was published. */
  readonly onOutput?: (e: Envelope) => void
}

const checkRpcUrls = (config: ChorusConfig, operator: OperatorConfig, path: string) => {
  const configured: ReadonlyArray<number> = config.chains.map((c) => c.chainId)
  for (const chainId of Object.keys(operator.rpcUrls ?? {})) {
    if (!configured.includes(Number(chainId))) {
      throw new OperatorConfigError({ path: `${path}.rpcUrls`, chainId, configured: configured.join(", ") })
    }
  }
}

/**
 * A key no operator set holds: what a replay signs with, so a shadow run of
 * an operator never writes a signature anyone could submit (a replay over
 * planted reads would otherwise sign a forged root with the real key).
 */
export const SHADOW_SIGNING_KEY = keccak256(
  stringToHex("chorus replay: a throwaway key, never an operator's"),
)

/**
 * The core an operator runs; a replay's (`shadow`) decides as the same
 * operator but signs with {@link SHADOW_SIGNING_KEY}, and so does the core of
 * an operator whose key is in a remote signer, whose signatures are made
 * after the decision (`remoteSignatures`).
 *
 * @example
 * ```ts
 * const core = operatorCoreFor(config, config.operators[0]!)
 * const shadow = operatorCoreFor(config, config.operators[0]!, { shadow: true })
 * ```
 */
export const operatorCoreFor = (
  config: ChorusConfig,
  operator: OperatorConfig,
  options: { readonly shadow?: boolean } = {},
): LaneCore<OperatorState> => {
  const identity = operatorIdentity(config, operator)
  // A key in a remote signer signs after the decision (remote-signatures.ts); the core's own signatures are thrown away.
  const local = options.shadow !== true && typeof identity.key === "string"
  return makeOperatorCore({
    privateKey: local ? (identity.key as `0x${string}`) : SHADOW_SIGNING_KEY,
    operator: identity.address,
    domain: checkpointDomainOf(config),
    chains: config.chains,
    maxBlocksAhead: operator.maxBlocksAhead,
  })
}

/**
 * Starts one restaked operator: a consumer group of its own on the proposals
 * topic (every operator sees every proposal), its own key and its own RPCs.
 * Its name is `operator/<checksummed address>`.
 *
 * @example
 * ```ts
 * const running = await startOperator({ bus, config, operator: config.operators[0]!, logger })
 * await running.stop()
 * ```
 */
export const startOperator = async (deps: StartOperatorDeps): Promise<RunningService> => {
  const { bus, config, operator } = deps
  const index = config.operators.indexOf(operator)
  checkRpcUrls(config, operator, index >= 0 ? `operators[${index}]` : "operator")
  const { address, key } = operatorIdentity(config, operator)
  const logger = deps.logger.child({ operator: address })

  const chains = makeChainAccess(config, { rpcUrlsOverride: operator.rpcUrls ?? {} })

  const abort = new AbortController()
  const producer = producerOf("operator", address)
  const observeOutbox = makeOutboxObserver({
    operator: address.toLowerCase(),
    chains: config.chains,
    readerFor: (chainId) => chains.reader(chainId),
    finalityWaitMs: operator.finalityWaitMs,
    maxBlocksAhead: operator.maxBlocksAhead,
    rpcFaults: config.rpc,
    // A stall of its RPC is a read of its own, caused by the proposal it holds (the runtime publishes the
    // other reads once `observe` returns; this one happens while it waits).
    record: async (event, input) => {
      await publishEvents(bus, [makeEnvelope(event, { producer, causationId: input.id, time: new Date() })])
    },
    logger,
    signal: abort.signal,
    // Which source chains are halted on the log: nothing of them is signed until a resume lifts the halt.
    halts: chainHaltsView(bus, logger),
  })
  const observeInboxEpoch = makeInboxEpochObserver({
    operator: toAddress(address),
    chains: config.chains,
    readerFor: (chainId) => chains.reader(chainId),
    finalityWaitMs: operator.finalityWaitMs,
    rpcFaults: config.rpc,
    logger,
    signal: abort.signal,
  })
  /** The source-chain reads, then, only for a checkpoint they verify, the destination Inbox's epoch to sign under. */
  const observeToSign = async (
    state: OperatorState,
    input: Envelope,
  ): Promise<ReadonlyArray<ChorusEvent>> => {
    const reads = await observeOutbox(state, input)
    const toSign = asToSign(input.event)
    if (toSign === undefined) return reads
    const laneReads = reads.filter((e) => e._tag === "OutboxLaneRead")
    if (verifyProposal(toSign, laneReads, toAddress(address)).result !== "verified") return reads
    return [...reads, ...(await observeInboxEpoch(toSign))]
  }
  const hub = { chainId: config.network.registryChainId, registry: toAddress(config.network.registry) }
  // Without the hub chain among its chains it cannot verify an update, so it reads nothing and refuses.
  const observeRegistry: (input: Envelope) => Promise<ReadonlyArray<ChorusEvent>> = config.chains.some(
    (c) => c.chainId === hub.chainId,
  )
    ? makeRegistryObserver({
        operator: toAddress(address),
        hub,
        reader: chains.reader(hub.chainId),
        finalityWaitMs: operator.finalityWaitMs,
        rpcFaults: config.rpc,
        logger,
        signal: abort.signal,
      })
    : async () => []
  const service = await startLaneService({
    bus,
    service: "operator",
    instance: address,
    groupId: laneGroup(definition, { operator: address }),
    inputs: definition.consumes,
    core: operatorCoreFor(config, operator),
    ...(typeof key === "string" ? {} : { seal: remoteSignatures(key, checkpointDomainOf(config)) }),
    observe: (state, input) =>
      input.event._tag === "OperatorSetObserved" ? observeRegistry(input) : observeToSign(state, input),
    logger,
    onOutput: (envelope) => {
      const event = envelope.event
      if (event._tag === "AttestationSigned") {
        logger.info("signed", {
          lane: envelope.key,
          count: event.checkpoint.count,
          root: event.checkpoint.root,
        })
      } else if (event._tag === "AttestationRefused") {
        logger.warn("refused to sign", {
          lane: envelope.key,
          count: event.checkpoint.count,
          reason: event.reason,
          detail: event.detail,
        })
      } else if (event._tag === "OperatorSetSigned") {
        logger.info("signed the operator-set update", { epoch: event.epoch, digest: event.digest })
      } else if (event._tag === "OperatorSetRefused") {
        logger.warn("refused the operator-set update", {
          epoch: event.epoch,
          reason: event.reason,
          detail: event.detail,
        })
      }
      deps.onOutput?.(envelope)
    },
  })
  logger.info("operator started", { group: laneGroup(definition, { operator: address }) })

  return {
    name: service.name,
    done: service.done,
    stop: () => {
      abort.abort()
      return service.stop()
    },
  }
}
