/**
 * The shape of a pure service core, and the fold that runs one over a log.
 *
 * A core is `decide(state, input, reads) → { state, outputs }`: no I/O, no
 * clock, no randomness. What the service learned from outside while handling
 * `input` (a chain read) arrives as `reads`, events the runtime published on
 * `chorus.lane.reads` with the input as their cause before it called the
 * core. Outputs are stamped with the input as their cause and the input's
 * time, so their ids — and therefore a replay's ids — depend only on the log.
 *
 * @module
 */
import {
  type ChorusEvent,
  type Envelope,
  type EventId,
  makeEnvelope,
  type Producer,
} from "../../schemas/index.ts"
import { RecentIds } from "./recent-ids.ts"

export interface Decision<S> {
  readonly state: S
  readonly outputs: ReadonlyArray<ChorusEvent>
  /**
   * The outputs were recorded beside the input, not after it: they share its cause and its time (a
   * submitter's step, whose `DestinationRead` holds the answers they were made from). Absent: caused by it.
   */
  readonly besideInput?: true
}

/** What outputs are stamped from: the id that caused them (null for none) and the time they carry. */
export interface StampSource {
  readonly id: EventId | null
  readonly time: string
}

/**
 * What a decision's outputs are stamped from: its input, or — outputs recorded beside it — the input's own
 * cause and time.
 *
 * @example
 * ```ts
 * const envelopes = stampOutputs(producer, stampSourceOf(input, decision), decision.outputs)
 * ```
 */
export const stampSourceOf = (
  input: Envelope,
  decision: Pick<Decision<unknown>, "besideInput">,
): StampSource => (decision.besideInput === true ? { id: input.causationId, time: input.time } : input)

export interface LaneCore<S> {
  /** The state before any input. */
  readonly initial: S
  /** Folds one input, with the chain reads recorded for it, into new state and outputs. */
  readonly decide: (state: S, input: Envelope, reads: ReadonlyArray<Envelope>) => Decision<S>
}

/**
 * Stamps a core's outputs: caused by `input`, at `input`'s time (`input` may be a `stampSourceOf`).
 *
 * @example
 * ```ts
 * const envelopes = stampOutputs(producer, input, decision.outputs)
 * ```
 */
export const stampOutputs = (
  producer: Producer,
  input: StampSource,
  outputs: ReadonlyArray<ChorusEvent>,
): ReadonlyArray<Envelope> =>
  outputs.map((event) => makeEnvelope(event, { producer, causationId: input.id, time: new Date(input.time) }))

/**
 * Runs a core over a sequence of inputs and returns the final state and every
 * output envelope, in order. A duplicate input (same id) shortly after the first
 * is folded once, as the runtime does (`RecentIds`). This is what a replay runs, and what given/when/then tests use.
 *
 * @example
 * ```ts
 * const { outputs } = foldCore(core, producer, [{ input, reads: [] }])
 * ```
 */
export const foldCore = <S>(
  core: LaneCore<S>,
  producer: Producer,
  steps: Iterable<{ readonly input: Envelope; readonly reads: ReadonlyArray<Envelope> }>,
  from: S = core.initial,
): { readonly state: S; readonly outputs: ReadonlyArray<Envelope> } => {
  let state = from
  const seen = new RecentIds()
  const outputs: Envelope[] = []
  for (const { input, reads } of steps) {
    if (seen.has(input.id)) continue
    seen.add(input.id)
    const decision = core.decide(state, input, reads)
    state = decision.state
    outputs.push(...stampOutputs(producer, stampSourceOf(input, decision), decision.outputs))
  }
  return { state, outputs }
}

/**
 * Erases a core's state type; safe because a fold only passes the core states the core returned.
 *
 * @example
 * ```ts
 * const shadow = { ...target, core: eraseCore(proofBuilderCoreFor(config, { chunkSize: 8 })) }
 * ```
 */
export const eraseCore = <S>(core: LaneCore<S>): LaneCore<unknown> => core as unknown as LaneCore<unknown>
