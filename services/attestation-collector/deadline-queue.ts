/**
 * A queue of things due at a time, cheapest first: a binary min-heap on
 * `(at, order)`. The collector keeps its pending checkpoints' deadlines and
 * its settled ones' forget times in two of these, so an input pays only for
 * what is due, never for every checkpoint it holds.
 *
 * Entries are never removed early: a deadline that moved leaves its old
 * entry behind, and whoever pops one checks it is still current (lazy
 * deletion). Each entry is pushed once and popped once, so a push and its
 * pop cost O(log n), amortised over the entries a checkpoint ever had.
 *
 * @module
 */

/** One thing due at `at` (ms); `order` breaks ties, so equal times pop in a fixed order. */
export interface Due<T> {
  readonly at: number
  readonly order: number
  readonly item: T
}

const before = <T>(a: Due<T>, b: Due<T>): boolean => a.at < b.at || (a.at === b.at && a.order < b.order)

/**
 * A min-heap of due entries.
 *
 * @example
 * ```ts
 * const queue = new DeadlineQueue<string>()
 * queue.push({ at: 20, order: 1, item: "b" })
 * queue.push({ at: 10, order: 2, item: "a" })
 * queue.popBefore(15) // [{ at: 10, order: 2, item: "a" }]
 * ```
 */
export class DeadlineQueue<T> {
  readonly #heap: Due<T>[] = []

  get size(): number {
    return this.#heap.length
  }

  push(entry: Due<T>): void {
    const heap = this.#heap
    heap.push(entry)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  /** Removes and returns every entry due strictly before `time`, earliest first. */
  popBefore(time: number): Due<T>[] {
    const due: Due<T>[] = []
    while (this.#heap.length > 0 && this.#heap[0]!.at < time) due.push(this.#pop())
    return due
  }

  #pop(): Due<T> {
    const heap = this.#heap
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        const right = left + 1
        let least = i
        if (left < heap.length && before(heap[left]!, heap[least]!)) least = left
        if (right < heap.length && before(heap[right]!, heap[least]!)) least = right
        if (least === i) break
        ;[heap[i], heap[least]] = [heap[least]!, heap[i]!]
        i = least
      }
    }
    return top
  }
}
