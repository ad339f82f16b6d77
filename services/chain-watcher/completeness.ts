/**
 * Does a read hold every message the Outbox emitted in its range? The check
 * the watcher core makes before it folds a read (issue 12: an RPC that
 * silently drops logs from `eth_getLogs` must not lose messages).
 *
 * A lane's nonces are consecutive and `Outbox.count(dst)` is the next one,
 * so a lane's count at the block before the range and at its last block
 * (`OutboxRangeRead.lanes`) name exactly the nonces the range holds. The
 * logs must hold each of them once, and nothing else.
 *
 * Pipeline of `completenessOf`:
 *   1. no counts (a version-1 read): `unproven`, folded as when written;
 *   2. the counts checked on their own: never backwards, each lane once,
 *      every lane proven at the cursor counted again, and `before` equal
 *      to the count proven there;
 *   3. every log checked against its lane's counts: a counted lane, a nonce
 *      inside `before`..`after - 1`, never twice;
 *   4. every nonce the counts name must have its log.
 * A failure of 2 or 3 is `inconsistent` (two answers contradict each other:
 * one is wrong); of 4 only, `short` (logs were dropped). Neither is folded.
 *
 * Invariants:
 * - Pure and total: the same read and proven counts give the same verdict,
 *   so a replay folds exactly what the live watcher folded.
 * - Sound for every lane the read counts; a lane it does not count (no
 *   configured chain, never seen) is proven only once one of its logs shows.
 *
 * @module
 */
import type { OutboxRangeRead } from "../../schemas/index.ts"

/** The nonces of one lane a short read lacks. */
export interface LaneShortfall {
  readonly dstChainId: number
  readonly before: number
  readonly after: number
  /** The nonces the counts name that no log of the read holds, ascending. */
  readonly missing: ReadonlyArray<number>
}

/** What a read proves: a closed set of verdicts, each with its reason. */
export type Completeness =
  | {
      readonly kind: "complete"
      /** Each counted lane's count at the read's last block: the next read's `before`. */
      readonly counts: ReadonlyMap<number, number>
    }
  | { readonly kind: "unproven"; readonly reason: string }
  | { readonly kind: "short"; readonly shortfall: ReadonlyArray<LaneShortfall>; readonly reason: string }
  | { readonly kind: "inconsistent"; readonly problems: ReadonlyArray<string>; readonly reason: string }

/**
 * Nonces as short runs, for reasons and log lines: `[1, 2, 3, 7]` → `"nonces 1..3, 7"`.
 *
 * @example
 * ```ts
 * describeNonces([4]) // "nonce 4"
 * ```
 */
export const describeNonces = (nonces: ReadonlyArray<number>): string => {
  const runs: string[] = []
  for (let i = 0; i < nonces.length; ) {
    let j = i
    while (j + 1 < nonces.length && nonces[j + 1] === nonces[j]! + 1) j += 1
    runs.push(j === i ? String(nonces[i]) : `${nonces[i]}..${nonces[j]}`)
    i = j + 1
  }
  // A listing past a dozen runs says nothing more to a reader; the count does.
  const shown = runs.length > 12 ? [...runs.slice(0, 12), `… (${nonces.length} in all)`] : runs
  return `${nonces.length === 1 ? "nonce" : "nonces"} ${shown.join(", ")}`
}

/**
 * A shortfall as one line: `"lane 902: nonces 3, 5; lane 903: nonce 0"`.
 *
 * @example
 * ```ts
 * describeShortfall([{ dstChainId: 902, before: 3, after: 6, missing: [4] }]) // "lane 902: nonce 4"
 * ```
 */
export const describeShortfall = (shortfall: ReadonlyArray<LaneShortfall>): string =>
  shortfall.map((lane) => `lane ${lane.dstChainId}: ${describeNonces(lane.missing)}`).join("; ")

/**
 * The verdict on `read`, given each lane's count proven at the cursor (from
 * the previous complete read) where known.
 *
 * @example
 * ```ts
 * const verdict = completenessOf(read, state.lanes)
 * if (verdict.kind === "short") console.warn(verdict.reason) // "… lane 902: nonce 7 …"
 * ```
 */
export const completenessOf = (
  read: OutboxRangeRead,
  proven: ReadonlyMap<number, number> | undefined,
): Completeness => {
  const range = `blocks ${read.fromBlock}..${read.to.number}`
  if (read.lanes === null) {
    return {
      kind: "unproven",
      reason: `the read of ${range} carries no lane counts (recorded before they were)`,
    }
  }
  const problems: string[] = []
  const counted = new Map<number, { readonly before: number; readonly after: number; seen: Set<number> }>()
  for (const lane of read.lanes) {
    const dst = lane.dstChainId
    if (counted.has(dst)) problems.push(`lane ${dst} is counted twice`)
    if (lane.after < lane.before) {
      problems.push(
        `lane ${dst}'s count goes backwards (${lane.before} before the range, ${lane.after} at its end)`,
      )
    }
    const known = proven?.get(dst)
    if (known !== undefined && known !== lane.before) {
      problems.push(
        `lane ${dst}'s count before the range is ${lane.before}, but ${known} was proven at block ${read.fromBlock - 1}`,
      )
    }
    counted.set(dst, { before: lane.before, after: lane.after, seen: new Set() })
  }
  for (const dst of proven?.keys() ?? []) {
    // Its messages in the range would be unproven, and its count at the range's end unknown.
    if (!counted.has(dst)) problems.push(`lane ${dst}, proven at block ${read.fromBlock - 1}, is not counted`)
  }
  for (const block of read.blocks) {
    for (const log of block.logs) {
      const { dstChainId: dst, nonce } = log.message
      const where = `the log of lane ${dst} nonce ${nonce} (block ${block.block.number}, index ${log.logIndex})`
      const lane = counted.get(dst)
      if (lane === undefined) {
        problems.push(`${where} is of a lane the read did not count`)
      } else if (nonce < lane.before || nonce >= lane.after) {
        problems.push(`${where} is outside the lane's nonces ${lane.before}..${lane.after - 1} in this range`)
      } else if (lane.seen.has(nonce)) {
        problems.push(`${where} repeats a nonce already logged in this range`)
      } else {
        lane.seen.add(nonce)
      }
    }
  }
  if (problems.length > 0) {
    // A wholly wrong answer can hold thousands of problems; the first few say what kind of wrong it is.
    const shown = problems.length > 5 ? [...problems.slice(0, 5), `… (${problems.length} in all)`] : problems
    return {
      kind: "inconsistent",
      problems,
      reason: `the logs and lane counts of ${range} contradict each other (${shown.join("; ")}): one of the answers is wrong`,
    }
  }
  const shortfall: LaneShortfall[] = []
  for (const [dstChainId, lane] of [...counted].sort(([a], [b]) => a - b)) {
    if (lane.seen.size === lane.after - lane.before) continue
    const missing: number[] = []
    for (let nonce = lane.before; nonce < lane.after; nonce++) if (!lane.seen.has(nonce)) missing.push(nonce)
    shortfall.push({ dstChainId, before: lane.before, after: lane.after, missing })
  }
  if (shortfall.length > 0) {
    const lost = shortfall.reduce((sum, lane) => sum + lane.missing.length, 0)
    return {
      kind: "short",
      shortfall,
      reason: `the Outbox counts ${lost} more message${lost === 1 ? "" : "s"} in ${range} than the logs hold (${describeShortfall(shortfall)})${read.rpc === null ? "" : ` from ${read.rpc}`}: a short eth_getLogs answer`,
    }
  }
  return { kind: "complete", counts: new Map([...counted].map(([dst, lane]) => [dst, lane.after])) }
}
