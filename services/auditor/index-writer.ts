/**
 * The audit index's tables, and every write to them: what `indexEvent`
 * makes of a record, as rows SQLite stores (`IndexWrite`), and the one
 * place they are applied (`IndexWriter`). `AuditStore` answers questions
 * from the same tables.
 *
 * Pipeline: a record → `indexEvent` (where it is decoded) → `IndexWrite`s
 * (plain rows, JSON already encoded, ranks already decided) → a chunk of
 * one partition's records, with the partition's new position →
 * `IndexWriter.applyChunk`, in this thread or in the writer thread
 * (`index-writer-thread.ts`), which applies it while the next chunk is read.
 *
 * Invariants:
 * - A chunk's writes and its partition's new position are committed in one
 *   transaction, and only if the position is still the one the reader
 *   started from and the index still belongs to the same log: a crash never
 *   leaves a record half-indexed, and no record is indexed twice, however
 *   many processes catch one index up.
 * - Chunks are applied in the order they are read, and a write does the same
 *   whichever chunk or transaction holds it: the index is the same built in
 *   one chunk or in many, in this thread or the writer thread.
 * - A write costs the same early or late in the log, so a build is linear in
 *   it: a step touches its message, a lane event only the messages it moves
 *   (from the lane's reach for its rank up to its count, `lane_reach`), never
 *   the lane's others, and every statement is prepared once.
 * - A commit writes few pages (it rewrites each page its transaction
 *   touched): rows are keyed by the order their message was first met, not
 *   by its random id, whose one index holds 13 hex digits of it; a message's
 *   stage is kept apart from what its observation says; lane events are
 *   keyed by lane and count. A chunk's rows then share pages near the end
 *   of each table, however large the index has grown.
 * - A connection remembers message ids' numbers only while no other one has
 *   written the index (`PRAGMA data_version`) and no transaction of its own
 *   was rolled back: it never uses a number the file does not hold.
 * - Nothing here decodes, decides a stage or imports more than SQLite: the
 *   writer thread starts in milliseconds.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite"
import type { HaltEvent } from "../runtime/chain-halts.ts"

/**
 * Bumped when the tables change, or when what the index makes of the log does: an index of another version is
 * rebuilt from the log. 3: a skipped message's stage follows the Inbox status `DeliverySkipped` v2 records (an
 * index built before may hold those records as unreadable). 4: a lane event keeps the rank the lifecycle
 * projection gave it, as a step does. 5: a message whose every observation the proof-builder rejected
 * (`MessageRejected`) is marked rejected, with the reason. 6: the operator sets the collector read
 * (`OperatorSetRead`, from `chorus.lane.reads`) and the RPC stalls and recoveries of watchers and operators
 * (`WatcherStalled`, `ChainReadFailed`…) are indexed, so a timeline can name the stake a checkpoint lacks
 * and an RPC a service cannot reach. 7: a chain's halt (`ChainHalted`) is indexed, so its messages not
 * settled are listed as quarantined. 8: every halt and every resume (`ChainResumed`) is indexed in log
 * order, each only from its rightful writer, so a chain resumed after its last halt is no longer
 * quarantined and a timeline shows the halt and the resume. 9: messages and steps are keyed by the order
 * their message was first met (`message_keys`), a message's stage is kept apart from its observation
 * (`message_stages`; `messages` is a view), lane events are keyed by lane and count, and a lane's reach per
 * rank is kept (`lane_reach`), so a cold build is linear in the log.
 */
export const INDEX_VERSION = 10

/** Where a record sits in the log; every indexed fact keeps it, so a reader can go back to the source. */
export interface LogPlace {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly eventId: string
  readonly type: string
  /** When the record was written to the log (ms). */
  readonly at: number
}

/**
 * A service's RPC for a chain stalled (`stalled`: no usable answer past the bound) or answering again
 * (`recovered`, naming the stall's `since`).
 */
export interface RpcFaultRow extends LogPlace {
  readonly kind: "stalled" | "recovered"
  /** The service whose RPC it is (`chain-watcher`, `operator`…). */
  readonly service: string
  /** Which one: a watcher's chain id, an operator's address. */
  readonly instance: string
  readonly chainId: number
  readonly reason: string
  readonly rpc: string
  /** What was asked; empty on a recovery. */
  readonly what: string
  /** The last failure in words; empty on a recovery. */
  readonly problem: string
  /** When the failures began (ISO time): a stall and its recovery share it. */
  readonly since: string
  readonly attempts: number
}

/**
 * One write to the index, as SQLite keeps it: plain values only, so it can be applied in another thread, and
 * with every decision taken (a rank of 0: the write moves no stage).
 */
export type IndexWrite =
  /**
   * An observed message. Its stage starts at `rank` (observed) or wherever the steps naming it and the lane
   * events covering it, indexed before, put it: the result does not depend on the order topics are read in.
   */
  | {
      readonly op: "message"
      readonly id: string
      readonly lane: string
      readonly srcChainId: number
      readonly outbox: string
      readonly dstChainId: number
      readonly nonce: number
      readonly sender: string
      readonly recipient: string
      readonly observedAt: number
      readonly rank: number
    }
  /** A record's events about messages, each one's (`StepEntry`), in order. */
  | (LogPlace & { readonly op: "steps"; readonly steps: ReadonlyArray<StepEntry> })
  /** Marks the message rejected if every observation of it is, and clears the mark otherwise. */
  | { readonly op: "rejection"; readonly messageId: string }
  /** An event about a lane's checkpoint of `count` messages, moving every message it covers to `rank`. */
  | (LogPlace & {
      readonly op: "lane-event"
      readonly lane: string
      readonly count: number
      readonly stage: string
      readonly rank: number
      /** JSON. */
      readonly detail: string
    })
  | (LogPlace & {
      readonly op: "operator-set"
      readonly dstChainId: number
      readonly inbox: string
      readonly epoch: number
      readonly block: number
      readonly thresholdBps: number
      /** JSON: in the Inbox's order, weights as decimal strings. */
      readonly operators: string
    })
  | (RpcFaultRow & { readonly op: "rpc-fault" })
  /** A chain's halt or resume (`encodeHaltEvent`), only from its rightful writer. */
  | (LogPlace & {
      readonly op: "chain-halt"
      readonly kind: HaltEvent["kind"]
      readonly chainId: number
      readonly event: string
    })
  /** A record that is not a Chorus event: kept so every report can say the log holds something unreadable. */
  | {
      readonly op: "unreadable"
      readonly topic: string
      readonly partition: number
      readonly offset: number
      readonly error: string
    }

/** An event about one message, moving its stage to `rank` (`ifKnown`: kept only if the message is indexed). */
export interface StepEntry {
  /** Lowercase. */
  readonly messageId: string
  readonly stage: string
  readonly rank: number
  /** JSON. */
  readonly detail: string
  readonly ifKnown: boolean
}

/** Where the writes of `indexEvent` go: an index (`AuditStore`), or a chunk on its way to one. */
export interface IndexSink {
  write(write: IndexWrite): void
}

/** One partition's records, read from `expected` up to `next`, as writes. */
export interface IndexChunk {
  readonly topic: string
  readonly partition: number
  /** The partition's position as the reader found it (undefined: none yet): the chunk is applied only if it still is. */
  readonly expected: number | undefined
  /** The log's anchor the reader checked the index against: the chunk is applied only if the index still has it. */
  readonly anchor: string
  readonly writes: ReadonlyArray<IndexWrite>
  /** The partition's position after the chunk. */
  readonly next: number
}

/** A `HaltEvent` as the index keeps it (JSON: a resume's counts as pairs). */
export const encodeHaltEvent = (event: HaltEvent): string =>
  JSON.stringify(
    event.kind === "halted"
      ? event
      : { ...event, resume: { ...event.resume, counts: [...event.resume.counts] } },
  )

export const decodeHaltEvent = (text: string): HaltEvent => {
  const event = JSON.parse(text) as HaltEvent
  if (event.kind === "halted") return event
  const counts = event.resume.counts as unknown as Array<[number, number]>
  return { ...event, resume: { ...event.resume, counts: new Map(counts) } }
}

/** Where an index keeps its version; it outlives the tables, which another version may shape otherwise. */
export const META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"

/** Everything derived from the log, emptied to rebuild the index from offset zero. */
export const DERIVED_TABLES = [
  "positions",
  "message_keys",
  "messages_observed",
  "message_stages",
  "steps",
  "lane_events",
  "lane_reach",
  "unreadable",
  "operator_sets",
  "rpc_faults",
  "chain_halts",
] as const

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS positions (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, next INTEGER NOT NULL, anchor TEXT,
  PRIMARY KEY (topic, partition)
);
-- Every message id the index has met (observed, or named by a step first), numbered in the order first met.
-- Message ids are random: this is the one index of them, and it holds only their first 13 hex digits (52
-- bits; the id itself is compared in the row), small enough that a chunk's commit rewrites little of it.
-- Messages and steps are keyed by the number, so the rows a chunk writes, which are of messages met at about
-- the same time, share a few pages: a chunk's commit writes those, not a page for each message.
CREATE TABLE IF NOT EXISTS message_keys (seq INTEGER PRIMARY KEY, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS message_keys_id ON message_keys (substr(id, 3, 13));
-- A message is what its observation says, which never changes, and where it is, which every step may change:
-- kept apart, so moving a message rewrites a few bytes, not its whole row. \`messages\` shows them as one.
CREATE TABLE IF NOT EXISTS messages_observed (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL, lane TEXT NOT NULL, src INTEGER NOT NULL, outbox TEXT NOT NULL,
  dst INTEGER NOT NULL, nonce INTEGER NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
  observed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS message_stages (
  seq INTEGER PRIMARY KEY, stage_rank INTEGER NOT NULL, last_at INTEGER NOT NULL, rejected TEXT
);
CREATE VIEW IF NOT EXISTS messages AS
  SELECT o.seq, o.id, o.lane, o.src, o.outbox, o.dst, o.nonce, o.sender, o.recipient, o.observed_at,
    s.stage_rank, s.last_at, s.rejected
  FROM messages_observed o JOIN message_stages s ON s.seq = o.seq;
-- A lane event moves the lane's messages between two nonces (see lane_reach): this index visits just those.
CREATE INDEX IF NOT EXISTS messages_lane_nonce ON messages_observed (lane, nonce);
CREATE INDEX IF NOT EXISTS messages_stage ON message_stages (stage_rank, last_at);
-- Lists newest first a page at a time (the explorer's keyset paging, and --since) without sorting the table.
CREATE INDEX IF NOT EXISTS messages_observed_at ON messages_observed (observed_at, id);
-- Found by message through their unique key: one index to write per step, not two.
CREATE TABLE IF NOT EXISTS steps (
  message_id TEXT NOT NULL, message_seq INTEGER NOT NULL, stage TEXT NOT NULL, at INTEGER NOT NULL,
  type TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
  event_id TEXT NOT NULL, rank INTEGER NOT NULL, detail TEXT NOT NULL, UNIQUE (message_seq, event_id, stage)
);
-- One row per event id: an event's id derives from its content, lane and count included, so keying it by lane
-- and count first finds a lane's events in order and puts a chunk's on a few pages, not one page each.
CREATE TABLE IF NOT EXISTS lane_events (
  lane TEXT NOT NULL, count INTEGER NOT NULL, stage TEXT NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL,
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, event_id TEXT NOT NULL,
  rank INTEGER NOT NULL, detail TEXT NOT NULL, UNIQUE (lane, count, event_id)
);
-- A message's checkpoints are found by stage: the first attested and the first committed past its nonce, and
-- the lane's stalls, without reading the lane's every later event.
CREATE INDEX IF NOT EXISTS lane_events_stage ON lane_events (lane, stage, count);
-- Per lane and rank, the largest count of an indexed lane event of that rank: every message of the lane below
-- it is at that rank or beyond, so a lane event need only look from the reach of its rank up to its count.
CREATE TABLE IF NOT EXISTS lane_reach (
  lane TEXT NOT NULL, rank INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (lane, rank)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS unreadable (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, error TEXT NOT NULL,
  PRIMARY KEY (topic, partition, offset)
);
CREATE TABLE IF NOT EXISTS operator_sets (
  dst INTEGER NOT NULL, inbox TEXT NOT NULL, epoch INTEGER NOT NULL, block INTEGER NOT NULL,
  threshold_bps INTEGER NOT NULL, operators TEXT NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL,
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS operator_sets_dst ON operator_sets (dst, epoch, at);
-- A stall and its recovery share service, instance, chain and since; either may be indexed first.
CREATE TABLE IF NOT EXISTS rpc_faults (
  kind TEXT NOT NULL, service TEXT NOT NULL, instance TEXT NOT NULL, chain INTEGER NOT NULL,
  reason TEXT NOT NULL, rpc TEXT NOT NULL, what TEXT NOT NULL, problem TEXT NOT NULL, since TEXT NOT NULL,
  attempts INTEGER NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL,
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS rpc_faults_chain ON rpc_faults (chain, kind, at);
-- Every halt (its watcher found the chain rewritten below finality) and resume of a chain, from its rightful
-- writer: folded in log order, they say which chains are halted now.
CREATE TABLE IF NOT EXISTS chain_halts (
  kind TEXT NOT NULL, chain INTEGER NOT NULL, event TEXT NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL,
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS chain_halts_order ON chain_halts (topic, partition, offset);
`

/**
 * A connection to the index file at `path`, as every reader and writer of it opens one.
 * - WAL: a reader queries while another connection (a thread, a process) writes, and never waits.
 * - Synchronous NORMAL: a commit costs no fsync, only a checkpoint does. A crash of the machine may roll the
 *   last commits back, whole: their positions go back with them, so their records are read again.
 * - A checkpoint once the WAL holds 10,000 pages (40 MiB), not 1,000: each costs an fsync, and a page
 *   rewritten by several commits in between is copied to the file once.
 * - A page cache of up to 32 MiB: the pages a chunk touches (near the end of each table, and the index of
 *   message ids) are read once and written once per commit.
 */
export const connectIndex = (path: string): DatabaseSync => {
  const db = new DatabaseSync(path)
  db.exec(
    `PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;
     PRAGMA wal_autocheckpoint = 10000; PRAGMA cache_size = -32768;`,
  )
  return db
}

/** Runs `write` in one transaction that waits for other writers (another thread or process catching up). */
export const inTransaction = <T>(db: DatabaseSync, write: () => T): T => {
  db.exec("BEGIN IMMEDIATE")
  try {
    const result = write()
    db.exec("COMMIT")
    return result
  } catch (error) {
    db.exec("ROLLBACK")
    throw error
  }
}

type Row = Record<string, unknown> | undefined

/**
 * The condition that finds a message id's row of `message_keys` (`?1`: the id) through its index. Only one
 * connection writes at a time, and it adds a row only after this found none: an id has one row.
 */
export const KEY_OF_ID = "substr(id, 3, 13) = substr(?1, 3, 13) AND id = ?1"

/** Message ids a writer remembers at most (some 30 MB); past it, it starts again. */
const KEYS_REMEMBERED = 200_000

/**
 * Applies writes to an index whose tables exist (`AuditStore.open` makes them). One per connection; every
 * statement prepared once.
 *
 * @example
 * ```ts
 * const writer = new IndexWriter(connectIndex(path))
 * const applied = writer.applyChunk({ topic, partition: 0, expected: undefined, anchor, writes, next: 500 })
 * ```
 */
export class IndexWriter {
  readonly db: DatabaseSync
  readonly #insertMessage: StatementSync
  readonly #insertStage: StatementSync
  readonly #messageExists: StatementSync
  readonly #keyOfId: StatementSync
  readonly #insertKey: StatementSync
  readonly #insertStep: StatementSync
  readonly #insertLaneEvent: StatementSync
  readonly #advanceStage: StatementSync
  readonly #advanceLane: StatementSync
  readonly #laneReach: StatementSync
  readonly #raiseLaneReach: StatementSync
  readonly #coveringRank: StatementSync
  readonly #stepRank: StatementSync
  readonly #hasRejection: StatementSync
  readonly #observationsAndRejections: StatementSync
  readonly #setRejected: StatementSync
  readonly #insertUnreadable: StatementSync
  readonly #insertOperatorSet: StatementSync
  readonly #insertRpcFault: StatementSync
  readonly #insertChainHalt: StatementSync
  readonly #position: StatementSync
  readonly #setPosition: StatementSync
  readonly #meta: StatementSync
  readonly #dataVersion: StatementSync
  /**
   * The numbers of the message ids this writer met (if it remembers them), so that a step costs no look-up of
   * its random id. Forgotten when another connection has written since (it may have emptied the index), when
   * a transaction is rolled back or the index emptied here, and past `KEYS_REMEMBERED`.
   */
  readonly #keys: Map<string, number> | undefined
  #keysVersion: number | undefined

  /** `remember`: keep message ids' numbers (a writer that lives for one long catch-up, not a process's). */
  constructor(db: DatabaseSync, options: { readonly remember?: boolean } = {}) {
    this.db = db
    this.#keys = options.remember === true ? new Map() : undefined
    this.#keyOfId = db.prepare(`SELECT seq FROM message_keys WHERE ${KEY_OF_ID}`)
    this.#insertKey = db.prepare("INSERT INTO message_keys (id) VALUES (?)")
    this.#insertMessage = db.prepare(
      `INSERT OR IGNORE INTO messages_observed (seq, id, lane, src, outbox, dst, nonce, sender, recipient, observed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#insertStage = db.prepare(
      "INSERT INTO message_stages (seq, stage_rank, last_at, rejected) VALUES (?, ?, ?, NULL)",
    )
    this.#messageExists = db.prepare("SELECT 1 AS found FROM message_stages WHERE seq = ?")
    this.#insertStep = db.prepare(
      `INSERT OR IGNORE INTO steps (message_id, message_seq, stage, at, type, topic, partition, offset, event_id, rank, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#insertLaneEvent = db.prepare(
      `INSERT OR IGNORE INTO lane_events (lane, count, stage, at, type, topic, partition, offset, event_id, rank, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    // A row the step does not move is left alone: rewriting it would rewrite its stage index for nothing.
    this.#advanceStage = db.prepare(
      `UPDATE message_stages SET stage_rank = MAX(stage_rank, ?), last_at = MAX(last_at, ?)
       WHERE seq = ? AND (stage_rank < ? OR last_at < ?)`,
    )
    this.#advanceLane = db.prepare(
      `UPDATE message_stages SET stage_rank = MAX(stage_rank, ?), last_at = MAX(last_at, ?)
       WHERE seq IN (SELECT seq FROM messages_observed WHERE lane = ? AND nonce >= ? AND nonce < ?) AND stage_rank < ?`,
    )
    this.#laneReach = db.prepare("SELECT MAX(count) AS count FROM lane_reach WHERE lane = ? AND rank >= ?")
    this.#raiseLaneReach = db.prepare(
      `INSERT INTO lane_reach (lane, rank, count) VALUES (?, ?, ?)
       ON CONFLICT(lane, rank) DO UPDATE SET count = MAX(count, excluded.count)`,
    )
    this.#coveringRank = db.prepare(
      `SELECT MAX(rank) AS rank, MAX(at) AS at FROM lane_events WHERE lane = ? AND count > ? AND rank > 0`,
    )
    this.#stepRank = db.prepare(
      "SELECT MAX(rank) AS rank, MAX(at) AS at FROM steps WHERE message_seq = ? AND rank > 0",
    )
    this.#hasRejection = db.prepare(
      "SELECT 1 AS found FROM steps WHERE message_seq = ? AND stage = 'rejected' LIMIT 1",
    )
    this.#observationsAndRejections = db.prepare(
      `SELECT stage, detail FROM steps WHERE message_seq = ? AND stage IN ('observed', 'rejected')
       ORDER BY at, offset, rowid`,
    )
    this.#setRejected = db.prepare("UPDATE message_stages SET rejected = ? WHERE seq = ?")
    this.#insertUnreadable = db.prepare(
      "INSERT OR IGNORE INTO unreadable (topic, partition, offset, error) VALUES (?, ?, ?, ?)",
    )
    this.#insertOperatorSet = db.prepare(
      `INSERT OR IGNORE INTO operator_sets (dst, inbox, epoch, block, threshold_bps, operators, at, type, topic, partition, offset, event_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#insertRpcFault = db.prepare(
      `INSERT OR IGNORE INTO rpc_faults (kind, service, instance, chain, reason, rpc, what, problem, since, attempts, at, type, topic, partition, offset, event_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#insertChainHalt = db.prepare(
      `INSERT OR IGNORE INTO chain_halts (kind, chain, event, at, type, topic, partition, offset, event_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#position = db.prepare("SELECT next, anchor FROM positions WHERE topic = ? AND partition = ?")
    this.#setPosition = db.prepare(
      `INSERT INTO positions (topic, partition, next, anchor) VALUES (?, ?, ?, ?)
       ON CONFLICT(topic, partition) DO UPDATE SET next = excluded.next, anchor = COALESCE(positions.anchor, excluded.anchor)`,
    )
    this.#meta = db.prepare("SELECT value FROM meta WHERE key = ?")
    this.#dataVersion = db.prepare("PRAGMA data_version")
  }

  /** Forgets what this connection remembers of the index (it was emptied, or a transaction rolled back). */
  forget(): void {
    this.#keys?.clear()
    this.#keysVersion = undefined
  }

  /** Forgets the remembered numbers if another connection committed since they were met. */
  #checkKeys(): void {
    if (this.#keys === undefined) return
    const version = (this.#dataVersion.get() as { data_version: number }).data_version
    if (version !== this.#keysVersion) this.#keys?.clear()
    this.#keysVersion = version
  }

  /** Runs `write` in one transaction that waits for other writers; a rollback forgets what was remembered. */
  transaction<T>(write: () => T): T {
    try {
      return inTransaction(this.db, write)
    } catch (error) {
      this.forget()
      throw error
    }
  }

  position(topic: string, partition: number): { next: number; anchor: string | null } | undefined {
    return this.#position.get(topic, partition) as { next: number; anchor: string | null } | undefined
  }

  setPosition(topic: string, partition: number, next: number, anchor: string | null): void {
    this.#setPosition.run(topic, partition, next, anchor)
  }

  meta(key: string): string | undefined {
    return (this.#meta.get(key) as { value: string } | undefined)?.value
  }

  /**
   * Applies one partition's chunk with its new position, in one transaction, if the partition is still where
   * the reader found it and the index still belongs to the reader's log; false: another process indexed this
   * range, or reset the index for another log, since (nothing is written).
   */
  applyChunk(chunk: IndexChunk): boolean {
    return this.transaction(() => this.applyChunkHere(chunk))
  }

  /** `applyChunk` inside the caller's transaction, which may hold other chunks before and after it. */
  applyChunkHere(chunk: IndexChunk): boolean {
    if (this.position(chunk.topic, chunk.partition)?.next !== chunk.expected) return false
    if (this.meta("anchor") !== chunk.anchor) return false
    this.#checkKeys()
    for (const write of chunk.writes) this.#apply(write)
    this.setPosition(chunk.topic, chunk.partition, chunk.next, null)
    return true
  }

  /** Applies one write (inside the caller's transaction, if any). */
  apply(write: IndexWrite): void {
    this.#checkKeys()
    this.#apply(write)
  }

  #apply(write: IndexWrite): void {
    switch (write.op) {
      case "message":
        this.#addMessage(write)
        return
      case "steps":
        this.#addSteps(write)
        return
      case "rejection":
        this.#refreshRejected(write.messageId)
        return
      case "lane-event":
        this.#addLaneEvent(write)
        return
      case "operator-set":
        this.#insertOperatorSet.run(
          write.dstChainId,
          write.inbox,
          write.epoch,
          write.block,
          write.thresholdBps,
          write.operators,
          ...placeValues(write),
        )
        return
      case "rpc-fault":
        this.#insertRpcFault.run(
          write.kind,
          write.service,
          write.instance,
          write.chainId,
          write.reason,
          write.rpc,
          write.what,
          write.problem,
          write.since,
          write.attempts,
          ...placeValues(write),
        )
        return
      case "chain-halt":
        this.#insertChainHalt.run(write.kind, write.chainId, write.event, ...placeValues(write))
        return
      case "unreadable":
        this.#insertUnreadable.run(write.topic, write.partition, write.offset, write.error)
        return
    }
  }

  /** The number of a message id (`message_keys`), given it one if it has none and `add` (undefined: none). */
  #keyOf(id: string, add: true): number
  #keyOf(id: string, add: false): number | undefined
  #keyOf(id: string, add: boolean): number | undefined {
    const remembered = this.#keys?.get(id)
    if (remembered !== undefined) return remembered
    const key = this.#keyOfId.get(id) as { seq: number } | undefined
    const seq = key?.seq ?? (add ? Number(this.#insertKey.run(id).lastInsertRowid) : undefined)
    if (seq !== undefined && this.#keys !== undefined) {
      if (this.#keys.size >= KEYS_REMEMBERED) this.#keys.clear()
      this.#keys.set(id, seq)
    }
    return seq
  }

  #addMessage(write: Extract<IndexWrite, { op: "message" }>): void {
    const seq = this.#keyOf(write.id, true)
    let rank = write.rank
    let lastAt = write.observedAt
    for (const moved of [this.#stepRank.get(seq), this.#coveringRank.get(write.lane, write.nonce)] as Array<
      { rank: number | null; at: number | null } | undefined
    >) {
      if (moved?.rank != null && moved.rank > rank) rank = moved.rank
      if (moved?.at != null && moved.at > lastAt) lastAt = moved.at
    }
    const inserted = this.#insertMessage.run(
      seq,
      write.id,
      write.lane,
      write.srcChainId,
      write.outbox,
      write.dstChainId,
      write.nonce,
      write.sender,
      write.recipient,
      write.observedAt,
    )
    // Observed before (another observation of it): it keeps its first row and wherever it is now.
    if (inserted.changes > 0) this.#insertStage.run(seq, rank, lastAt)
  }

  /**
   * A record's steps, then the furthest stage each moves its message to: one update a message, however many
   * of its steps the record holds (a commitAndDeliver's committed and delivered), with the same outcome as
   * one a step, since they share the record's time.
   */
  #addSteps(write: Extract<IndexWrite, { op: "steps" }>): void {
    const moved = new Map<number, number>()
    for (const step of write.steps) {
      let seq: number | undefined
      if (step.ifKnown) {
        seq = this.#keyOf(step.messageId, false)
        if (seq === undefined || (this.#messageExists.get(seq) as Row) === undefined) continue
      } else seq = this.#keyOf(step.messageId, true)
      this.#insertStep.run(
        step.messageId,
        seq,
        step.stage,
        write.at,
        write.type,
        write.topic,
        write.partition,
        write.offset,
        write.eventId,
        step.rank,
        step.detail,
      )
      if (step.rank > (moved.get(seq) ?? 0)) moved.set(seq, step.rank)
    }
    for (const [seq, rank] of moved) this.#advanceStage.run(rank, write.at, seq, rank, write.at)
  }

  #addLaneEvent(write: Extract<IndexWrite, { op: "lane-event" }>): void {
    const inserted = this.#insertLaneEvent.run(
      write.lane,
      write.count,
      write.stage,
      write.at,
      write.type,
      write.topic,
      write.partition,
      write.offset,
      write.eventId,
      write.rank,
      write.detail,
    )
    if (inserted.changes === 0 || write.rank === 0) return
    // Below the reach of this rank, every message of the lane is at this rank or beyond already (a lane event
    // of this rank or a higher one covered it, when that event was indexed or when the message was): only
    // those from there up to this count can move.
    const from =
      (this.#laneReach.get(write.lane, write.rank) as { count: number | null } | undefined)?.count ?? 0
    if (write.count > from)
      this.#advanceLane.run(write.rank, write.at, write.lane, from, write.count, write.rank)
    this.#raiseLaneReach.run(write.lane, write.rank, write.count)
  }

  /**
   * Marks a message rejected when every observation of it (its `observed` steps, by block) has a `rejected`
   * step, with the latest rejection's reason, and clears the mark otherwise. Works from the steps alone, so
   * observations and rejections may be indexed in either order.
   */
  #refreshRejected(messageId: string): void {
    // Only a rejected step sets the mark: with none, the message was never marked and there is nothing to clear.
    const seq = this.#keyOf(messageId, false)
    if (seq === undefined || (this.#hasRejection.get(seq) as Row) === undefined) return
    const steps = this.#observationsAndRejections.all(seq) as unknown as Array<{
      stage: string
      detail: string
    }>
    const observed = new Set<string>()
    const rejected = new Map<string, string>()
    let reason: string | null = null
    for (const step of steps) {
      const detail = JSON.parse(step.detail) as { block?: unknown; blockHash?: unknown; reason?: unknown }
      const key = `${String(detail.block)}:${String(detail.blockHash)}`
      if (step.stage === "observed") observed.add(key)
      else {
        rejected.set(key, String(detail.reason))
        reason = String(detail.reason)
      }
    }
    const all = observed.size > 0 && [...observed].every((key) => rejected.has(key))
    this.#setRejected.run(all ? reason : null, seq)
  }
}

/** A fact's place in the log, as the columns `at, type, topic, partition, offset, event_id` take it. */
export const placeValues = (place: LogPlace) =>
  [place.at, place.type, place.topic, place.partition, place.offset, place.eventId] as const
