import { type Envelope, encodeEnvelope } from "../../schemas/index.ts"
import { topicFor } from "../../topology/index.ts"
import type { BusPort, RecordPosition } from "../port.ts"

/**
 * Publishes envelopes on the topics the topology assigns to their types,
 * keyed by their partition keys. Resolves once every record is acknowledged.
 *
 * @example
 * ```ts
 * await publishEvents(bus, [makeEnvelope(event, context)])
 * ```
 */
export const publishEvents = (
  bus: BusPort,
  envelopes: ReadonlyArray<Envelope>,
): Promise<ReadonlyArray<RecordPosition>> =>
  envelopes.length === 0
    ? Promise.resolve([])
    : bus.publish(
        envelopes.map((envelope) => {
          const record = encodeEnvelope(envelope)
          return {
            topic: topicFor(envelope.type),
            key: record.key,
            value: record.value,
            headers: record.headers,
            timestamp: Date.parse(envelope.time),
          }
        }),
      )
