/**
 * The chaos run's randomness: every draw comes from a generator seeded by
 * the run's seed and a label, so one seed gives the same schedule of faults
 * and traffic, and adding draws under one label never moves another's.
 *
 * @module
 */
import { mulberry32 } from "../../test/fixtures/seeded-random.ts"

/** A generator of numbers in [0, 1), with helpers; every call advances it. */
export interface Random {
  /** The next number in [0, 1). */
  next(): number
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number
  /** A number in [min, max). */
  between(min: number, max: number): number
  /** One element of a non-empty list. */
  pick<T>(items: ReadonlyArray<T>): T
  /** A shuffled copy. */
  shuffle<T>(items: ReadonlyArray<T>): T[]
  /** `count` distinct integers in [0, size), ascending. */
  sample(size: number, count: number): number[]
  /** A 32-bit seed for something that has its own generator (an RPC proxy). */
  seed(): number
}

/** FNV-1a over the label, mixed with the seed: the seed of one labelled stream. */
const mix = (seed: number, label: string): number => {
  let hash = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

/**
 * The generator of one labelled stream of a run (mulberry32).
 *
 * @example
 * ```ts
 * const random = randomFor(7, "traffic")
 * random.int(1, 6) // the same on every run with seed 7
 * ```
 */
export const randomFor = (seed: number, label: string): Random => {
  const next = mulberry32(mix(seed, label))
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1))
  return {
    next,
    int,
    between: (min, max) => min + next() * (max - min),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    shuffle: (items) => {
      const copy = [...items]
      for (let i = copy.length - 1; i > 0; i--) {
        const j = int(0, i)
        ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
      }
      return copy
    },
    sample: (size, count) => {
      const chosen = new Set<number>()
      while (chosen.size < Math.min(count, size)) chosen.add(int(0, size - 1))
      return [...chosen].sort((a, b) => a - b)
    },
    seed: () => Math.floor(next() * 4_294_967_296) >>> 0,
  }
}
