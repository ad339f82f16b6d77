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
 * The submitter is the one writer of its chain's account. Its group gives
 * every partition to one member (`assignment: "single"`), and a member
 * plans only while it holds them all: the others stand by (`standby`), and
 * one of them takes over when the active member leaves or is expelled.
 * Before each broadcast the member proves to the group that it still holds
 * them (`fence`), so a member paused past its session, whose partitions
 * went to another, sends nothing. `epoch` moves when the assignment
 * changes, so a member that gets partitions back recovers the flights
 * another member may have left in the air on them.
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
  /** True while the group gives this member no partition: another member is the writer. */
  standby(): boolean
  /** Rejects with `MemberFencedError` unless the group still gives this member its partitions. */
  fence(): Promise<void>
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
  standby: () => service.subscription.assignment().length === 0,
  fence: () => service.subscription.fence(),
})
