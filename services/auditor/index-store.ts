import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import type { DatabaseSync, StatementSync } from "node:sqlite"
import { type ChainHalt, type ChainStatus, foldChainHalt } from "../runtime/chain-halt-rule.ts"
import {
  connectIndex,
  DERIVED_TABLES,
  decodeHaltEvent,
  INDEX_VERSION,
  type IndexChunk,
  type IndexSink,
  type IndexWrite,
  IndexWriter,
  KEY_OF_ID,
  type LogPlace,
  META,
  type RpcFaultRow,
  SCHEMA,
} from "./index-writer.ts"

export { INDEX_VERSION, type LogPlace, type RpcFaultRow } from "./index-writer.ts"

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

const readMeta = (db: DatabaseSync, key: string): string | undefined =>
  (db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value

/** Drops every table and view of the index but `keep` (their indexes go with them). */
const dropAllBut = (db: DatabaseSync, keep: string): void => {
  const objects = db
    .prepare(
      "SELECT type, name FROM sqlite_schema WHERE type IN ('view', 'table') AND name NOT LIKE 'sqlite_%' AND name != ?",
    )
    .all(keep) as Array<{ type: "view" | "table"; name: string }>
  for (const { type, name } of objects)
    db.exec(`DROP ${type === "view" ? "VIEW" : "TABLE"} IF EXISTS "${name}"`)
}

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

/** What the log says of one operator: its answers to proposals, the collector's verdicts, and evidence. */
export interface OperatorRecordRow {
  /** Lowercase. */
  readonly operator: string
  readonly signed: number
  /** Refusals by reason. */
  readonly refused: Readonly<Record<string, number>>
  /** The collector's verdicts on its signatures, by result (an `invalid` one is not its, and is not counted). */
  readonly verdicts: Readonly<Record<string, number>>
  /** Each pair of its signatures over two roots for one lane and count, once, where the log holds it. */
  readonly evidence: ReadonlyArray<LaneEventRow>
}

/**
 * The audit index: a SQLite file derived from the log, and nothing else. It
 * can be deleted at any time and rebuilt from offset zero; every fact in it
 * names the topic, partition and offset it came from.
 *
 * Tables (`index-writer.ts` writes them): `messages` (a view: one row per
 * observed message, with the furthest stage it reached, when it last moved,
 * and whether the proof-builder rejected every observation of it), `steps`
 * (events about one message), `lane_events` (events about a lane's
 * checkpoint, which cover every message below its count), `positions` (how
 * far each partition was indexed). A step and a lane event keep the rank of
 * the stage their event implies (0: none): the store applies ranks, the
 * lifecycle projection decides them.
 *
 * @example
 * ```ts
 * const store = AuditStore.open("/tmp/devnet/audit/index.sqlite")
 * store.message("0x12…")
 * ```
 */
export class AuditStore implements IndexSink {
  readonly db: DatabaseSync
  /** The index file (`:memory:`: none, and no other connection can reach it). */
  readonly path: string
  readonly #writer: IndexWriter
  /** The questions' statements, each prepared on first use and kept: preparing one costs more than running it. */
  readonly #statements = new Map<string, StatementSync>()

  private constructor(db: DatabaseSync, path: string) {
    this.db = db
    this.path = path
    this.#writer = new IndexWriter(db)
  }

  /** Opens (creating if needed) the index at `path`; an index of another version is emptied. */
  static open(path: string): AuditStore {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true })
    const db = connectIndex(path)
    // One transaction, so a second process opening the same old index waits and then finds it current, rather
    // than dropping the tables the first one just made.
    db.exec("BEGIN IMMEDIATE")
    try {
      db.exec(META)
      const version = readMeta(db, "version")
      // Another version's tables may have another shape, or other names: emptying them is not enough.
      if (version !== undefined && version !== String(INDEX_VERSION)) dropAllBut(db, "meta")
      db.exec(SCHEMA)
      writeMeta(db, "version", String(INDEX_VERSION))
      db.exec("COMMIT")
    } catch (error) {
      db.exec("ROLLBACK")
      db.close()
      throw error
    }
    return new AuditStore(db, path)
  }

  #sql(sql: string): StatementSync {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  meta(key: string): string | undefined {
    return this.#writer.meta(key)
  }

  setMeta(key: string, value: string): void {
    writeMeta(this.db, key, value)
  }

  /** Forgets everything: the next catch-up rebuilds the index from offset zero. */
  reset(): void {
    this.db.exec(DERIVED_TABLES.map((table) => `DELETE FROM ${table};`).join(" "))
    this.#writer.forget()
  }

  position(topic: string, partition: number): { next: number; anchor: string | null } | undefined {
    return this.#writer.position(topic, partition)
  }

  /** Runs `write` in one transaction that waits for other writers (another thread or process catching up). */
  transaction<T>(write: () => T): T {
    return this.#writer.transaction(write)
  }

  /** Applies one write of `indexEvent` (inside the caller's transaction, if any). */
  write(write: IndexWrite): void {
    this.#writer.apply(write)
  }

  /** Applies one partition's chunk with its new position, in one transaction (`IndexWriter.applyChunk`). */
  applyChunk(chunk: IndexChunk): boolean {
    return this.#writer.applyChunk(chunk)
  }

  /** The rejected observations of other messages at a lane's nonce: rivals the proof-builder refuted. */
  rivalRejections(
    lane: string,
    nonce: number,
    except: string,
  ): Array<StepRow & { readonly messageId: string }> {
    return (
      this.#sql(
        `SELECT s.* FROM messages m JOIN steps s ON s.message_seq = m.seq
           WHERE m.lane = ? AND m.nonce = ? AND m.id != ? AND s.stage = 'rejected'
           ORDER BY s.at, s.topic, s.partition, s.offset, s.rowid`,
      ).all(lane, nonce, except) as unknown as Array<RawStep & { message_id: string }>
    ).map((row) => ({
      ...toPlace(row),
      stage: row.stage,
      detail: JSON.parse(row.detail),
      messageId: row.message_id,
    }))
  }

  /** The lane's latest checkpoint proposal, in log order (undefined: none yet). */
  lastProposal(lane: string): LaneEventRow | undefined {
    const row = this.#sql(
      "SELECT * FROM lane_events WHERE lane = ? AND stage = 'proposed' ORDER BY at DESC, topic DESC, partition DESC, offset DESC LIMIT 1",
    ).get(lane) as RawLaneEvent | undefined
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

  unreadable(): Array<{ topic: string; partition: number; offset: number; error: string }> {
    return this.#sql("SELECT * FROM unreadable ORDER BY topic, partition, offset").all() as unknown as Array<{
      topic: string
      partition: number
      offset: number
      error: string
    }>
  }

  message(id: string): MessageRow | undefined {
    const row = this.#sql(
      `SELECT * FROM messages WHERE seq = (SELECT seq FROM message_keys WHERE ${KEY_OF_ID})`,
    ).get(id.toLowerCase()) as RawMessage | undefined
    return row === undefined ? undefined : toMessageRow(row)
  }

  steps(messageId: string): StepRow[] {
    return (
      // Steps of one record (a commitAndDeliver's committed and delivered) in the order they were indexed.
      (
        this.#sql(
          `SELECT * FROM steps WHERE message_seq = (SELECT seq FROM message_keys WHERE ${KEY_OF_ID})
         ORDER BY at, topic, partition, offset, rowid`,
        ).all(messageId) as unknown as RawStep[]
      ).map((row) => ({ ...toPlace(row), stage: row.stage, detail: JSON.parse(row.detail) }))
    )
  }

  /**
   * The lane events that matter for a message at `nonce`, in log time order: the checkpoints covering it
   * (count > nonce) up to the first one attested, the first root committed over it, and the lane's stalls.
   */
  laneEventsCovering(lane: string, nonce: number): LaneEventRow[] {
    // Past the first checkpoint attested over the nonce, later ones add nothing to its story but the first root
    // committed over it; reading only those keeps a message's trace as fast in a long lane as in a short one.
    const attested = this.#sql(
      "SELECT count FROM lane_events WHERE lane = ? AND stage = 'attested' AND count > ? ORDER BY count LIMIT 1",
    ).get(lane, nonce) as { count: number } | undefined
    return (
      this.#sql(
        `SELECT * FROM lane_events WHERE lane = ?1 AND count > ?2 AND count <= ?3
         UNION SELECT * FROM lane_events WHERE lane = ?1 AND stage = 'stalled'
         UNION SELECT * FROM (SELECT * FROM lane_events WHERE lane = ?1 AND stage = 'committed' AND count > ?2
           ORDER BY at, topic, partition, offset LIMIT 1)
         ORDER BY at, topic, partition, offset`,
      ).all(lane, nonce, attested?.count ?? Number.MAX_SAFE_INTEGER) as unknown as RawLaneEvent[]
    ).map((row) => ({
      ...toPlace(row),
      lane: row.lane,
      count: row.count,
      stage: row.stage,
      detail: JSON.parse(row.detail),
    }))
  }

  /**
   * Every halt and resume that took effect, in log order (a resume naming another halt, or none in force,
   * lifts nothing and is left out), each with the chain's status after it. `chainId` narrows it to one chain.
   */
  chainStatusHistory(chainId?: number): ReadonlyArray<ChainStatusRow> {
    const rows = this.#sql(
      "SELECT * FROM chain_halts ORDER BY topic, partition, offset",
    ).all() as unknown as Array<RawPlace & { chain: number; event: string }>
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

  /**
   * Every operator the log names in a signature, a refusal, a verdict or evidence, by address: what it
   * answered and how the collector judged it. Evidence is indexed under both checkpoints of a pair; each pair
   * is listed once.
   */
  operatorRecords(): ReadonlyArray<OperatorRecordRow> {
    const rows = (
      this.#sql(
        "SELECT * FROM lane_events WHERE stage IN ('signed', 'refused', 'verdict', 'evidence') ORDER BY at, topic, partition, offset",
      ).all() as unknown as RawLaneEvent[]
    ).map((row) => ({
      ...toPlace(row),
      lane: row.lane,
      count: row.count,
      stage: row.stage,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }))
    const records = new Map<
      string,
      {
        signed: number
        refused: Record<string, number>
        verdicts: Record<string, number>
        evidence: LaneEventRow[]
      }
    >()
    for (const row of rows) {
      const operator = String(row.detail.operator).toLowerCase()
      let record = records.get(operator)
      if (record === undefined) {
        record = { signed: 0, refused: {}, verdicts: {}, evidence: [] }
        records.set(operator, record)
      }
      const tally = (into: Record<string, number>, key: unknown) => {
        into[String(key)] = (into[String(key)] ?? 0) + 1
      }
      if (row.stage === "signed") record.signed += 1
      else if (row.stage === "refused") tally(record.refused, row.detail.reason)
      // An invalid signature does not recover to the operator it names: whoever published it, not the operator.
      else if (row.stage === "verdict") {
        if (row.detail.result !== "invalid") tally(record.verdicts, row.detail.result)
      } else if (row.detail.kind === "invalid-attestation") record.evidence.push(row)
      // An equivocation is indexed under both its checkpoints: it is counted once, under the lower root.
      else if (String(row.detail.root) < String(row.detail.otherRoot)) record.evidence.push(row)
    }
    return [...records].map(([operator, record]) => ({ operator, ...record }))
  }

  /**
   * The operator set of a destination the collector counted against: the last read of that epoch, or of any
   * epoch when none is given (undefined: the collector recorded none).
   */
  operatorSet(dstChainId: number, epoch?: number): OperatorSetRow | undefined {
    const row = (
      epoch === undefined
        ? this.#sql("SELECT * FROM operator_sets WHERE dst = ? ORDER BY at DESC, offset DESC LIMIT 1").get(
            dstChainId,
          )
        : this.#sql(
            "SELECT * FROM operator_sets WHERE dst = ? AND epoch = ? ORDER BY at DESC, offset DESC LIMIT 1",
          ).get(dstChainId, epoch)
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
    const one = (sql: string) => (this.#sql(sql).get() as { n: number }).n
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
