/**
 * Garbage records for a chaos run's bus: what a stranger with write access
 * to the topics, a broken client or a confused producer would write. One
 * burst is `records` records spread over every topic the services read,
 * of these kinds (per 100: 20, 15, 1, 15, 15, 12, 15, 7):
 *
 * - `random-bytes`: bytes that are no record at all, under random keys;
 * - `truncated-json`: a real record's value cut short, its headers kept;
 * - `oversized-json`: a record-shaped JSON of 0.2 to 0.9 MB;
 * - `unsigned`: a real record without its signature headers;
 * - `bad-signature`: a real record with one byte of its value changed, or
 *   a signature that is not its own;
 * - `unknown-signer`: a real record signed again by a key nobody lists;
 * - `wrong-producer`: a real record signed again by a real producer that may
 *   not write it (another service, or another instance of its own);
 * - `misplaced`: a real signed record copied to another partition.
 *
 * The "real" records are the newest of each topic when the burst is made;
 * a topic with none yet gets random bytes instead. None of these may be
 * taken by a service: every one is unsigned, wrongly signed or misplaced.
 *
 * @module
 */
import { type RecordSigner, SIGNATURE_HEADERS, signerFromSeed } from "../../bus/authentication/index.ts"
import type { BusPort, BusRecord, OutgoingRecord } from "../../bus/port.ts"
import type { BusIdentities } from "../../services/bus-identities.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import type { Random } from "./random.ts"

export const GARBAGE_KINDS = {
  "random-bytes": 20,
  "truncated-json": 15,
  "oversized-json": 1,
  unsigned: 15,
  "bad-signature": 15,
  "unknown-signer": 12,
  "wrong-producer": 15,
  misplaced: 7,
} as const

export type GarbageKind = keyof typeof GARBAGE_KINDS

/** What one burst wrote. */
export interface GarbageBurst {
  readonly records: number
  readonly byKind: Readonly<Record<string, number>>
  readonly byTopic: Readonly<Record<string, number>>
  /** Records the bus refused to take (e.g. the broker was down), with the first error. */
  readonly failed: number
  readonly error: string | null
}

/** The topics garbage goes to: every topic but the dead letters. */
const TARGETS = ALL_TOPICS.filter((t) => t.name !== TOPICS.deadLetters.name).map((t) => t.name)
/** Topics a broker compacts: Kafka refuses a record without a key there, so their garbage always has one. */
const COMPACTED = new Set(ALL_TOPICS.filter((t) => t.cleanupPolicy === "compact").map((t) => t.name))

const newestRecords = async (bus: BusPort, topic: string, perPartition: number): Promise<BusRecord[]> => {
  const records: BusRecord[] = []
  for (const mark of await bus.watermarks(topic)) {
    if (mark.high <= mark.low) continue
    for await (const record of bus.read({
      topic,
      partitions: [mark.partition],
      from: { offset: Math.max(mark.low, mark.high - perPartition) },
      to: { offset: mark.high },
    })) {
      records.push(record)
    }
  }
  return records
}

const bytes = (random: Random, length: number) => Uint8Array.from({ length }, () => random.int(0, 255))

const withoutSignature = (headers: BusRecord["headers"]) => {
  const { [SIGNATURE_HEADERS.signer]: _signer, [SIGNATURE_HEADERS.signature]: _signature, ...rest } = headers
  return rest
}

/**
 * Makes and publishes one burst, each record on its own so one the bus refuses costs only itself.
 *
 * @example
 * ```ts
 * const burst = await publishGarbage(bus, identities, randomFor(seed, "garbage-0"), 100)
 * ```
 */
export const publishGarbage = async (
  bus: BusPort,
  identities: BusIdentities,
  random: Random,
  records: number,
): Promise<GarbageBurst> => {
  const samples = new Map<string, BusRecord[]>()
  for (const topic of TARGETS) samples.set(topic, await newestRecords(bus, topic, 3))
  const partitions = new Map<string, number>()
  for (const topic of TARGETS) partitions.set(topic, await bus.partitions(topic))
  const signers = identities.grants.map((grant) => ({
    grant,
    signer: identities.signerFor(grant.service, grant.instance ?? grant.service),
  }))
  const kinds = Object.entries(GARBAGE_KINDS).flatMap(([kind, share]) =>
    Array.from({ length: Math.round((share * records) / 100) }, () => kind as GarbageKind),
  )
  const byKind: Record<string, number> = {}
  const byTopic: Record<string, number> = {}
  let failed = 0
  let error: string | null = null

  const make = (kind: GarbageKind): { kind: GarbageKind; record: OutgoingRecord } => {
    const topic = random.pick(TARGETS)
    const sampled = samples.get(topic)!
    const anySample = [...samples.values()].flat()
    const real =
      sampled.length > 0 ? random.pick(sampled) : anySample.length > 0 ? random.pick(anySample) : undefined
    if (kind === "random-bytes" || real === undefined) {
      const keys = [`${random.int(900, 905)}-${random.int(900, 905)}`, bytes(random, 8).join("")]
      const key = random.pick(COMPACTED.has(topic) ? keys : [null, ...keys])
      return { kind: "random-bytes", record: { topic, key, value: bytes(random, random.int(1, 4_096)) } }
    }
    const { topic: home, key, value, headers } = real
    /** The real record with other headers (or another value), on its own topic. */
    const copy = (changed: {
      headers?: OutgoingRecord["headers"]
      value?: Uint8Array
      partition?: number
    }) => ({
      kind,
      record: { topic: home, key, value, headers, ...changed },
    })
    /** The real record signed again by `signer`. */
    const resigned = (signer: RecordSigner) => {
      const signature = signer.sign(home, key, value)
      // The devnet's producers hold their keys here; a remote signer's answer would not be this record's garbage.
      if (signature instanceof Promise) throw new Error("chaos re-signs records with keys held here only")
      return copy({ headers: { ...withoutSignature(headers), ...signature } })
    }
    switch (kind) {
      case "truncated-json":
        return copy({ value: value.slice(0, random.int(1, value.length - 1)) })
      case "oversized-json": {
        const padding = "x".repeat(random.int(200_000, 900_000))
        const text = `${new TextDecoder().decode(value).slice(0, -1)},"padding":"${padding}"}`
        return copy({ value: new TextEncoder().encode(text), headers: withoutSignature(headers) })
      }
      case "unsigned":
        return copy({ headers: withoutSignature(headers) })
      case "bad-signature": {
        if (random.next() < 0.5) {
          const changed = Uint8Array.from(value)
          const at = random.int(0, changed.length - 1)
          changed[at] = changed[at] === 0x30 ? 0x31 : 0x30
          return copy({ value: changed })
        }
        const other = random.pick(anySample)
        const signature = other.headers[SIGNATURE_HEADERS.signature] ?? `0x${"ab".repeat(64)}`
        return copy({ headers: { ...headers, [SIGNATURE_HEADERS.signature]: signature } })
      }
      case "unknown-signer":
        return resigned(signerFromSeed(`0x${Buffer.from(bytes(random, 32)).toString("hex")}`))
      case "wrong-producer": {
        const own = headers[SIGNATURE_HEADERS.signer]
        const others = signers.filter((s) => s.signer !== undefined && s.grant.publicKey !== own)
        return resigned(random.pick(others).signer!)
      }
      case "misplaced": {
        const count = partitions.get(home) ?? 1
        if (count < 2) return make("bad-signature")
        return copy({ partition: (real.partition + random.int(1, count - 1)) % count })
      }
    }
  }

  for (const kind of random.shuffle(kinds)) {
    const { kind: made, record } = make(kind)
    try {
      await bus.publish([record])
      byKind[made] = (byKind[made] ?? 0) + 1
      byTopic[record.topic] = (byTopic[record.topic] ?? 0) + 1
    } catch (cause) {
      failed += 1
      error ??= (cause as Error).message.split("\n")[0]!
    }
  }
  return { records: kinds.length - failed, byKind, byTopic, failed, error }
}
