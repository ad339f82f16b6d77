/**
 * The roots an operator signed, by lane and count: what keeps it from ever
 * signing two roots for one `(srcChainId, outbox, dstChainId, count)`, in
 * bounded memory.
 *
 * A lane keeps its last `SIGNED_PER_LANE` signed counts. When one more is
 * signed, the oldest is forgotten and the lane's floor rises to its count:
 * from then on nothing at or below the floor is signed, since the operator
 * can no longer tell whether it signed another root there. A proposal that
 * far behind the lane is no use to anyone (the destination has committed
 * later roots, which cover it), so refusing it costs nothing, and signing it
 * could be an equivocation.
 *
 * Invariants:
 * - Never two roots for one slot: a slot is either held (its root is
 *   compared) or at or below the floor (refused).
 * - Deterministic: what it holds depends only on the sequence of `remember`s,
 *   so a rebuild or a replay of the same proposals decides as production.
 *
 * @module
 */
import type { Bytes32, Checkpoint } from "../../schemas/index.ts"

/** Signed counts kept per lane: some 1,000 checkpoints behind the newest, about 100 KB a lane. */
export const SIGNED_PER_LANE = 1024

interface LaneRoots {
  /** Root by count, in the order they were signed. */
  readonly roots: Map<number, Bytes32>
  /** Every count at or below it may have been signed and forgotten (0: none forgotten). */
  floor: number
}

const laneOf = (checkpoint: Checkpoint): string =>
  `${checkpoint.srcChainId}:${checkpoint.outbox}:${checkpoint.dstChainId}`

export class SignedRoots {
  readonly #lanes = new Map<string, LaneRoots>()
  readonly #perLane: number

  constructor(perLane: number = SIGNED_PER_LANE) {
    this.#perLane = perLane
  }

  /** Signed slots held, across lanes. */
  get size(): number {
    let size = 0
    for (const lane of this.#lanes.values()) size += lane.roots.size
    return size
  }

  /** Why signing `checkpoint` could be a second root for its slot, or `undefined` if it cannot. */
  conflict(checkpoint: Checkpoint): string | undefined {
    const lane = this.#lanes.get(laneOf(checkpoint))
    const where = `lane ${checkpoint.srcChainId}-${checkpoint.dstChainId} (outbox ${checkpoint.outbox})`
    const earlier = lane?.roots.get(checkpoint.count)
    if (earlier !== undefined)
      return earlier === checkpoint.root
        ? undefined
        : `it already signed root ${earlier} for ${where} at count ${checkpoint.count}; it never signs a second root for the same count`
    if (lane !== undefined && checkpoint.count <= lane.floor)
      return `count ${checkpoint.count} is at or below ${where}'s floor ${lane.floor}: it keeps the roots of the last ${this.#perLane} counts it signed, so it cannot tell whether it signed another root at this count, and signs nothing there`
    return undefined
  }

  /** Records that `checkpoint`'s root was signed (a no-op when its slot is held), forgetting the lane's oldest past the bound. */
  remember(checkpoint: Checkpoint): void {
    const key = laneOf(checkpoint)
    let lane = this.#lanes.get(key)
    if (lane === undefined) {
      lane = { roots: new Map(), floor: 0 }
      this.#lanes.set(key, lane)
    }
    if (lane.roots.has(checkpoint.count)) return
    lane.roots.set(checkpoint.count, checkpoint.root)
    if (lane.roots.size > this.#perLane) {
      const [oldest] = lane.roots.keys() as MapIterator<number>
      lane.roots.delete(oldest!)
      lane.floor = Math.max(lane.floor, oldest!)
    }
  }
}
