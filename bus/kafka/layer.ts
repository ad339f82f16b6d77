/**
 * The Kafka adapter as an Effect layer providing the {@link Bus} service.
 *
 * Invariants:
 * - The bus is opened when the layer is built and closed (gracefully:
 *   subscriptions finish their in-flight records and commit) when the
 *   layer's scope closes.
 * - Building fails with the adapter's {@link KafkaBusError} (e.g.
 *   `KafkaUnreachableError`), never with an untyped defect.
 *
 * @module
 */
import { Effect, Layer } from "effect"
import { Bus } from "../port.ts"
import { type KafkaBusOptions, openKafkaBus } from "./bus.ts"
import { KafkaBusError, translateKafkaError } from "./errors.ts"

/**
 * A layer providing {@link Bus} through Kafka.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bus } from "../port.ts"
 *
 * const program = Effect.gen(function* () {
 *   const bus = yield* Bus
 *   return yield* Effect.promise(() => bus.partitions("chorus.messages.observed"))
 * })
 * await Effect.runPromise(Effect.provide(program, KafkaBusLive({ brokers: ["127.0.0.1:9092"] })))
 * ```
 */
export const KafkaBusLive = (options: KafkaBusOptions): Layer.Layer<Bus, KafkaBusError> =>
  Layer.effect(
    Bus,
    Effect.acquireRelease(
      Effect.tryPromise({
        try: () => openKafkaBus(options),
        catch: (error) =>
          error instanceof KafkaBusError
            ? error
            : translateKafkaError(error, { operation: "connect", brokers: options.brokers }),
      }),
      (bus) => Effect.promise(() => bus.close()),
    ),
  )
