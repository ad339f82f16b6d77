/**
 * The submitter's definition: one writer per destination chain. It
 * consumes attested checkpoints, proofs, retry requests and its own
 * deliveries (so a restart knows every transaction it left in the air),
 * reads the chain halts (a halted source's messages are quarantined; a
 * resumed source's are trusted past the resume's counts only once attested
 * after it),
 * and writes the destination's answers, and its refusals of proof chunks
 * that do not verify, on `chorus.deliveries`, with the answers behind each
 * of its steps on `chorus.lane.reads` (`DestinationRead`).
 *
 * A replay folds its inputs and those reads: each read gives again the
 * records its step made, so a replay checks how every answer of the
 * destination became an outcome, without calling the chain.
 *
 * @module
 */
import { TOPICS } from "../../topology/index.ts"
import type { SubmitterConfig } from "../config/index.ts"
import { eraseCore } from "../runtime/lane-core.ts"
import {
  allPartitions,
  defineService,
  requireSome,
  type ServiceInstance,
} from "../runtime/service-definition.ts"
import { makeSubmitterCore } from "./core/fold.ts"

// Requests before outcomes: on a tie in record time, a rebuild folds a request before its answer.
const CONSUMES = [
  TOPICS.checkpointsAttested.name,
  TOPICS.operatorSetsAttested.name,
  TOPICS.messagesProven.name,
  TOPICS.commandsRetry.name,
  TOPICS.deliveries.name,
]

export const submitter = defineService<ServiceInstance & { readonly settings: SubmitterConfig }>({
  name: "submitter",
  description:
    "One writer per destination chain: commits roots, delivers proven chunks, applies attested operator-set updates.",
  group: "chorus.submitter.{chainId}",
  consumes: CONSUMES,
  // Which source chains are halted: their messages are quarantined (`services/runtime/chain-halts.ts`).
  reads: [TOPICS.chainHalts.name],
  writes: [TOPICS.deliveries.name, TOPICS.laneReads.name, TOPICS.deadLetters.name],
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
  replay: {
    kind: "replayable",
    // Its steps' reads, after its inputs: on a tie in record time a step's cause is folded first.
    inputs: [...CONSUMES, TOPICS.laneReads.name],
    // It reads its own records back: they are what a replay makes again.
    outputs: [TOPICS.deliveries.name],
    partitions: allPartitions,
    readsRecorded: false,
    // Its core makes nothing of another destination's lanes (every input is keyed by its lane, `src-dst`, and
    // a key its content contradicts does not decode). Production folds no reads topic: of it, a replay folds
    // the submitter's own steps alone, and no step met anywhere else (a copy under another producer would
    // otherwise take a step's id first).
    folds: (instance, topic, { type, producer, key }) =>
      key !== null &&
      key.slice(key.lastIndexOf("-") + 1) === instance.id &&
      (topic === TOPICS.laneReads.name
        ? type === "DestinationRead" && producer === `submitter/${instance.id}`
        : type !== "DestinationRead"),
    core: async (_config, instance) =>
      eraseCore(makeSubmitterCore(instance.settings.chainId, { steps: true })),
    unreplayed: {
      types: ["OperatorSetSubmitted", "OperatorSetApplied", "OperatorSetUpdateFailed"],
      reason:
        "an operator-set update's chain answers (its estimate, receipt and the Inbox's epoch) are not recorded as reads, so a replay cannot make its records again; each record carries the answer it states (transaction, block, gas, revert reason)",
    },
  },
  start: async ({ bus, config, instance, logger, onOutput }) =>
    (await import("./service/start.ts")).startSubmitter({
      bus,
      config,
      submitter: instance.settings,
      logger: logger.child({ chainId: instance.settings.chainId }),
      onOutput,
    }),
})
