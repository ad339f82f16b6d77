/**
 * Every topic Chorus uses, declared once: name, partitions, key, cleanup
 * policy, retention, and which event types travel on it.
 *
 * Lane topics are keyed by lane (`src-dst`), so each lane's events stay in
 * order on one partition; chain topics are keyed by chain id. Command topics
 * (`chorus.commands.*`) carry requests from operator tools to a service; they
 * are keyed and partitioned like the service's other inputs. Event logs keep
 * everything (they are the audit trail and the replay source); only the
 * watcher cursors are compacted, because only the latest cursor per chain
 * matters.
 *
 * @module
 */
import type { TopicSpec } from "../bus/port.ts"
import type { EventType } from "../schemas/index.ts"

export interface TopicDeclaration extends TopicSpec {
  readonly description: string
  /** What the record key is. */
  readonly key: "lane" | "chain" | "source partition"
  /** The event types that travel on this topic (empty for raw records such as dead letters). */
  readonly events: ReadonlyArray<EventType>
}

const FOREVER = -1
const SEVEN_DAYS = 7 * 24 * 60 * 60 * 1000

/** The topics, by a short name used in code. */
export const TOPICS = {
  messagesObserved: {
    name: "chorus.messages.observed",
    description: "Messages read from finalized Outbox logs, one per message.",
    partitions: 6,
    key: "lane",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["MessageObserved"],
  },
  watcherCursors: {
    name: "chorus.watcher.cursors",
    description: "Each chain-watcher's cursor (block number and hash); the latest per chain is kept.",
    partitions: 3,
    key: "chain",
    cleanupPolicy: "compact",
    retentionMs: FOREVER,
    events: ["WatcherCursor"],
  },
  chainHalts: {
    name: "chorus.chain.halts",
    description:
      "A watcher's chain faults: its chain rewritten below finality (it stopped; its messages are quarantined) until `chorus chain resume` lifts the halt from a trusted block, or its RPC failing past the bound (it keeps trying), and back.",
    partitions: 1,
    key: "chain",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["ChainHalted", "ChainResumed", "WatcherStalled", "WatcherRecovered"],
  },
  watcherReads: {
    name: "chorus.watcher.reads",
    description:
      "What each chain-watcher read from its chain: finalized ranges, their Outbox logs and each lane's Outbox count around them, short reads included, and single messages re-read for a proof-builder's nonce gap (the watcher core's input).",
    partitions: 3,
    key: "chain",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["OutboxRangeRead", "OutboxNonceRead"],
  },
  laneReads: {
    name: "chorus.lane.reads",
    description:
      "Chain reads that lane services made while handling an event: Outbox roots and counts, destination operator sets, an operator's source chain head and the halt (and resume) it saw of that chain on the log, reads that failed (an RPC unreachable past the bound, and back; an answer that does not decode), and the destination's answers behind each step a submitter recorded (receipts, Inbox state, estimate reverts, broadcasts).",
    partitions: 6,
    key: "lane",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: [
      "OutboxLaneRead",
      "OperatorSetRead",
      "ChainHeadRead",
      "ChainHaltRead",
      "ChainReadFailed",
      "ChainReadRecovered",
      "DestinationRead",
      "RegistrySetRead",
      "InboxSetRead",
      "InboxEpochRead",
    ],
  },
  checkpointsProposed: {
    name: "chorus.checkpoints.proposed",
    description: "Lane checkpoints the proof-builder checked against the Outbox, for operators to sign.",
    partitions: 6,
    key: "lane",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["CheckpointProposed", "LaneStalled", "MessageRejected"],
  },
  checkpointsResign: {
    name: "chorus.checkpoints.resign",
    description:
      "Checkpoints the collector asks every operator to sign again, because their destination Inbox moved to another epoch before committing them.",
    partitions: 6,
    key: "lane",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["CheckpointResignRequested"],
  },
  messagesProven: {
    name: "chorus.messages.proven",
    description: "Range proofs for chunks of a checkpoint's new messages, and a single proof per message.",
    partitions: 6,
    key: "lane",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["MessageProven"],
  },
  attestationsSigned: {
    name: "chorus.attestations.signed",
    description:
      "Operator signatures over checkpoints each operator verified on its own RPC, and refusals with reasons.",
    partitions: 6,
    key: "lane",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["AttestationSigned", "AttestationRefused"],
  },
  checkpointsAttested: {
    name: "chorus.checkpoints.attested",
    description: "Checkpoints whose signatures met the destination's stake threshold.",
    partitions: 6,
    key: "lane",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["CheckpointAttested"],
  },
  attestationVerdicts: {
    name: "chorus.attestations.verdicts",
    description:
      "The collector's verdict on every signature (accepted, late, duplicate, unknown signer, invalid) and expired proposals.",
    partitions: 6,
    key: "lane",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["SignatureVerdict", "CheckpointExpired"],
  },
  // The operator-set flow's topics are keyed by the hub chain, and partitioned as the lane topics: the operators'
  // and the collector's lane runtime consumes them beside their lane inputs, co-partitioned, with their reads on
  // chorus.lane.reads.
  operatorSets: {
    name: "chorus.operator-sets",
    description:
      "The hub registry's whole operator set, each time the set-watcher finds it changed at the hub's finality: what operators verify and sign to carry it to every Inbox.",
    partitions: 6,
    key: "chain",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["OperatorSetObserved"],
  },
  operatorSetsSigned: {
    name: "chorus.operator-sets.signed",
    description:
      "Operator signatures over operator-set updates each operator verified on its own hub RPC, and refusals with reasons.",
    partitions: 6,
    key: "chain",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["OperatorSetSigned", "OperatorSetRefused"],
  },
  operatorSetsAttested: {
    name: "chorus.operator-sets.attested",
    description:
      "Operator-set updates, one per destination (keyed by it), whose signatures met the stake threshold of the set that destination's Inbox trusts.",
    partitions: 6,
    key: "chain",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["OperatorSetAttested"],
  },
  evidence: {
    name: "chorus.evidence",
    description:
      "Evidence against operators: one operator's signatures over two roots for one lane and count (what the hub's OperatorRegistry.proveEquivocation takes).",
    partitions: 6,
    key: "lane",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["OperatorEquivocated", "OperatorAttestedInvalid"],
  },
  deliveries: {
    name: "chorus.deliveries",
    description:
      "Submitter outcomes: roots committed, transactions submitted, confirmed or failed, retry requests refused, proof chunks refused; and each destination's operator-set updates sent, applied or refused (keyed by the destination chain).",
    partitions: 6,
    key: "lane",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: [
      "RootCommitted",
      "DeliverySubmitted",
      "DeliveryConfirmed",
      "DeliveryFailed",
      "DeliverySkipped",
      "RetryRefused",
      "ProofRefused",
      "OperatorSetSubmitted",
      "OperatorSetApplied",
      "OperatorSetUpdateFailed",
    ],
  },
  commandsRetry: {
    name: "chorus.commands.retry",
    description:
      "Requests to re-drive a message (`chorus retry`), for the destination's submitter; it answers on chorus.deliveries.",
    // Co-partitioned with the submitter's other inputs (same count, same lane key), so a request reaches the
    // member that holds its lane.
    partitions: 6,
    key: "lane",
    cleanupPolicy: "delete",
    retentionMs: FOREVER,
    events: ["RetryRequested"],
  },
  deadLetters: {
    name: "chorus.dead-letters",
    description: "Records a consumer could not decode, with raw bytes, the error and their origin.",
    partitions: 1,
    key: "source partition",
    cleanupPolicy: "delete",
    retentionMs: SEVEN_DAYS * 4,
    events: [],
  },
} as const satisfies Record<string, TopicDeclaration>

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS]["name"]

/** Every declared topic. */
export const ALL_TOPICS: ReadonlyArray<TopicDeclaration> = Object.values(TOPICS)

/**
 * The topic an event type is published on.
 *
 * @example
 * ```ts
 * topicFor("MessageObserved") // "chorus.messages.observed"
 * ```
 */
export const topicFor = (type: EventType): TopicName => {
  const topic = Object.values(TOPICS).find((t) => (t.events as ReadonlyArray<string>).includes(type))
  if (topic === undefined) throw new Error(`No topic carries ${type}; declare it in topology/topics.ts`)
  return topic.name
}

/**
 * Looks a topic up by name.
 *
 * @example
 * ```ts
 * topicByName("chorus.deliveries")?.partitions // 6
 * ```
 */
export const topicByName = (name: string): TopicDeclaration | undefined =>
  ALL_TOPICS.find((t) => t.name === name)
