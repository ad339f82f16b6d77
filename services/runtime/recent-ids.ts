/**
 * The ids of a shard's most recent inputs, to drop a redelivered input
 * without deciding it twice, in bounded memory.
 *
 * Why a window and not every id ever: a redelivery comes soon after the
 * first delivery (a consumer's uncommitted stretch after a crash, at most a
 * commit batch; a producer's outputs decided again after its own crash, at
 * most its own batch), while a set of every id grows with the log forever.
 * An input older than the window that arrives again is decided again, and
 * the cores make that harmless: a proof-builder knows a proven nonce by its
 * leaf, an operator a signed count by its root (`SignedRoots`), a collector
 * a counted signature by its checkpoint (a `duplicate` verdict that counts
 * nothing), a submitter a settled message by its lane's floor; whatever
 * else they emit again is the same event with the same id
 * (`test/e2e/replay.test.ts` re-feeds a whole devnet log to show it).
 *
 * Invariants:
 * - Deterministic: which ids it holds depends only on the sequence of `add`s,
 *   so the runtime's live handling and every fold of the log (a rebuild, a
 *   replay) drop the same duplicates.
 * - It holds at most `capacity` ids; adding one more forgets the oldest.
 *
 * @module
 */

/**
 * Ids remembered per shard: well past a commit batch (Kafka commits every 1,000 records), and some 0.6 MB
 * a shard.
 */
export const RECENT_IDS = 4096

export class RecentIds {
  readonly capacity: number
  readonly #ids = new Set<string>()
  /** The ids in the order they were added: a ring, `#oldest` the next to forget once full. */
  readonly #order: string[] = []
  #oldest = 0

  constructor(capacity: number = RECENT_IDS) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`RecentIds capacity must be a positive integer, got ${capacity}`)
    this.capacity = capacity
  }

  get size(): number {
    return this.#ids.size
  }

  has(id: string): boolean {
    return this.#ids.has(id)
  }

  /** Remembers `id` (a no-op if it is remembered), forgetting the oldest once `capacity` are held. */
  add(id: string): void {
    if (this.#ids.has(id)) return
    if (this.#order.length < this.capacity) this.#order.push(id)
    else {
      this.#ids.delete(this.#order[this.#oldest]!)
      this.#order[this.#oldest] = id
      this.#oldest = (this.#oldest + 1) % this.capacity
    }
    this.#ids.add(id)
  }
}
