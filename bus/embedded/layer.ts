/**
 * The embedded bus as an Effect layer providing the `Bus` service.
 *
 * Invariant: the bus is closed (gracefully: in-flight records finish and
 * commit) when the layer's scope closes.
 *
 * @module
 */
import { Effect, Layer } from "effect"
import { ChorusError } from "../../errors/index.ts"
import { Bus } from "../port.ts"
import { type EmbeddedBusOptions, openEmbeddedBus } from "./bus.ts"
import { DataDirLockedError, InvalidTopicError, SegmentCorruptError } from "./errors.ts"

/** Opening failed for a reason other than the typed ones (permissions, disk). */
export class EmbeddedBusOpenError extends ChorusError {
  override readonly name = "EmbeddedBusOpenError"
  constructor(dataDir: string, cause: unknown) {
    super(
      `cannot open the embedded bus in ${dataDir}: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        details: { dataDir },
        hint: "Check that the directory is writable and the disk is not full.",
        cause,
      },
    )
  }
}

export type EmbeddedBusError =
  | SegmentCorruptError
  | DataDirLockedError
  | InvalidTopicError
  | EmbeddedBusOpenError

/**
 * A layer that opens the embedded bus on `options.dataDir` and closes it with
 * the scope.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const bus = yield* Bus
 *   return yield* Effect.promise(() => bus.watermarks("chorus.messages.observed"))
 * })
 * Effect.runPromise(Effect.provide(program, EmbeddedBusLive({ dataDir: ".data/bus" })))
 * ```
 */
export const EmbeddedBusLive = (options: EmbeddedBusOptions): Layer.Layer<Bus, EmbeddedBusError> =>
  Layer.effect(Bus)(
    Effect.acquireRelease(
      Effect.tryPromise({
        try: () => openEmbeddedBus(options),
        catch: (cause): EmbeddedBusError =>
          cause instanceof SegmentCorruptError ||
          cause instanceof DataDirLockedError ||
          cause instanceof InvalidTopicError
            ? cause
            : new EmbeddedBusOpenError(options.dataDir, cause),
      }),
      (bus) => Effect.promise(() => bus.close()),
    ),
  )
