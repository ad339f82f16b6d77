/**
 * A benchmark's positive integer flag, or exit 2 naming the benchmark, the flag and what was given.
 *
 * @example
 * ```ts
 * const records = positiveFlag("bench:bus", "records", values.records) // 100000
 * ```
 */
export const positiveFlag = (bench: string, name: string, raw: string): number => {
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`${bench}: --${name} must be a positive integer, got ${JSON.stringify(raw)}`)
    process.exit(2)
  }
  return n
}
