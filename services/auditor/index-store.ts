import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { DatabaseSync, type StatementSync } from "node:sqlite"
import { rankOf, type Stage } from "./stages.ts"

/**
 * Bumped when the tables change, or when what the index makes of the log does: an index of another version is
 * rebuilt from the log. 3: a skipped message's stage follows the Inbox status `DeliverySkipped` v2 records (an
 * index built before may hold those records as unreadable).
 */
export const INDEX_VERSION = 3

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

export interface MessageRow {
  readonly id: string
  readonly lane: string
  readonly srcChainId: number
  readonly outbox: string
  readonly dstChainId: number
  readonly nonce: number
  readonly sender: string
  readonly recipient: string
  readonly observedAt: number
  readonly stageRank: number
  readonly lastAt: number
}

export interface StepRow extends LogPlace {
  readonly stage: string
  readonly detail: Record<string, unknown>
}

export interface LaneEventRow extends LogPlace {
  readonly lane: string
  readonly count: number
  readonly stage: string
  readonly detail: Record<string, unknown>
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, next INTEGER NOT NULL, anchor TEXT,
  PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY, lane TEXT NOT NULL, src INTEGER NOT NULL, outbox TEXT NOT NULL, dst INTEGER NOT NULL,
  nonce INTEGER NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
  observed_at INTEGER NOT NULL, stage_rank INTEGER NOT NULL, last_at INTEGER NOT NULL
);
DROP INDEX IF EXISTS messages_lane;
-- A checkpoint moves only the lane's messages still below its stage: this index visits just those.
CREATE INDEX IF NOT EXISTS messages_lane_stage ON messages (lane, stage_rank, nonce);
CREATE INDEX IF NOT EXISTS messages_stage ON messages (stage_rank, last_at);
CREATE TABLE IF NOT EXISTS steps (
  message_id TEXT NOT NULL, stage TEXT NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL,
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, event_id TEXT NOT NULL,
  rank INTEGER NOT NULL, detail TEXT NOT NULL, UNIQUE (message_id, event_id, stage)
);
CREATE INDEX IF NOT EXISTS steps_message ON steps (message_id, at);
CREATE TABLE IF NOT EXISTS lane_events (
  lane TEXT NOT NULL, count INTEGER NOT NULL, stage TEXT NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL,
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, event_id TEXT NOT NULL UNIQUE,
  detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lane_events_lane ON lane_events (lane, count);
CREATE TABLE IF NOT EXISTS unreadable (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, error TEXT NOT NULL,
  PRIMARY KEY (topic, partition, offset)
);
`

/**
 * The audit index: a SQLite file derived from the log, and nothing else. It
 * can be deleted at any time and rebuilt from offset zero; every fact in it
 * names the topic, partition and offset it came from.
 *
 * Tables: `messages` (one row per observed message, with the furthest stage
 * it reached and when it last moved), `steps` (events about one message),
 * `lane_events` (events about a lane's checkpoint, which cover every message
 * below its count), `positions` (how far each partition was indexed).
 *
 * @example
 * ```ts
 * const store = AuditStore.open("/tmp/devnet/audit/index.sqlite")
 * store.message("0x12…")
 * ```
 */
export class AuditStore {
  readonly db: DatabaseSync
  readonly #insertMessage: StatementSync
  readonly #insertStep: StatementSync
  readonly #insertLaneEvent: StatementSync
  readonly #advanceStage: StatementSync
  readonly #advanceLane: StatementSync
  readonly #coveringRank: StatementSync
  readonly #stepRank: StatementSync

  private constructor(db: DatabaseSync) {
    this.db = db
    this.#insertMessage = db.prepare(
      `INSERT OR IGNORE INTO messages (id, lane, src, outbox, dst, nonce, sender, recipient, observed_at, stage_rank, last_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#insertStep = db.prepare(
      `INSERT OR IGNORE INTO steps (message_id, stage, at, type, topic, partition, offset, event_id, rank, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#insertLaneEvent = db.prepare(
      `INSERT OR IGNORE INTO lane_events (lane, count, stage, at, type, topic, partition, offset, event_id, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#advanceStage = db.prepare(
      `UPDATE messages SET stage_rank = MAX(stage_rank, ?), last_at = MAX(last_at, ?) WHERE id = ?`,
    )
    this.#advanceLane = db.prepare(
      `UPDATE messages SET stage_rank = MAX(stage_rank, ?), last_at = MAX(last_at, ?)
       WHERE lane = ? AND nonce < ? AND stage_rank < ?`,
    )
    this.#coveringRank = db.prepare(
      `SELECT stage, MAX(at) AS at FROM lane_events WHERE lane = ? AND count > ? GROUP BY stage`,
    )
    this.#stepRank = db.prepare(
      `SELECT MAX(rank) AS rank, MAX(at) AS at FROM steps WHERE message_id = ? AND rank > 0`,
    )
  }

  /** Opens (creating if needed) the index at `path`; an index of another version is emptied. */
  static open(path: string): AuditStore {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true })
    const db = new DatabaseSync(path)
    // WAL lets a reader query while another process catches the index up.
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;")
    db.exec(SCHEMA)
    const store = new AuditStore(db)
    const version = store.meta("version")
    if (version !== undefined && version !== String(INDEX_VERSION)) store.reset()
    store.setMeta("version", String(INDEX_VERSION))
    return store
  }

  meta(key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined
    return row?.value
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      )
      .run(key, value)
  }

  /** Forgets everything: the next catch-up rebuilds the index from offset zero. */
  reset(): void {
    this.db.exec(
      "DELETE FROM positions; DELETE FROM messages; DELETE FROM steps; DELETE FROM lane_events; DELETE FROM unreadable;",
    )
  }

  position(topic: string, partition: number): { next: number; anchor: string | null } | undefined {
    return this.db
      .prepare("SELECT next, anchor FROM positions WHERE topic = ? AND partition = ?")
      .get(topic, partition) as { next: number; anchor: string | null } | undefined
  }

  setPosition(topic: string, partition: number, next: number, anchor: string | null): void {
    this.db
      .prepare(
        `INSERT INTO positions (topic, partition, next, anchor) VALUES (?, ?, ?, ?)
         ON CONFLICT(topic, partition) DO UPDATE SET next = excluded.next, anchor = COALESCE(positions.anchor, excluded.anchor)`,
      )
      .run(topic, partition, next, anchor)
  }

  /** Runs `write` in one transaction that waits for other writers (another process catching up). */
  transaction<T>(write: () => T): T {
    this.db.exec("BEGIN IMMEDIATE")
    try {
      const result = write()
      this.db.exec("COMMIT")
      return result
    } catch (error) {
      this.db.exec("ROLLBACK")
      throw error
    }
  }

  /**
   * Records an observed message. Its stage starts from whatever was indexed
   * before it — steps naming it and lane events covering it — so the result
   * does not depend on the order topics are read in.
   */
  addMessage(row: Omit<MessageRow, "stageRank" | "lastAt">): void {
    let rank = rankOf("observed")
    let lastAt = row.observedAt
    const steps = this.#stepRank.get(row.id) as { rank: number | null; at: number | null } | undefined
    if (steps?.rank != null && steps.rank > rank) rank = steps.rank
    if (steps?.at != null && steps.at > lastAt) lastAt = steps.at
    for (const covering of this.#coveringRank.all(row.lane, row.nonce) as Array<{
      stage: string
      at: number
    }>) {
      const stageRank = laneStageRank(covering.stage)
      if (stageRank > rank) rank = stageRank
      if (stageRank > 0 && covering.at > lastAt) lastAt = covering.at
    }
    this.#insertMessage.run(
      row.id,
      row.lane,
      row.srcChainId,
      row.outbox,
      row.dstChainId,
      row.nonce,
      row.sender,
      row.recipient,
      row.observedAt,
      rank,
      lastAt,
    )
  }

  /** Records an event about one message and moves its stage forward (`advance` undefined: no progress). */
  addStep(messageId: string, step: StepRow, advance: Stage | undefined): void {
    this.#insertStep.run(
      messageId,
      step.stage,
      step.at,
      step.type,
      step.topic,
      step.partition,
      step.offset,
      step.eventId,
      advance === undefined ? 0 : rankOf(advance),
      JSON.stringify(step.detail),
    )
    if (advance !== undefined) this.#advanceStage.run(rankOf(advance), step.at, messageId)
  }

  /** Records an event about a lane checkpoint and moves every covered message forward. */
  addLaneEvent(event: LaneEventRow): void {
    const result = this.#insertLaneEvent.run(
      event.lane,
      event.count,
      event.stage,
      event.at,
      event.type,
      event.topic,
      event.partition,
      event.offset,
      event.eventId,
      JSON.stringify(event.detail),
    )
    const rank = laneStageRank(event.stage)
    if (result.changes > 0 && rank > 0) this.#advanceLane.run(rank, event.at, event.lane, event.count, rank)
  }

  /** A record that is not a Chorus event: kept so every report can say the log holds something unreadable. */
  addUnreadable(topic: string, partition: number, offset: number, error: string): void {
    this.db
      .prepare("INSERT OR IGNORE INTO unreadable (topic, partition, offset, error) VALUES (?, ?, ?, ?)")
      .run(topic, partition, offset, error)
  }

  unreadable(): Array<{ topic: string; partition: number; offset: number; error: string }> {
    return this.db
      .prepare("SELECT * FROM unreadable ORDER BY topic, partition, offset")
      .all() as unknown as Array<{
      topic: string
      partition: number
      offset: number
      error: string
    }>
  }

  message(id: string): MessageRow | undefined {
    const row = this.db.prepare("SELECT * FROM messages WHERE id = ?").get(id.toLowerCase()) as
      | RawMessage
      | undefined
    return row === undefined ? undefined : toMessageRow(row)
  }

  steps(messageId: string): StepRow[] {
    return (
      this.db
        .prepare("SELECT * FROM steps WHERE message_id = ? ORDER BY at, topic, partition, offset")
        .all(messageId) as unknown as RawStep[]
    ).map((row) => ({ ...toPlace(row), stage: row.stage, detail: JSON.parse(row.detail) }))
  }

  /** Lane events of checkpoints that cover `nonce` (count > nonce), and the lane's stalls, in log time order. */
  laneEventsCovering(lane: string, nonce: number): LaneEventRow[] {
    return (
      this.db
        .prepare(
          "SELECT * FROM lane_events WHERE lane = ? AND (count > ? OR stage = 'stalled') ORDER BY at, topic, partition, offset",
        )
        .all(lane, nonce) as unknown as RawLaneEvent[]
    ).map((row) => ({
      ...toPlace(row),
      lane: row.lane,
      count: row.count,
      stage: row.stage,
      detail: JSON.parse(row.detail),
    }))
  }

  counts(): { messages: number; steps: number; laneEvents: number } {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n
    return {
      messages: one("SELECT COUNT(*) AS n FROM messages"),
      steps: one("SELECT COUNT(*) AS n FROM steps"),
      laneEvents: one("SELECT COUNT(*) AS n FROM lane_events"),
    }
  }

  close(): void {
    this.db.close()
  }
}

/** Lane events that move covered messages forward, and how far. */
const LANE_PROGRESS: Record<string, Stage> = {
  proposed: "proposed",
  signed: "signed",
  attested: "attested",
  committed: "committed",
}
const laneStageRank = (stage: string): number => {
  const progress = LANE_PROGRESS[stage]
  return progress === undefined ? 0 : rankOf(progress)
}

interface RawPlace {
  topic: string
  partition: number
  offset: number
  event_id: string
  type: string
  at: number
}
interface RawStep extends RawPlace {
  stage: string
  detail: string
}
interface RawLaneEvent extends RawStep {
  lane: string
  count: number
}
interface RawMessage {
  id: string
  lane: string
  src: number
  outbox: string
  dst: number
  nonce: number
  sender: string
  recipient: string
  observed_at: number
  stage_rank: number
  last_at: number
}

const toPlace = (row: RawPlace): LogPlace => ({
  topic: row.topic,
  partition: row.partition,
  offset: row.offset,
  eventId: row.event_id,
  type: row.type,
  at: row.at,
})

/** Maps a raw `messages` row to its typed form. */
export const toMessageRow = (row: RawMessage): MessageRow => ({
  id: row.id,
  lane: row.lane,
  srcChainId: row.src,
  outbox: row.outbox,
  dstChainId: row.dst,
  nonce: row.nonce,
  sender: row.sender,
  recipient: row.recipient,
  observedAt: row.observed_at,
  stageRank: row.stage_rank,
  lastAt: row.last_at,
})
export type { RawMessage }
