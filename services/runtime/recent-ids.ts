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
 * Why fixed memory, taken whole when made: a window of strings grew with
 * its shard's inputs until full, and some shards fill slowly (an operator's
 * shard sees a few proposals a second, so 4,096 of them take over an hour
 * at 50 messages a second). A process's memory then rose for that long
 * (`npm run soak`). The ids are kept as their 32 bytes in one ring, with an
 * open-addressing index over it: 160 KB a shard, the same from the first
 * input to the last, and none of the inputs' strings kept alive.
 *
 * Invariants:
 * - Deterministic: which ids it holds depends only on the sequence of `add`s,
 *   so the runtime's live handling and every fold of the log (a rebuild, a
 *   replay) drop the same duplicates. The index's hash is keyed per window
 *   (random), so nobody who writes inputs can make them share slots; the key
 *   changes where an id sits, never whether it is held.
 * - It holds at most `capacity` ids; adding one more forgets the oldest.
 * - Ids are event ids (`0x` and 64 lowercase hex digits, as the decode edge
 *   admits them), compared by their bytes; anything else is refused with a
 *   RangeError, so no two different ids can ever be taken for one.
 *
 * @module
 */

/**
 * Ids remembered per shard: well past a commit batch (Kafka commits every 1,000 records), and 160 KB a shard.
 */
export const RECENT_IDS = 4096

const ID_BYTES = 32
const WORDS = ID_BYTES / 4
const ID_TEXT = /^0x[0-9a-f]{64}$/

/** Random odd multipliers, one per word: the key of a window's hash. */
export const hashKey = (): Uint32Array => {
  const key = crypto.getRandomValues(new Uint32Array(WORDS))
  for (let i = 0; i < WORDS; i++) key[i]! |= 1
  return key
}

/**
 * A 32-bit hash of the 8 words at `offset`, keyed by `key` (odd multipliers). Each round folds the high bits
 * down before the next multiply, and a final avalanche (murmur3's) does it for the last: a multiply alone
 * carries low bits up, never high bits down, so slots taken from the low bits would ignore the top of every
 * word, and ids differing only there would all share one slot whatever the key.
 */
export const keyedHash = (words: Uint32Array, offset: number, key: Uint32Array): number => {
  let h = 0
  for (let i = 0; i < WORDS; i++) {
    h = Math.imul(h ^ words[offset + i]!, key[i]!)
    // A second, fixed multiply: with the key's alone, a rare key (about one in a thousand) leaves the top bits of
    // a word poorly mixed into the low ones, and such ids crowd into a fraction of the slots.
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d)
    h ^= h >>> 16
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

export class RecentIds {
  readonly capacity: number
  /** Slot i's id, as 8 words: a ring, `#oldest` the next slot to forget once full. */
  readonly #words: Uint32Array
  /** Open addressing with linear probing: slot + 1, or 0 for an empty entry. */
  readonly #index: Int32Array
  readonly #mask: number
  readonly #key = hashKey()
  readonly #scratch = new Uint32Array(WORDS)
  readonly #scratchBytes = Buffer.from(this.#scratch.buffer)
  /** The id last read into `#scratch`: `add` right after `has` (the usual pair) reads it once. */
  #scratchId: string | undefined
  #size = 0
  #oldest = 0

  constructor(capacity: number = RECENT_IDS) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 2 ** 24)
      throw new RangeError(`RecentIds capacity must be an integer from 1 to 2^24, got ${capacity}`)
    this.capacity = capacity
    this.#words = new Uint32Array(capacity * WORDS)
    // At most half full: probes stay short.
    let entries = 2
    while (entries < capacity * 2) entries *= 2
    this.#index = new Int32Array(entries)
    this.#mask = entries - 1
  }

  get size(): number {
    return this.#size
  }

  has(id: string): boolean {
    this.#read(id)
    return this.#find() >= 0
  }

  /** Remembers `id` (a no-op if it is remembered), forgetting the oldest once `capacity` are held. */
  add(id: string): void {
    this.#read(id)
    if (this.#find() >= 0) return
    let slot: number
    if (this.#size < this.capacity) slot = this.#size++
    else {
      slot = this.#oldest
      this.#remove(slot)
      this.#oldest = (this.#oldest + 1) % this.capacity
    }
    this.#words.set(this.#scratch, slot * WORDS)
    let at = this.#hash(this.#scratch, 0)
    while (this.#index[at] !== 0) at = (at + 1) & this.#mask
    this.#index[at] = slot + 1
  }

  #read(id: string): void {
    if (id === this.#scratchId) return
    if (!ID_TEXT.test(id))
      throw new RangeError(
        `RecentIds holds event ids (0x and 64 lowercase hex digits), got ${JSON.stringify(id)}`,
      )
    this.#scratchBytes.write(id.slice(2), "hex")
    this.#scratchId = id
  }

  #hash(words: Uint32Array, offset: number): number {
    return keyedHash(words, offset, this.#key) & this.#mask
  }

  #same(slot: number): boolean {
    const base = slot * WORDS
    for (let i = 0; i < WORDS; i++) if (this.#words[base + i] !== this.#scratch[i]) return false
    return true
  }

  /** The index entry holding the id in `#scratch`, or -1. */
  #find(): number {
    for (let at = this.#hash(this.#scratch, 0); ; at = (at + 1) & this.#mask) {
      const entry = this.#index[at]!
      if (entry === 0) return -1
      if (this.#same(entry - 1)) return at
    }
  }

  /** Takes slot's entry out of the index, moving later entries of its run back (no tombstones). */
  #remove(slot: number): void {
    let at = this.#hash(this.#words, slot * WORDS)
    while (this.#index[at] !== slot + 1) at = (at + 1) & this.#mask
    let hole = at
    for (let next = (hole + 1) & this.#mask; this.#index[next] !== 0; next = (next + 1) & this.#mask) {
      const home = this.#hash(this.#words, (this.#index[next]! - 1) * WORDS)
      // An entry may fill the hole if its home is not cyclically within (hole, next].
      const between = hole <= next ? home > hole && home <= next : home > hole || home <= next
      if (!between) {
        this.#index[hole] = this.#index[next]!
        hole = next
      }
    }
    this.#index[hole] = 0
  }
}
