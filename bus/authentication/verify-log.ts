/**
 * A whole log checked against the producer policy: every record of every
 * topic, in offset order, is signed by a key the deployment lists, on a topic
 * that key's service writes, under the producer it claims, and, for a key
 * bound to one instance, about that instance. What fails is
 * reported by position, so a log is tamper-evident: a record written by
 * anyone else, altered after it was written, or moved from another topic
 * shows up here even if no consumer ever read it.
 *
 * Unsigned records (a log older than authentication, or a writer that never
 * signed) are reported as contiguous offset ranges, since an old log holds
 * them by the million; every other failure is an attack or a broken
 * producer and is listed one by one, up to `limit`.
 *
 * @module
 */
import { decodeRecord } from "../../schemas/index.ts"
import type { BusPort, BusRecord } from "../port.ts"
import { ownerMismatch } from "./owner-check.ts"
import {
  AUTHENTICATION_FAILURES,
  type AuthenticationFailure,
  type AuthenticationResult,
  type ProducerGrant,
  type ProducerPolicy,
  withPlacement,
} from "./producer-policy.ts"

/** One record that does not stand, where it is and why. */
export interface LogFinding {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly reason: AuthenticationFailure["reason"]
  readonly detail: string
}

/** Unsigned records of one partition, as a half-open offset range. */
export interface UnsignedRange {
  readonly topic: string
  readonly partition: number
  readonly from: number
  /** Exclusive. */
  readonly to: number
}

export interface TopicTally {
  readonly topic: string
  readonly records: number
  readonly authenticated: number
  readonly failures: Readonly<Record<AuthenticationFailure["reason"], number>>
}

export interface LogVerification {
  readonly topics: ReadonlyArray<TopicTally>
  /** Records that failed for any reason but `unsigned`, in log order, up to the limit. */
  readonly findings: ReadonlyArray<LogFinding>
  /** How many findings were left out past the limit. */
  readonly findingsLeftOut: number
  readonly unsigned: ReadonlyArray<UnsignedRange>
  /** Topics the log does not have. */
  readonly missing: ReadonlyArray<string>
  /** True when every record of every topic stands. */
  readonly clean: boolean
}

/** A signed record bound to one instance must be about that instance (`owner-check.ts`). */
const ownerOf = (record: BusRecord, grant: ProducerGrant): AuthenticationResult => {
  if (grant.instance === null) return { ok: true, grant }
  const decoded = decodeRecord(record)
  // A signed record that does not decode is its producer's fault, and its consumers' dead letter; the
  // signature stands.
  if (!decoded.ok) return { ok: true, grant }
  const mismatch = ownerMismatch(decoded.value, grant)
  return mismatch === undefined ? { ok: true, grant } : { ok: false, ...mismatch }
}

const zeroFailures = () =>
  Object.fromEntries(AUTHENTICATION_FAILURES.map((reason) => [reason, 0])) as Record<
    AuthenticationFailure["reason"],
    number
  >

/**
 * Reads every record of `topics` on `bus` and holds each to `policy`.
 *
 * @example
 * ```ts
 * const report = await verifyLog(bus, policy, ALL_TOPICS.map((t) => t.name))
 * if (!report.clean) console.log(report.findings)
 * ```
 */
export const verifyLog = async (
  bus: BusPort,
  policy: ProducerPolicy,
  topics: ReadonlyArray<string>,
  options: { readonly limit?: number } = {},
): Promise<LogVerification> => {
  const limit = options.limit ?? 1_000
  const tallies: TopicTally[] = []
  const findings: LogFinding[] = []
  let findingsLeftOut = 0
  const unsigned: UnsignedRange[] = []
  const missing: string[] = []
  for (const topic of topics) {
    let count: number
    try {
      count = await bus.partitions(topic)
    } catch {
      missing.push(topic)
      continue
    }
    const placed = withPlacement(policy, new Map([[topic, count]]))
    const failures = zeroFailures()
    let records = 0
    let authenticated = 0
    let open: { partition: number; from: number; to: number } | undefined
    const close = () => {
      if (open !== undefined) unsigned.push({ topic, ...open })
      open = undefined
    }
    for await (const record of bus.read({ topic, from: "earliest" })) {
      records++
      const signed = placed.authenticate(record)
      const result = signed.ok ? ownerOf(record, signed.grant) : signed
      if (result.ok) {
        authenticated++
        continue
      }
      failures[result.reason]++
      if (result.reason === "unsigned") {
        if (open !== undefined && open.partition === record.partition && open.to === record.offset) {
          open.to = record.offset + 1
        } else {
          close()
          open = { partition: record.partition, from: record.offset, to: record.offset + 1 }
        }
        continue
      }
      if (findings.length < limit) {
        findings.push({
          topic,
          partition: record.partition,
          offset: record.offset,
          reason: result.reason,
          detail: result.detail,
        })
      } else findingsLeftOut++
    }
    close()
    tallies.push({ topic, records, authenticated, failures })
  }
  return {
    topics: tallies,
    findings,
    findingsLeftOut,
    unsigned,
    missing,
    clean: tallies.every((t) => t.authenticated === t.records),
  }
}
