/**
 * The rule of chain halts, pure: which halt or resume a record states
 * (`haltEventOf`) and how it folds into a chain's status (`foldChainHalt`).
 * Apart from `chain-halts.ts` (the view that reads the topic, which
 * re-exports all of this) so that a reader of the audit index folds halts
 * without loading the bus's decode edge or the chain adapters (issue 13).
 *
 * @module
 */
import type { BlockRef, Envelope, EventId } from "../../schemas/index.ts"

/** The only producer whose `ChainHalted` is folded: a chain's own watcher. */
export const CHAIN_HALT_WRITER = "chain-watcher"
/** The only producer whose `ChainResumed` is folded: the `chorus chain resume` tool. */
export const CHAIN_RESUME_WRITER = "chain-resume"

/** A chain the log says is halted. */
export interface ChainHalt {
  readonly chainId: number
  /** The block the watcher found rewritten under its cursor. */
  readonly blockNumber: number
  readonly reason: string
  /** The `ChainHalted` record, and when it was written (ms). */
  readonly eventId: EventId
  readonly since: number
}

/** The resume that lifted a chain's last halt. */
export interface ChainResume {
  readonly chainId: number
  /** The `ChainResumed` record, and when it was written (ms): work attested before it is not trusted above `counts`. */
  readonly eventId: EventId
  readonly at: number
  /** The trusted block: the watcher reads the chain again from the block after it. */
  readonly block: BlockRef
  /** The chain's Outbox (lowercase), whose lane counts `counts` are. */
  readonly outbox: string
  /** Each lane's Outbox count at the trusted block, by destination chain id. */
  readonly counts: ReadonlyMap<number, number>
  /** The halt it lifted. */
  readonly halt: ChainHalt
  /** Who ran `chorus chain resume`, and why (null: no reason given). */
  readonly by: string
  readonly reason: string | null
}

/** Where a chain stands on the log: halted, or resumed after its last halt. A chain never halted has none. */
export type ChainStatus =
  | { readonly kind: "halted"; readonly halt: ChainHalt }
  | { readonly kind: "resumed"; readonly resume: ChainResume }

/** One record of the halts topic, as the rule folds it. */
export type HaltEvent =
  | { readonly kind: "halted"; readonly halt: ChainHalt }
  | {
      readonly kind: "resumed"
      /** The resume, without the halt it names (the fold finds it). */
      readonly resume: Omit<ChainResume, "halt">
      /** The `ChainHalted` it names. */
      readonly lifts: EventId
    }

/** What folding one record did: the chain's new status, or nothing, and why. */
export type HaltFold =
  | { readonly kind: "folded"; readonly status: ChainStatus }
  | { readonly kind: "ignored"; readonly reason: string }

/**
 * The halt or resume a record states, if its writer may state it; `ignored` with the reason otherwise
 * (another event of the topic, or a halt or resume from a producer that does not write them).
 *
 * @example
 * ```ts
 * haltEventOf(envelope) // { kind: "halted", halt: { chainId: 901, blockNumber: 41, … } }
 * ```
 */
export const haltEventOf = (
  envelope: Envelope,
): HaltEvent | { readonly kind: "ignored"; readonly reason: string } => {
  const event = envelope.event
  const writer = envelope.producer.service
  const time = Date.parse(envelope.time)
  switch (event._tag) {
    case "ChainHalted":
      if (writer !== CHAIN_HALT_WRITER)
        return {
          kind: "ignored",
          reason: `a ChainHalted written by ${writer}, not by a ${CHAIN_HALT_WRITER}`,
        }
      return {
        kind: "halted",
        halt: {
          chainId: event.chainId,
          blockNumber: event.blockNumber,
          reason: event.reason,
          eventId: envelope.id,
          since: time,
        },
      }
    case "ChainResumed":
      if (writer !== CHAIN_RESUME_WRITER)
        return {
          kind: "ignored",
          reason: `a ChainResumed written by ${writer}, not by the ${CHAIN_RESUME_WRITER} tool`,
        }
      return {
        kind: "resumed",
        lifts: event.halt,
        resume: {
          chainId: event.chainId,
          eventId: envelope.id,
          at: time,
          block: event.block,
          outbox: event.outbox.toLowerCase(),
          counts: new Map(event.lanes.map((lane) => [lane.dstChainId, lane.count])),
          by: event.by,
          reason: event.reason,
        },
      }
    default:
      return { kind: "ignored", reason: `a ${event._tag}: no halt and no resume` }
  }
}

/**
 * Folds one halt or resume into a chain's status (the module's rule). Pure.
 *
 * @example
 * ```ts
 * foldChainHalt(null, { kind: "halted", halt }) // { kind: "folded", status: { kind: "halted", halt } }
 * foldChainHalt({ kind: "halted", halt }, { kind: "resumed", resume, lifts: halt.eventId }).status.kind // "resumed"
 * ```
 */
export const foldChainHalt = (current: ChainStatus | null, event: HaltEvent): HaltFold => {
  if (event.kind === "halted") {
    // An authentic halt written again (anyone can copy a record) is no new halt: one already in force, or one
    // written before the resume that lifted the chain, halts nothing. A new rewrite is a new record, written later.
    if (current?.kind === "halted" && current.halt.eventId === event.halt.eventId)
      return {
        kind: "ignored",
        reason: `ChainHalted ${event.halt.eventId} is already in force (written again)`,
      }
    if (current?.kind === "resumed" && event.halt.since <= current.resume.at)
      return {
        kind: "ignored",
        reason: `ChainHalted ${event.halt.eventId} was written before ChainResumed ${current.resume.eventId} lifted chain ${event.halt.chainId}'s halt: a copy of an old halt halts nothing`,
      }
    return { kind: "folded", status: { kind: "halted", halt: event.halt } }
  }
  const chain = event.resume.chainId
  if (current === null || current.kind === "resumed")
    return {
      kind: "ignored",
      reason: `ChainResumed ${event.resume.eventId} lifts halt ${event.lifts}, but chain ${chain} is not halted`,
    }
  if (current.halt.eventId !== event.lifts)
    return {
      kind: "ignored",
      reason: `ChainResumed ${event.resume.eventId} lifts halt ${event.lifts}, but chain ${chain}'s last halt is ${current.halt.eventId} (block ${current.halt.blockNumber})`,
    }
  return { kind: "folded", status: { kind: "resumed", resume: { ...event.resume, halt: current.halt } } }
}
