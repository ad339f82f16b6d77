/**
 * The writer thread of a long catch-up: it applies the chunks it is sent to
 * the index file (`IndexWriter.applyChunk`) and answers whether each was
 * applied, while the thread that reads the log decodes the next ones. The
 * two costs, decoding and writing, then take about as long as the larger of
 * them, not their sum.
 *
 * Invariants:
 * - Chunks are applied one after another, in the order they arrive: the
 *   index is the one the reading thread would have written itself.
 * - Chunks waiting when a transaction begins join it, for up to
 *   `GROUP_MS`: a commit rewrites every page its transaction touched, and
 *   consecutive chunks touch mostly the same ones. Each chunk keeps its own
 *   checks (the partition's position, the log's anchor), and is answered
 *   only once its transaction is committed; if it fails, every chunk of it
 *   is answered with the error, none applied.
 * - It holds no state of its own: every answer comes from the file.
 * - It imports nothing but the writer, so it starts in milliseconds.
 *
 * @module
 */
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads"
import { connectIndex, type IndexChunk, IndexWriter } from "./index-writer.ts"

/** What the reading thread sends: a chunk to apply, or the end. */
export type WriterRequest = { readonly id: number; readonly chunk: IndexChunk } | { readonly close: true }

/** What it hears back, for each chunk in turn. */
export type WriterReply =
  | { readonly id: number; readonly applied: boolean }
  | { readonly id: number; readonly error: Error }

/**
 * How long one transaction goes on taking waiting chunks: another writer of the index (`chorus trace`
 * catching it up) waits for the transaction under way, about this plus one chunk, and readers never wait.
 */
export const GROUP_MS = 100

const port = parentPort
if (port !== null) {
  // It lives for one catch-up: it may remember message ids' numbers (`IndexWriter`).
  const writer = new IndexWriter(connectIndex((workerData as { path: string }).path), { remember: true })
  const close = () => {
    writer.db.close()
    port.close()
  }
  port.on("message", (request: WriterRequest) => {
    if ("close" in request) {
      close()
      return
    }
    const group = [request]
    let closing = false
    let replies: WriterReply[]
    try {
      const applied = writer.transaction(() => {
        const started = performance.now()
        const answers: boolean[] = []
        for (;;) {
          answers.push(writer.applyChunkHere(group[answers.length]!.chunk))
          if (performance.now() - started >= GROUP_MS) return answers
          const next = receiveMessageOnPort(port)?.message as WriterRequest | undefined
          if (next === undefined) return answers
          if ("close" in next) {
            closing = true
            return answers
          }
          group.push(next)
        }
      })
      replies = group.map(({ id }, i) => ({ id, applied: applied[i]! }))
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error))
      replies = group.map(({ id }) => ({ id, error: failure }))
    }
    for (const reply of replies) port.postMessage(reply)
    if (closing) close()
  })
}
