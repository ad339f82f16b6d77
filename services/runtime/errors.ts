/**
 * Errors of the service runtime.
 *
 * @module
 */
import { ChorusError } from "../../errors/index.ts"

/**
 * A lane service's input topics have different partition counts, so one
 * shard could not hold whole lanes.
 */
export class NotCoPartitionedError extends ChorusError {
  override readonly name = "NotCoPartitionedError"
  constructor(
    service: string,
    inputs: ReadonlyArray<{ readonly topic: string; readonly partitions: number }>,
  ) {
    super(
      `${service}: input topics must be co-partitioned, but their partition counts differ (${inputs
        .map((i) => `${i.topic}=${i.partitions}`)
        .join(", ")})`,
      {
        details: { service, inputs },
        hint: "Give every lane topic the same partition count (`chorus topics describe` shows them); partition counts are set when topics are created.",
      },
    )
  }
}

/**
 * An input reached a shard that was discarded while it waited (a failed
 * publish, a revoke, a rebuild): it is refused so the bus redelivers it to
 * the rebuilt shard, and a half-applied state never takes it.
 */
export class ShardDiscardedError extends ChorusError {
  override readonly name = "ShardDiscardedError"
  constructor(service: string, partition: number) {
    super(`${service}: partition ${partition}'s shard was discarded before this input was handled`, {
      details: { service, partition },
      hint: "Nothing to do: the input is redelivered and handled by the shard rebuilt from the log.",
    })
  }
}
