/**
 * The state `tick()` plans from: the lane runtime's shards, merged, and
 * whether the runtime has caught up.
 *
 * The runtime rebuilds every shard as soon as its partition is assigned,
 * and says when it has handled every input that was in the log at the
 * assignment and every record the submitter published since (`expect`).
 * So a restart sees every flight it left in the air, and the submitter
 * never plans from a state that lacks its own last outcome; nothing here
 * folds the log a second time.
 *
 * The submitter is the one writer of its chain's account, so it plans only
 * while it holds every partition: a member holding some (a second
 * `chorus run submitter` for the chain, a rolling deploy) is never caught
 * up, and never sends. `epoch` moves when the assignment changes, so a
 * member that gets partitions back recovers the flights another member may
 * have left in the air on them.
 *
 * @module
 */
import type { RecordPosition } from "../../../bus/port.ts"
import type { LaneService } from "../../runtime/index.ts"
import { mergeStates, type SubmitterState } from "../core/index.ts"

export interface StateViews {
  /** True once the runtime folded everything in the log at start, and every expected record. */
  caughtUp(): Promise<boolean>
  /** Expects the runtime to fold records up to these positions (the submitter's own). */
  expect(positions: ReadonlyArray<RecordPosition>): void
  /** The merged state of every partition, in partition order. */
  current(): Promise<SubmitterState>
  /** Moves whenever the runtime's assignment changed. */
  epoch(): number
}

/**
 * The views over a running lane service.
 *
 * @example
 * ```ts
 * const views = stateViewsOf(service, 902)
 * if (await views.caughtUp()) planActions(await views.current(), Date.now(), settings)
 * ```
 */
export const stateViewsOf = (service: LaneService<SubmitterState>, chainId: number): StateViews => ({
  caughtUp: async () => service.heldStates().size === service.partitionCount && service.caughtUp(),
  expect: (positions) => service.expect(positions),
  current: async () => mergeStates(chainId, [...service.heldStates().values()]),
  epoch: () => service.assignmentChanges(),
})
