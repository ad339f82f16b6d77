/**
 * `eth_getLogs` over ranges that adapt to what the RPC accepts: a range the
 * RPC refuses as too large is halved and asked again at once; a range it
 * answers lets the next one grow by a quarter, up to the configured maximum.
 *
 * Invariants:
 * - Only range-limit refusals (`isRangeLimitError`) shrink the range; every
 *   other error is thrown as is, for the tick to report.
 * - A refusal of a single block cannot be solved by shrinking: it throws
 *   `LogRangeExhaustedError`.
 * - The range grows only after a request that used the whole size, so an
 *   idle chain at its head (short ranges) does not inflate it.
 *
 * @module
 */
import { LogRangeExhaustedError } from "./errors.ts"
import { isRangeLimitError } from "./range-limit.ts"

/** Growth per successful full-size request. */
const GROWTH = 1.25

/** The current `eth_getLogs` range size of one watcher. */
export interface RangeSizer {
  /** Blocks per request now. */
  readonly size: () => number
  /** A request of `span` blocks was refused as too large. */
  readonly shrink: (span: number) => void
  /** A request of `span` blocks was answered. */
  readonly grow: (span: number) => void
}

/**
 * A range sizer starting at `initial` blocks, never above `max` nor below 1.
 *
 * @example
 * ```ts
 * const sizer = makeRangeSizer({ initial: 500, max: 2_000 })
 * sizer.shrink(500) // size() === 250
 * ```
 */
export const makeRangeSizer = (options: { readonly initial: number; readonly max: number }): RangeSizer => {
  const max = Math.max(1, options.max)
  let size = Math.min(max, Math.max(1, options.initial))
  return {
    size: () => size,
    shrink: (span) => {
      size = Math.max(1, Math.floor(Math.min(size, span) / 2))
    },
    grow: (span) => {
      if (span >= size) size = Math.min(max, Math.ceil(size * GROWTH))
    },
  }
}

export interface AdaptiveLogs<T> {
  readonly logs: ReadonlyArray<T>
  /** The last block the logs cover (inclusive): the range may end before `upTo`. */
  readonly toBlock: number
  /** How many times the range was halved on the way. */
  readonly shrinks: number
}

/**
 * Reads logs from `from`, as far towards `upTo` as the RPC accepts in one
 * request, halving on range-limit refusals.
 *
 * @example
 * ```ts
 * const { logs, toBlock } = await getLogsAdaptive({
 *   from: 100, upTo: 5_000, sizer,
 *   getLogs: (fromBlock, toBlock) => client.request({ method: "eth_getLogs", params: [...] }),
 * })
 * ```
 */
export const getLogsAdaptive = async <T>(options: {
  readonly from: number
  readonly upTo: number
  readonly sizer: RangeSizer
  readonly getLogs: (fromBlock: number, toBlock: number) => Promise<ReadonlyArray<T>>
  /** Told of every refusal that halved the range (for logs). */
  readonly onShrink?: (refused: { fromBlock: number; toBlock: number; error: unknown }) => void
}): Promise<AdaptiveLogs<T>> => {
  const { from, upTo, sizer } = options
  if (upTo < from) throw new RangeError(`getLogsAdaptive: empty range ${from}..${upTo}`)
  let shrinks = 0
  for (;;) {
    const toBlock = Math.min(upTo, from + sizer.size() - 1)
    const span = toBlock - from + 1
    try {
      const logs = await options.getLogs(from, toBlock)
      sizer.grow(span)
      return { logs, toBlock, shrinks }
    } catch (error) {
      if (!isRangeLimitError(error)) throw error
      if (span === 1) throw new LogRangeExhaustedError(from, error)
      sizer.shrink(span)
      shrinks += 1
      options.onShrink?.({ fromBlock: from, toBlock, error })
    }
  }
}
