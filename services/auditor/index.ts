/**
 * The auditor: an index of the log for the incident engineer's questions —
 * where is this message, which messages are stuck — answered in
 * milliseconds instead of a scan of every topic.
 *
 * Pipeline: every audited topic (all but the watcher's reads and cursors;
 * of the lane services' reads only operator sets and failed reads) →
 * `catchUp` reads each partition from the index's position to the high
 * watermark → `indexEvent` turns each record into writes (`IndexWrite`): a
 * message row, a step of a message, an event of a lane checkpoint, a
 * destination's operator set or an RPC stall → chunks of a partition's
 * records, each with its new position → SQLite (`IndexWriter`; in a writer
 * thread for a long catch-up, while the next chunk is decoded).
 * `traceMessage` and `listMessages` query it (`AuditStore`), and say what a
 * message waits on (`waiting-on.ts`).
 *
 * Invariants:
 * - The index is derived from the log alone. Delete the file and the next
 *   round rebuilds it from offset zero; an index of another log (its anchor
 *   event differs) is rebuilt the same way.
 * - A partition's position and the facts read up to it are written in one
 *   transaction: a crash never leaves a record half-indexed or indexed twice,
 *   and two processes catching up one index do not double-count.
 * - The answer does not depend on read order: a message's stage is the
 *   furthest stage any indexed event implies, whichever was indexed first.
 *   Nor on how the records are chunked, or which thread writes them.
 * - A build is linear in the log: indexing a record costs the same however
 *   large the index has grown (`index-writer.ts` says why).
 * - A record that is not a Chorus event is kept in `unreadable`, and every
 *   report says so.
 *
 * @module
 */
export * from "./catch-up.ts"
export * from "./decode-revert.ts"
export * from "./index-event.ts"
export * from "./index-path.ts"
export * from "./index-store.ts"
export * from "./list-messages.ts"
export * from "./message-status.ts"
export * from "./parse-duration.ts"
export * from "./retry-verdict.ts"
export * from "./service.ts"
export * from "./trace-message.ts"
export * from "./waiting-on.ts"
