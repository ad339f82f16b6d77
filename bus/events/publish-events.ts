import { processMetrics } from "../../metrics/process-metrics.ts"
import { type Envelope, encodeEnvelope } from "../../schemas/index.ts"
import { topicFor } from "../../topology/index.ts"
import type { BusPort, RecordPosition } from "../port.ts"

/**
 * Publishes envelopes on the topics the topology assigns to their types,
 * keyed by their partition keys. Resolves once every record is acknowledged.
 *
 * The record's timestamp is left to the bus: it is when the record was
 * written to the log. The envelope's `time` is the fact's logical time (a
 * core's outputs carry their input's), so a replay reproduces it; the log
 * time is what a timeline of what actually happened, and a replay window
 * given as a time, are measured in.
 *
 * @example
 * ```ts
 * await publishEvents(bus, [makeEnvelope(event, context)])
 * ```
 */
export const publishEvents = async (
  bus: BusPort,
  envelopes: ReadonlyArray<Envelope>,
): Promise<ReadonlyArray<RecordPosition>> => {
  if (envelopes.length === 0) return []
  const positions = await bus.publish(
    envelopes.map((envelope) => {
      const record = encodeEnvelope(envelope)
      return {
        topic: topicFor(envelope.type),
        key: record.key,
        value: record.value,
        headers: record.headers,
      }
    }),
  )
  processMetrics()?.published(envelopes)
  return positions
}
