/**
 * Starts the submitter of one destination chain: the lane runtime folding
 * its inputs (`chorus.checkpoints.attested`, `chorus.messages.proven`, retry
 * requests on `chorus.commands.retry`, and its own outcomes on
 * `chorus.deliveries`) into state and publishing the core's outputs (a
 * `ProofRefused` for a chunk that does not verify, on `chorus.deliveries`,
 * before the chunk's offset is committed), and a polling loop
 * that calls `tick()` every `pollIntervalMs` — at once after a tick that
 * changed something (sent, confirmed, skipped…), since more may be due.
 * A misconfiguration found by the first tick (the RPC serves another chain,
 * no Inbox at the address) halts it: `done` rejects with
 * `SubmitterMisconfiguredError`.
 *
 * It is its chain's single writer (one account, one nonce sequence), made
 * safe by the group rather than by convention: several members may run for
 * one chain (consumer group `chorus.submitter.<chainId>`, `assignment:
 * "single"`); one holds every partition and sends, the others stand by, and
 * every broadcast waits for the group's word that its member still holds
 * them (`Subscription.fence`).
 *
 * @module
 */
import { publishEvents } from "../../../bus/events/index.ts"
import type { BusPort } from "../../../bus/port.ts"
import { makeChainAccess } from "../../../chains/index.ts"
import { ChorusError } from "../../../errors/index.ts"
import { processMetrics } from "../../../metrics/process-metrics.ts"
import { type ChorusEvent, type Envelope, type EventId, makeEnvelope } from "../../../schemas/index.ts"
import { type ChorusConfig, chainOf, resolveSigningKey, type SubmitterConfig } from "../../config/index.ts"
import {
  chainHaltsView,
  type LaneService,
  laneGroup,
  producerOf,
  type RunningService,
  type ServiceLogger,
  startLaneService,
} from "../../runtime/index.ts"
import { makeSubmitterCore, pendingByLane, type SubmitterState } from "../core/index.ts"
import { submitter as submitterDefinition } from "../definition.ts"
import type { TickKind, TickResult } from "./tick-result.ts"
import { makeTicker } from "./ticker.ts"
import { stateViewsOf } from "./views.ts"

export interface Submitter extends RunningService {
  /** One step of the writer (see `ticker.ts`); the polling loop calls it, tests may drive it. */
  tick(): Promise<TickResult>
}

/** The submitter cannot work with its configuration (the wrong chain behind the RPC, no Inbox). */
export class SubmitterMisconfiguredError extends ChorusError {
  override readonly name = "SubmitterMisconfiguredError"
  declare readonly details: { readonly chainId: number; readonly reason: string }
  constructor(details: { chainId: number; reason: string }) {
    super(`submitter ${details.chainId} stopped: ${details.reason}`, {
      details,
      hint: "Fix the config and start it again.",
    })
  }
}

export interface SubmitterDeps {
  readonly bus: BusPort
  readonly config: ChorusConfig
  readonly submitter: SubmitterConfig
  readonly logger: ServiceLogger
  /** Start the polling loop (default true); tests pass false and call `tick()`. */
  readonly autoStart?: boolean
  /** Called with every event the submitter recorded, after it was published. */
  readonly onOutput?: (envelope: Envelope) => void
}

/** Results after which there may be more to do at once. */
const BUSY: ReadonlySet<TickKind> = new Set([
  "skipped",
  "retry-refused",
  "refused",
  "submitted",
  "replaced",
  "gap-filled",
  "confirmed",
  "reverted",
  "superseded",
  "dropped",
])
/** Stages of an operator-set update after which there may be more to do at once. */
const SET_BUSY: ReadonlySet<string> = new Set(["submitted", "applied", "refused"])
const QUIET: ReadonlySet<TickKind> = new Set([
  "idle",
  "standby",
  "waiting",
  "pending",
  "confirming",
  "catching-up",
  "backing-off",
])

/**
 * Starts the submitter for `submitter.chainId`.
 *
 * @example
 * ```ts
 * const submitter = await startSubmitter({ bus, config, submitter: config.submitters[0]!, logger })
 * await submitter.stop()
 * ```
 */
export const startSubmitter = async (deps: SubmitterDeps): Promise<Submitter> => {
  const { bus, config, submitter: settings, logger } = deps
  const chainId = settings.chainId
  const chain = chainOf(config, chainId)
  const index = config.submitters.findIndex((s) => s.chainId === chainId)
  const privateKey = resolveSigningKey(
    settings.privateKey,
    index >= 0 ? `submitters[${index}].privateKey` : "submitter.privateKey",
  )
  // The writer and the Inbox reads share one connection to the chain (one client, one chain-id check).
  const chains = makeChainAccess(config)
  const writer = chains.writer(chainId, privateKey)
  const core = makeSubmitterCore(chainId)
  const groupId = laneGroup(submitterDefinition, { chainId })
  const producer = producerOf("submitter", String(chainId))
  const service: LaneService<SubmitterState> = await startLaneService({
    bus,
    service: "submitter",
    instance: String(chainId),
    groupId,
    inputs: submitterDefinition.consumes,
    core,
    logger,
    assignment: "single",
    onOutput: (envelope) => {
      // A refused chunk is someone's fault upstream (a buggy or hostile proof-builder key): worth a warning.
      if (envelope.event._tag === "ProofRefused") {
        const { checkpoint, start, messageCount, reason, detail } = envelope.event
        logger.warn("proof chunk refused", {
          chunk: envelope.causationId,
          lane: `${checkpoint.srcChainId}:${checkpoint.outbox}:${checkpoint.dstChainId}`,
          count: checkpoint.count,
          start,
          messages: messageCount,
          reason,
          detail,
        })
      }
      deps.onOutput?.(envelope)
    },
  })
  const views = stateViewsOf(service, chainId)
  const ticker = makeTicker({
    settings,
    chain: writer,
    reader: chains.reader(chainId).inbox(chain.inbox),
    views,
    publish: (envelopes) => publishEvents(bus, envelopes),
    stamp: (event: ChorusEvent, cause: EventId | null, time: Date) =>
      makeEnvelope(event, { producer, causationId: cause, time }),
    logger,
    halts: chainHaltsView(bus, logger),
    ...(deps.onOutput === undefined ? {} : { onOutput: deps.onOutput }),
  })
  logger.info("submitter started", { chainId, account: writer.sender, inbox: chain.inbox })
  const metrics = processMetrics()
  const unscrape = metrics?.onScrape(async () => {
    for (const [lane, count] of pendingByLane(service.heldStates().values())) {
      metrics.setGauge("pendingMessages", { lane }, count)
    }
    // A balance that cannot be read keeps its last value: the failed RPC has its own metric.
    const balance = await writer.balance()
    metrics.setGauge("balance", { chain: String(chainId), account: writer.sender }, Number(balance))
  })

  let timer: NodeJS.Timeout | undefined
  let looping = deps.autoStart !== false
  const loop = async () => {
    timer = undefined
    if (!looping) return
    let delay = settings.pollIntervalMs
    try {
      const result = await ticker.tick()
      if (!QUIET.has(result.kind)) {
        const level = ["rpc-error", "bus-error", "fenced"].includes(result.kind) ? "warn" : "info"
        logger[level](`tick: ${result.kind}`, { ...result })
      }
      if (result.kind === "misconfigured") {
        fail(new SubmitterMisconfiguredError({ chainId, reason: result.reason }))
        return
      }
      // More may be due at once after a step that changed something; catching up is a short wait.
      if (BUSY.has(result.kind) || (result.kind === "set-update" && SET_BUSY.has(result.stage))) delay = 0
      else if (result.kind === "catching-up") delay = Math.min(25, settings.pollIntervalMs)
    } catch (error) {
      logger.error("tick failed unexpectedly; retrying after the poll interval", { error })
    }
    if (looping) timer = setTimeout(loop, delay)
  }
  if (looping) timer = setTimeout(loop, 0)

  let stopping: Promise<void> | undefined
  let settle: { resolve: () => void; reject: (error: Error) => void } = {
    resolve: () => {},
    reject: () => {},
  }
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject }
  })
  // Whoever awaits `done` sees a fatal error; nobody awaiting it must not crash the process.
  done.catch(() => undefined)
  const running = service
  const halt = async () => {
    looping = false
    unscrape?.()
    if (timer !== undefined) clearTimeout(timer)
    await ticker.stop()
    await running.stop()
  }
  const stop = () => {
    stopping ??= halt().then(() => {
      logger.info("submitter stopped", { chainId })
      settle.resolve()
    })
    return stopping
  }
  /** A fatal error: the submitter stops and `done` rejects with it. */
  function fail(error: Error) {
    logger.error("submitter halted", { error: error.message })
    stopping ??= halt().then(() => settle.reject(error))
  }
  return { name: `submitter/${chainId}`, done, tick: () => ticker.tick(), stop }
}
