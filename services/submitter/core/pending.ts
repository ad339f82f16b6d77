import type { SubmitterState } from "./state.ts"

/**
 * The messages a submitter holds proven and not yet settled, by lane (`src-dst`): the messages of its pending
 * chunks less those settled already. A lane re-registered under another outbox adds to the same figure.
 *
 * @example
 * ```ts
 * pendingByLane(states) // Map { "901-902" => 12 }
 * ```
 */
export const pendingByLane = (states: Iterable<SubmitterState>): ReadonlyMap<string, number> => {
  const pending = new Map<string, number>()
  for (const state of states) {
    for (const lane of state.lanes.values()) {
      let count = 0
      for (const chunk of lane.chunks.values()) {
        for (const id of chunk.messageIds) if (!lane.settled.has(id)) count++
      }
      const key = `${lane.lane.srcChainId}-${lane.lane.dstChainId}`
      pending.set(key, (pending.get(key) ?? 0) + count)
    }
  }
  return pending
}
