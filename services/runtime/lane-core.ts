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
import { type ChorusEvent, type Envelope, makeEnvelope, type Producer } from "../../schemas/index.ts"
import { RecentIds } from "./recent-ids.ts"

export interface Decision<S> {
  readonly state: S
  readonly outputs: ReadonlyArray<ChorusEvent>
}

export interface LaneCore<S> {
  /** The state before any input. */
  readonly initial: S
  /** Folds one input, with the chain reads recorded for it, into new state and outputs. */
  readonly decide: (state: S, input: Envelope, reads: ReadonlyArray<Envelope>) => Decision<S>
}

/**
 * Stamps a core's outputs: caused by `input`, at `input`'s time.
 *
 * @example
 * ```ts
 * const envelopes = stampOutputs(producer, input, decision.outputs)
 * ```
 */
export const stampOutputs = (
  producer: Producer,
  input: Envelope,
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
    outputs.push(...stampOutputs(producer, input, decision.outputs))
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
