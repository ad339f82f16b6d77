/**
 * The service graph: which service reads which topic under which consumer
 * group, and which topics it writes. Tools draw the graph from here, and a
 * test holds the code to it.
 *
 * Chain-watchers and submitters run one instance per chain, so their
 * consumer groups carry the chain id (`{chainId}`); every operator has its own
 * group, because every operator must see every proposal. The auditor only
 * reads: it indexes every topic into a local file and writes nothing back.
 *
 * Operator tools that write to the bus (a command for a service) are declared
 * too (`TOOLS`), so every topic has a declared writer and the graph shows who
 * can put what on the log.
 *
 * @module
 */
import { TOPICS, type TopicName } from "./topics.ts"

export interface ServiceDeclaration {
  readonly name: ServiceName
  readonly description: string
  /** The consumer group; `{chainId}` and `{operator}` are filled per instance. */
  readonly group: string
  readonly reads: ReadonlyArray<TopicName>
  /** Empty for a read-only service (the auditor). */
  readonly writes: ReadonlyArray<TopicName>
  /** What the service reads from outside the bus (it enters as events), or writes outside it. */
  readonly external: string
}

export type ServiceName =
  | "chain-watcher"
  | "proof-builder"
  | "operator"
  | "attestation-collector"
  | "submitter"
  | "auditor"

const dead = TOPICS.deadLetters.name

export const SERVICES: ReadonlyArray<ServiceDeclaration> = [
  {
    name: "chain-watcher",
    description:
      "One per chain: reads Outbox events from finalized blocks, records each read, emits messages and its cursor.",
    group: "chorus.chain-watcher.{chainId}",
    reads: [TOPICS.watcherCursors.name],
    writes: [
      TOPICS.watcherReads.name,
      TOPICS.messagesObserved.name,
      TOPICS.watcherCursors.name,
      TOPICS.chainHalts.name,
      dead,
    ],
    external: "source chain RPC: finalized blocks and Outbox logs",
  },
  {
    name: "proof-builder",
    description:
      "Keeps each lane's tree, checks it against the Outbox, proposes checkpoints, emits range and single proofs.",
    group: "chorus.proof-builder",
    reads: [TOPICS.messagesObserved.name, TOPICS.laneReads.name],
    writes: [TOPICS.laneReads.name, TOPICS.checkpointsProposed.name, TOPICS.messagesProven.name, dead],
    external: "source chain RPC: the Outbox's lane root and count",
  },
  {
    name: "operator",
    description:
      "One per restaked operator: verifies a proposal on its own RPC and signs it, or refuses with a reason.",
    group: "chorus.operator.{operator}",
    reads: [TOPICS.checkpointsProposed.name, TOPICS.laneReads.name],
    writes: [TOPICS.laneReads.name, TOPICS.attestationsSigned.name, dead],
    external: "the operator's own source chain RPC",
  },
  {
    name: "attestation-collector",
    description:
      "Verifies signatures against the destination's operator set, counts stake, attests or expires.",
    group: "chorus.attestation-collector",
    reads: [TOPICS.checkpointsProposed.name, TOPICS.attestationsSigned.name, TOPICS.laneReads.name],
    writes: [TOPICS.laneReads.name, TOPICS.checkpointsAttested.name, TOPICS.attestationVerdicts.name, dead],
    external: "destination chain RPC: the Inbox's operator set",
  },
  {
    name: "submitter",
    description: "One writer per destination chain: commits roots, delivers proven chunks.",
    group: "chorus.submitter.{chainId}",
    reads: [
      TOPICS.checkpointsAttested.name,
      TOPICS.messagesProven.name,
      TOPICS.commandsRetry.name,
      TOPICS.deliveries.name,
    ],
    writes: [TOPICS.deliveries.name, dead],
    external: "destination chain RPC: transactions, receipts, delivered and failed state",
  },
  {
    name: "auditor",
    description: "Reads every topic and indexes each message's path through the log into a local file.",
    group: "chorus.auditor",
    reads: Object.values(TOPICS).map((t) => t.name),
    writes: [],
    external: "writes its index to a local file; reads no chain",
  },
]

/** An operator tool that writes to the bus: it reads without a consumer group (fixed ranges). */
export interface ToolDeclaration {
  readonly name: ToolName
  /** The command line that runs it. */
  readonly command: string
  readonly description: string
  readonly reads: ReadonlyArray<TopicName>
  readonly writes: ReadonlyArray<TopicName>
}

export type ToolName = "retry"

export const TOOLS: ReadonlyArray<ToolDeclaration> = [
  {
    name: "retry",
    command: "chorus retry <messageId>",
    description:
      "Asks the destination's submitter to re-drive a stuck or failed message, and follows its answer.",
    reads: [TOPICS.deliveries.name],
    writes: [TOPICS.commandsRetry.name],
  },
]

/**
 * Looks a service up by name.
 *
 * @example
 * ```ts
 * serviceByName("submitter").reads // ["chorus.checkpoints.attested", …]
 * ```
 */
export const serviceByName = (name: string): ServiceDeclaration => {
  const service = SERVICES.find((s) => s.name === name)
  if (service === undefined) {
    throw new Error(
      `Unknown service ${JSON.stringify(name)}; known: ${SERVICES.map((s) => s.name).join(", ")}`,
    )
  }
  return service
}

/**
 * The consumer group of one instance of a service.
 *
 * @example
 * ```ts
 * groupFor("submitter", { chainId: 902 }) // "chorus.submitter.902"
 * ```
 */
export const groupFor = (
  name: ServiceName,
  instance: { readonly chainId?: number; readonly operator?: string } = {},
): string => {
  const { group } = serviceByName(name)
  return group.replace(/\{(chainId|operator)\}/g, (_m, field: "chainId" | "operator") => {
    const value = instance[field]
    if (value === undefined) throw new Error(`${name} needs a ${field} for its consumer group (${group})`)
    return String(value)
  })
}
