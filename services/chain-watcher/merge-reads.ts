/**
 * The union of two reads of one range: what a lossy RPC answered across
 * several asks. A provider that drops a fifth of the logs of every
 * `eth_getLogs` answer almost never returns a busy block whole (60 logs:
 * 0.8^60, about one answer in 650,000), and no narrowing of the range can
 * split a block; but each log it drops is returned by most other answers,
 * so a handful of answers together hold every log, and the lane counts
 * prove when they do.
 *
 * Invariants:
 * - Only reads of the same chain state are joined: the same chain, Outbox,
 *   range, last block (number and hash), cursor check and lane counts, and
 *   no block with two hashes. Anything else is two views of the chain, not
 *   two partial answers about one, and is not joined.
 * - Nothing is invented: every log of the union is a log one of the two
 *   reads holds, checked against its block as that read checked it. A log
 *   that two answers give differently is a contradiction: not joined.
 * - The union proves nothing by itself: the watcher core checks it as any
 *   read (`completeness.ts`) before it folds it.
 *
 * @module
 */
import { type BlockRef, OutboxBlock, type OutboxLog, OutboxRangeRead } from "../../schemas/index.ts"

const sameRef = (a: BlockRef | null, b: BlockRef | null) =>
  a === null || b === null ? a === b : a.number === b.number && a.hash === b.hash

const lanesKey = (read: OutboxRangeRead) =>
  read.lanes === null
    ? null
    : JSON.stringify(
        [...read.lanes]
          .sort((x, y) => x.dstChainId - y.dstChainId)
          .map((l) => [l.dstChainId, l.before, l.after]),
      )

const logKey = (log: OutboxLog) => `${log.transactionHash}:${log.logIndex}`

const sameLog = (a: OutboxLog, b: OutboxLog) =>
  a.transactionHash === b.transactionHash &&
  a.logIndex === b.logIndex &&
  JSON.stringify(a.message) === JSON.stringify(b.message)

/**
 * The union of `a` and `b`, or null when they are not partial answers about the same chain state (then the
 * later read stands alone). The union names `b`'s RPC.
 *
 * @example
 * ```ts
 * const union = unionOfReads(shortRead, nextRead) // every log either holds, or null
 * ```
 */
export const unionOfReads = (a: OutboxRangeRead, b: OutboxRangeRead): OutboxRangeRead | null => {
  if (
    a.chainId !== b.chainId ||
    a.outbox !== b.outbox ||
    a.fromBlock !== b.fromBlock ||
    !sameRef(a.to, b.to) ||
    !sameRef(a.cursorCheck, b.cursorCheck)
  )
    return null
  const counts = lanesKey(a)
  if (counts === null || counts !== lanesKey(b)) return null
  const blocks = new Map<number, { block: OutboxBlock; logs: Map<string, OutboxLog> }>()
  for (const read of [a, b]) {
    for (const block of read.blocks) {
      const known = blocks.get(block.block.number)
      if (known === undefined) {
        blocks.set(block.block.number, { block, logs: new Map(block.logs.map((l) => [logKey(l), l])) })
        continue
      }
      if (known.block.block.hash !== block.block.hash || known.block.timestamp !== block.timestamp)
        return null
      for (const log of block.logs) {
        const held = known.logs.get(logKey(log))
        if (held === undefined) known.logs.set(logKey(log), log)
        else if (!sameLog(held, log)) return null
      }
    }
  }
  return new OutboxRangeRead({
    chainId: b.chainId,
    outbox: b.outbox,
    cursorCheck: b.cursorCheck,
    fromBlock: b.fromBlock,
    to: b.to,
    blocks: [...blocks.values()]
      .sort((x, y) => x.block.block.number - y.block.block.number)
      .map(
        ({ block, logs }) =>
          new OutboxBlock({
            block: block.block,
            timestamp: block.timestamp,
            logs: [...logs.values()].sort((x, y) => x.logIndex - y.logIndex),
          }),
      ),
    lanes: b.lanes,
    rpc: b.rpc,
  })
}
