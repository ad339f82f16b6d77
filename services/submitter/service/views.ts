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
  /** The merged state of every partition. */
  current(): Promise<SubmitterState>
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
  caughtUp: async () => service.caughtUp(),
  expect: (positions) => service.expect(positions),
  current: async () => mergeStates(chainId, [...service.heldStates().values()]),
})
