/**
 * The shape of the service graph: what a service declares about its place
 * on the bus, and the operator tools that write to it. The services' own
 * definitions (`services/registry.ts`) fill it in; tools draw the graph from
 * them, and a test runs every service against a recording bus to hold the
 * code to what it declares.
 *
 * Three ways to touch a topic:
 * - `consumes`: as a consumer-group member (its committed offsets are the
 *   service's progress);
 * - `reads`: as fixed ranges, without a group (recorded chain reads folded
 *   on a rebuild, a watcher's resume point, the auditor's index);
 * - `writes`.
 *
 * @module
 */
import { TOPICS, type TopicName } from "./topics.ts"

export type ServiceName =
  | "chain-watcher"
  | "proof-builder"
  | "operator"
  | "attestation-collector"
  | "submitter"
  | "auditor"
  | "set-watcher"

export interface ServiceDeclaration {
  readonly name: ServiceName
  readonly description: string
  /** The consumer group; `{chainId}` and `{operator}` are filled per instance. Null: it joins none. */
  readonly group: string | null
  /** Topics it consumes as a group member, in the order its core folds them on a tie. */
  readonly consumes: ReadonlyArray<TopicName>
  /** Topics it reads as fixed ranges, without a group. */
  readonly reads: ReadonlyArray<TopicName>
  /** Empty for a read-only service (the auditor). */
  readonly writes: ReadonlyArray<TopicName>
  /** What it reads from chains (each read enters the log as an event), or writes outside the bus. */
  readonly external: string
}

/** An operator tool that writes to the bus: it reads without a consumer group (fixed ranges). */
export interface ToolDeclaration {
  readonly name: ToolName
  /** The command line that runs it. */
  readonly command: string
  readonly description: string
  readonly reads: ReadonlyArray<TopicName>
  readonly writes: ReadonlyArray<TopicName>
}

export type ToolName = "retry" | "chain-resume"

export const TOOLS: ReadonlyArray<ToolDeclaration> = [
  {
    name: "retry",
    command: "chorus retry <messageId>",
    description:
      "Asks the destination's submitter to re-drive a stuck or failed message, and follows its answer.",
    reads: [TOPICS.deliveries.name],
    writes: [TOPICS.commandsRetry.name],
  },
  {
    // The only writer of `ChainResumed`: consumers take a resume from this tool alone, and a halt
    // (`ChainHalted`) from a chain-watcher alone, though both write the halts topic.
    name: "chain-resume",
    command: "chorus chain resume <chainId> --from <block> --hash <hash>",
    description:
      "Lifts a halted chain's quarantine from a block trusted below the rewrite, read on the chain's RPC, and records who did it.",
    reads: [TOPICS.chainHalts.name],
    writes: [TOPICS.chainHalts.name],
  },
]

/** Every topic a service touches, however it does. */
export const topicsOf = (service: ServiceDeclaration): ReadonlyArray<TopicName> => [
  ...new Set([...service.consumes, ...service.reads, ...service.writes]),
]
