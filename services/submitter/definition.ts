/**
 * The submitter's definition: one writer per destination chain. It
 * consumes attested checkpoints, proofs, retry requests and its own
 * deliveries (so a restart knows every transaction it left in the air),
 * reads the chain halts (a halted source's messages are quarantined; a
 * resumed source's are trusted past the resume's counts only once attested
 * after it),
 * and writes the destination's answers, and its refusals of proof chunks
 * that do not verify, on `chorus.deliveries`.
 *
 * @module
 */
import { TOPICS } from "../../topology/index.ts"
import type { SubmitterConfig } from "../config/index.ts"
import { defineService, requireSome, type ServiceInstance } from "../runtime/service-definition.ts"

/** Why the submitter cannot be replayed (shown by `chorus replay --help` and its refusal). */
export const SUBMITTER_NOT_REPLAYABLE =
  "the submitter's core folds its inputs into state and emits nothing but its refusals of proof chunks that do not " +
  "verify (ProofRefused): every other event it writes (roots committed, deliveries submitted, confirmed, failed or " +
  "skipped, answers to retry requests) is made by its ticker from the clock and the destination chain's answers " +
  "(nonces, fees, receipts, the Inbox's state), which the log does not hold as inputs. Replay the services upstream " +
  "of it (proof-builder, attestation-collector) to check what it was given"

export const submitter = defineService<ServiceInstance & { readonly settings: SubmitterConfig }>({
  name: "submitter",
  description: "One writer per destination chain: commits roots, delivers proven chunks.",
  group: "chorus.submitter.{chainId}",
  // Requests before outcomes: on a tie in record time, a rebuild folds a request before its answer.
  consumes: [
    TOPICS.checkpointsAttested.name,
    TOPICS.messagesProven.name,
    TOPICS.commandsRetry.name,
    TOPICS.deliveries.name,
  ],
  // Which source chains are halted: their messages are quarantined (`services/runtime/chain-halts.ts`).
  reads: [TOPICS.chainHalts.name],
  writes: [TOPICS.deliveries.name, TOPICS.deadLetters.name],
  external: "destination chain RPC: transactions, receipts, delivered and failed state",
  single: false,
  instances: (config) =>
    requireSome(
      "submitter",
      "submitters",
      config.submitters.map((settings) => ({
        id: String(settings.chainId),
        aliases: [],
        label: String(settings.chainId),
        groupFields: { chainId: settings.chainId },
        settings,
      })),
    ),
  replay: { kind: "not-replayable", reason: SUBMITTER_NOT_REPLAYABLE },
  start: async ({ bus, config, instance, logger, onOutput }) =>
    (await import("./service/start.ts")).startSubmitter({
      bus,
      config,
      submitter: instance.settings,
      logger: logger.child({ chainId: instance.settings.chainId }),
      onOutput,
    }),
})
