import fc from "fast-check"

/**
 * A lane size and a non-empty range inside it: `[count, start, end)` with
 * `0 <= start < end <= count <= maxCount` and `end - start <= maxLength`.
 */
export const rangeArb = (maxCount: number, maxLength: number): fc.Arbitrary<[number, number, number]> =>
  fc
    .integer({ min: 1, max: maxCount })
    .chain((count) =>
      fc
        .integer({ min: 0, max: count - 1 })
        .chain((start) =>
          fc.tuple(
            fc.constant(count),
            fc.constant(start),
            fc.integer({ min: start + 1, max: Math.min(count, start + maxLength) }),
          ),
        ),
    )
