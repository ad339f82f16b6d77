import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { DatabaseSync, type StatementSync } from "node:sqlite"
import { rankOf, type Stage } from "../lifecycle/index.ts"
import { type ChainHalt, type ChainStatus, foldChainHalt, type HaltEvent } from "../runtime/chain-halts.ts"

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
 * quarantined and a timeline shows the halt and the resume.
 */
export const INDEX_VERSION = 8

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
  /**
   * The proof-builder's reason when it rejected every observation of this message (`MessageRejected`): it is
   * no message of its lane, whatever checkpoints cover its nonce. Null while any observation stands.
   */
  readonly rejected: string | null
}

/** A chain its watcher halted (`ChainHalted`), and no resume lifted since. */
export interface ChainHaltRow extends LogPlace {
  readonly chainId: number
  /** The block found rewritten. */
  readonly blockNumber: number
  readonly reason: string
}

/** A halt or a resume of a chain that took effect (`foldChainHalt`), where it lies in the log, and what it made of the chain. */
export interface ChainStatusRow extends LogPlace {
  readonly chainId: number
  readonly status: ChainStatus
}

/** A `HaltEvent` as the index keeps it (JSON: a resume's counts as pairs). */
const encodeHaltEvent = (event: HaltEvent): string =>
  JSON.stringify(
    event.kind === "halted"
      ? event
      : { ...event, resume: { ...event.resume, counts: [...event.resume.counts] } },
  )
const decodeHaltEvent = (text: string): HaltEvent => {
  const event = JSON.parse(text) as HaltEvent
  if (event.kind === "halted") return event
  const counts = event.resume.counts as unknown as Array<[number, number]>
  return { ...event, resume: { ...event.resume, counts: new Map(counts) } }
}

/** Where an index keeps its version; it outlives the tables, which another version may shape otherwise. */
const META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"

/** Everything derived from the log, dropped when the index has another version. */
const DERIVED_TABLES = [
  "positions",
  "messages",
  "steps",
  "lane_events",
  "unreadable",
  "operator_sets",
  "rpc_faults",
  "chain_halts",
] as const

const readMeta = (db: DatabaseSync, key: string): string | undefined =>
  (db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value

const writeMeta = (db: DatabaseSync, key: string, value: string): void => {
  db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  ).run(key, value)
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

/** A destination Inbox's operator set, as the attestation-collector read it (`OperatorSetRead`). */
export interface OperatorSetRow extends LogPlace {
  readonly dstChainId: number
  readonly inbox: string
  readonly epoch: number
  readonly block: number
  readonly thresholdBps: number
  /** In the Inbox's order; weights as decimal strings. */
  readonly operators: ReadonlyArray<{ readonly address: string; readonly weight: string }>
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS positions (
  topic TEXT NOT NULL, partition INTEGER NOT NULL, next INTEGER NOT NULL, anchor TEXT,
  PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY, lane TEXT NOT NULL, src INTEGER NOT NULL, outbox TEXT NOT NULL, dst INTEGER NOT NULL,
  nonce INTEGER NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
  observed_at INTEGER NOT NULL, stage_rank INTEGER NOT NULL, last_at INTEGER NOT NULL, rejected TEXT
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
  rank INTEGER NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lane_events_lane ON lane_events (lane, count);
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
 * The audit index: a SQLite file derived from the log, and nothing else. It
 * can be deleted at any time and rebuilt from offset zero; every fact in it
 * names the topic, partition and offset it came from.
 *
 * Tables: `messages` (one row per observed message, with the furthest stage
 * it reached, when it last moved, and whether the proof-builder rejected
 * every observation of it), `steps` (events about one message),
 * `lane_events` (events about a lane's checkpoint, which cover every message
 * below its count), `positions` (how far each partition was indexed). A step
 * and a lane event keep the rank of the stage their event implies (0: none):
 * the store applies ranks, the lifecycle projection decides them.
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
      `INSERT OR IGNORE INTO lane_events (lane, count, stage, at, type, topic, partition, offset, event_id, rank, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#advanceStage = db.prepare(
      `UPDATE messages SET stage_rank = MAX(stage_rank, ?), last_at = MAX(last_at, ?) WHERE id = ?`,
    )
    this.#advanceLane = db.prepare(
      `UPDATE messages SET stage_rank = MAX(stage_rank, ?), last_at = MAX(last_at, ?)
       WHERE lane = ? AND nonce < ? AND stage_rank < ?`,
    )
    this.#coveringRank = db.prepare(
      `SELECT MAX(rank) AS rank, MAX(at) AS at FROM lane_events WHERE lane = ? AND count > ? AND rank > 0`,
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
    // One transaction, so a second process opening the same old index waits and then finds it current, rather
    // than dropping the tables the first one just made.
    db.exec("BEGIN IMMEDIATE")
    try {
      db.exec(META)
      const version = readMeta(db, "version")
      // Another version's tables may have another shape: emptying them is not enough.
      if (version !== undefined && version !== String(INDEX_VERSION))
        db.exec(DERIVED_TABLES.map((table) => `DROP TABLE IF EXISTS ${table};`).join(" "))
      db.exec(SCHEMA)
      writeMeta(db, "version", String(INDEX_VERSION))
      db.exec("COMMIT")
    } catch (error) {
      db.exec("ROLLBACK")
      db.close()
      throw error
    }
    return new AuditStore(db)
  }

  meta(key: string): string | undefined {
    return readMeta(this.db, key)
  }

  setMeta(key: string, value: string): void {
    writeMeta(this.db, key, value)
  }

  /** Forgets everything: the next catch-up rebuilds the index from offset zero. */
  reset(): void {
    this.db.exec(DERIVED_TABLES.map((table) => `DELETE FROM ${table};`).join(" "))
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
  addMessage(row: Omit<MessageRow, "stageRank" | "lastAt" | "rejected">): void {
    let rank = rankOf("observed")
    let lastAt = row.observedAt
    for (const moved of [this.#stepRank.get(row.id), this.#coveringRank.get(row.lane, row.nonce)] as Array<
      { rank: number | null; at: number | null } | undefined
    >) {
      if (moved?.rank != null && moved.rank > rank) rank = moved.rank
      if (moved?.at != null && moved.at > lastAt) lastAt = moved.at
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

  /**
   * Marks a message rejected when every observation of it (its `observed` steps, by block) has a `rejected`
   * step, with the latest rejection's reason, and clears the mark otherwise. Works from the steps alone, so
   * observations and rejections may be indexed in either order.
   */
  refreshRejected(messageId: string): void {
    const steps = this.db
      .prepare(
        "SELECT stage, detail FROM steps WHERE message_id = ? AND stage IN ('observed', 'rejected') ORDER BY at, offset",
      )
      .all(messageId) as unknown as Array<{ stage: string; detail: string }>
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
    this.db.prepare("UPDATE messages SET rejected = ? WHERE id = ?").run(all ? reason : null, messageId)
  }

  /** The rejected observations of other messages at a lane's nonce: rivals the proof-builder refuted. */
  rivalRejections(
    lane: string,
    nonce: number,
    except: string,
  ): Array<StepRow & { readonly messageId: string }> {
    return (
      this.db
        .prepare(
          `SELECT s.* FROM steps s JOIN messages m ON s.message_id = m.id
           WHERE m.lane = ? AND m.nonce = ? AND m.id != ? AND s.stage = 'rejected'
           ORDER BY s.at, s.topic, s.partition, s.offset`,
        )
        .all(lane, nonce, except) as unknown as Array<RawStep & { message_id: string }>
    ).map((row) => ({
      ...toPlace(row),
      stage: row.stage,
      detail: JSON.parse(row.detail),
      messageId: row.message_id,
    }))
  }

  /** The lane's latest checkpoint proposal, in log order (undefined: none yet). */
  lastProposal(lane: string): LaneEventRow | undefined {
    const row = this.db
      .prepare(
        "SELECT * FROM lane_events WHERE lane = ? AND stage = 'proposed' ORDER BY at DESC, topic DESC, partition DESC, offset DESC LIMIT 1",
      )
      .get(lane) as RawLaneEvent | undefined
    return row === undefined
      ? undefined
      : {
          ...toPlace(row),
          lane: row.lane,
          count: row.count,
          stage: row.stage,
          detail: JSON.parse(row.detail),
        }
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

  /** Records an event about a lane checkpoint and moves every covered message forward (`advance` undefined: no progress). */
  addLaneEvent(event: LaneEventRow, advance: Stage | undefined): void {
    const rank = advance === undefined ? 0 : rankOf(advance)
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
      rank,
      JSON.stringify(event.detail),
    )
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

  /** Records a chain's halt or resume (`haltEventOf`: only from its rightful writer). */
  addChainHaltEvent(row: LogPlace & { readonly event: HaltEvent }): void {
    const { event } = row
    const chainId = event.kind === "halted" ? event.halt.chainId : event.resume.chainId
    this.db
      .prepare(
        `INSERT OR IGNORE INTO chain_halts (kind, chain, event, at, type, topic, partition, offset, event_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(event.kind, chainId, encodeHaltEvent(event), ...placeValues(row))
  }

  /**
   * Every halt and resume that took effect, in log order (a resume naming another halt, or none in force,
   * lifts nothing and is left out), each with the chain's status after it. `chainId` narrows it to one chain.
   */
  chainStatusHistory(chainId?: number): ReadonlyArray<ChainStatusRow> {
    const rows = this.db
      .prepare("SELECT * FROM chain_halts ORDER BY topic, partition, offset")
      .all() as unknown as Array<RawPlace & { chain: number; event: string }>
    const current = new Map<number, ChainStatus>()
    const history: ChainStatusRow[] = []
    for (const row of rows) {
      const folded = foldChainHalt(current.get(row.chain) ?? null, decodeHaltEvent(row.event))
      if (folded.kind === "ignored") continue
      current.set(row.chain, folded.status)
      if (chainId === undefined || chainId === row.chain)
        history.push({ ...toPlace(row), chainId: row.chain, status: folded.status })
    }
    return history
  }

  /** The chains halted now, by chain id, with the halt in force: their messages not settled are quarantined. */
  halts(): ReadonlyMap<number, ChainHaltRow> {
    const last = new Map<number, ChainStatusRow>()
    for (const row of this.chainStatusHistory()) last.set(row.chainId, row)
    const halted = new Map<number, ChainHaltRow>()
    for (const [chainId, row] of last) {
      if (row.status.kind !== "halted") continue
      const halt: ChainHalt = row.status.halt
      halted.set(chainId, { ...row, chainId, blockNumber: halt.blockNumber, reason: halt.reason })
    }
    return halted
  }

  /** Records a destination's operator set as the collector read it. */
  addOperatorSet(row: OperatorSetRow): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO operator_sets (dst, inbox, epoch, block, threshold_bps, operators, at, type, topic, partition, offset, event_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.dstChainId,
        row.inbox,
        row.epoch,
        row.block,
        row.thresholdBps,
        JSON.stringify(row.operators),
        ...placeValues(row),
      )
  }

  /**
   * The operator set of a destination the collector counted against: the last read of that epoch, or of any
   * epoch when none is given (undefined: the collector recorded none).
   */
  operatorSet(dstChainId: number, epoch?: number): OperatorSetRow | undefined {
    const row = (
      epoch === undefined
        ? this.db
            .prepare("SELECT * FROM operator_sets WHERE dst = ? ORDER BY at DESC, offset DESC LIMIT 1")
            .get(dstChainId)
        : this.db
            .prepare(
              "SELECT * FROM operator_sets WHERE dst = ? AND epoch = ? ORDER BY at DESC, offset DESC LIMIT 1",
            )
            .get(dstChainId, epoch)
    ) as (RawPlace & Record<string, unknown>) | undefined
    if (row === undefined) return undefined
    return {
      ...toPlace(row),
      dstChainId: Number(row.dst),
      inbox: String(row.inbox),
      epoch: Number(row.epoch),
      block: Number(row.block),
      thresholdBps: Number(row.threshold_bps),
      operators: JSON.parse(String(row.operators)),
    }
  }

  /** Records an RPC stall or recovery. */
  addRpcFault(row: RpcFaultRow): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO rpc_faults (kind, service, instance, chain, reason, rpc, what, problem, since, attempts, at, type, topic, partition, offset, event_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.kind,
        row.service,
        row.instance,
        row.chainId,
        row.reason,
        row.rpc,
        row.what,
        row.problem,
        row.since,
        row.attempts,
        ...placeValues(row),
      )
  }

  /**
   * The RPC stalls of these chains (of every chain when none are given) with no recovery indexed, oldest
   * first: what services cannot do now. One per service instance and chain (its latest, if several were
   * recorded and none recovered).
   */
  openStalls(chains?: ReadonlyArray<number>): RpcFaultRow[] {
    if (chains?.length === 0) return []
    const only = chains === undefined ? "" : `AND s.chain IN (${chains.map(() => "?").join(", ")})`
    return this.#faultRows(
      `SELECT s.* FROM rpc_faults s WHERE s.kind = 'stalled' ${only}
       AND NOT EXISTS (SELECT 1 FROM rpc_faults r WHERE r.kind = 'recovered' AND r.service = s.service
         AND r.instance = s.instance AND r.chain = s.chain AND r.since = s.since)
       AND NOT EXISTS (SELECT 1 FROM rpc_faults l WHERE l.kind = 'stalled' AND l.service = s.service
         AND l.instance = s.instance AND l.chain = s.chain AND l.since > s.since)
       ORDER BY s.at, s.offset`,
      chains ?? [],
    )
  }

  /** The RPC stalls and recoveries of these chains written between two log times, oldest first. */
  rpcFaultsBetween(chains: ReadonlyArray<number>, from: number, to: number): RpcFaultRow[] {
    if (chains.length === 0) return []
    return this.#faultRows(
      `SELECT * FROM rpc_faults WHERE chain IN (${chains.map(() => "?").join(", ")}) AND at >= ? AND at <= ?
       ORDER BY at, offset LIMIT 100`,
      [...chains, from, to],
    )
  }

  #faultRows(sql: string, params: ReadonlyArray<number | string>): RpcFaultRow[] {
    return (this.db.prepare(sql).all(...params) as unknown as Array<RawPlace & Record<string, unknown>>).map(
      (row) => ({
        ...toPlace(row),
        kind: row.kind as RpcFaultRow["kind"],
        service: String(row.service),
        instance: String(row.instance),
        chainId: Number(row.chain),
        reason: String(row.reason),
        rpc: String(row.rpc),
        what: String(row.what),
        problem: String(row.problem),
        since: String(row.since),
        attempts: Number(row.attempts),
      }),
    )
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
  rejected: string | null
}

/** A fact's place in the log, as the columns `at, type, topic, partition, offset, event_id` take it. */
const placeValues = (place: LogPlace) =>
  [place.at, place.type, place.topic, place.partition, place.offset, place.eventId] as const

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
  rejected: row.rejected ?? null,
})
export type { RawMessage }
