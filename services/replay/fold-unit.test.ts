// A replay thread checks records without the process's memo (`checkBy`); it must answer as the decode edge
// every reader uses (`decodeAuthenticated`) answers on a bus holding records to the same policy: a record
// signed by its producer, unsigned, altered, signed by a key no grant lists, on a topic its producer does not
// write, stating another chain's fact, or no event at all.
import { describe, expect, it } from "vitest"
import {
  type LocalRecordSigner,
  type ProducerGrant,
  producerPolicy,
  signerFromSeed,
} from "../../bus/authentication/index.ts"
import { decodeAuthenticated } from "../../bus/events/decode-authenticated.ts"
import type { BusPort, BusRecord } from "../../bus/port.ts"
import {
  BlockRef,
  Bytes32,
  ChainId,
  encodeEnvelope,
  makeEnvelope,
  WatcherCursor,
} from "../../schemas/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { producerOf } from "../runtime/index.ts"
import { type CheckedRecord, checkBy } from "./fold-unit.ts"

const seed = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as const
const watcher901 = signerFromSeed(seed(1))
const stranger = signerFromSeed(seed(2))
const grants: ReadonlyArray<ProducerGrant> = [
  {
    service: "chain-watcher",
    instance: "901",
    publicKey: watcher901.publicKey,
    topics: new Set([TOPICS.watcherCursors.name]),
  },
]
const policy = producerPolicy(grants, [])

const cursor = (chainId: number, n: number) =>
  makeEnvelope(
    new WatcherCursor({
      chainId: ChainId.make(chainId),
      block: new BlockRef({ number: n, hash: Bytes32.make(seed(100 + n)) }),
    }),
    {
      producer: producerOf("chain-watcher", String(chainId)),
      causationId: null,
      time: new Date(1_700_000_000_000),
    },
  )

let offset = 0
const record = (
  value: Uint8Array,
  key: string | null,
  headers: Record<string, string>,
  topic: string = TOPICS.watcherCursors.name,
): BusRecord => ({ topic, partition: 0, offset: offset++, timestamp: 1_700_000_000_000, key, value, headers })

const signed = (
  chainId: number,
  n: number,
  signer: LocalRecordSigner,
  topic: string = TOPICS.watcherCursors.name,
) => {
  const { key, value, headers } = encodeEnvelope(cursor(chainId, n))
  return record(value, key, { ...headers, ...signer.sign(topic, key, value) }, topic)
}

const answer = (checked: CheckedRecord) =>
  checked.ok ? { ok: true, id: checked.value.id } : { ok: false, error: checked.error.message }

describe("checking a record in a replay thread", () => {
  const good = signed(901, 1, watcher901)
  const plain = encodeEnvelope(cursor(901, 2))
  const altered = { ...signed(901, 3, watcher901), value: encodeEnvelope(cursor(901, 4)).value }
  const garbageValue = new TextEncoder().encode("not an event")
  const records: Array<[string, BusRecord]> = [
    ["signed by its producer", good],
    ["unsigned", record(plain.value, plain.key, plain.headers)],
    ["altered after signing", altered],
    ["signed by a key no grant lists", signed(901, 5, stranger)],
    ["on a topic its producer does not write", signed(901, 6, watcher901, TOPICS.watcherReads.name)],
    ["stating another chain's fact", signed(902, 7, watcher901)],
    ["no event", record(garbageValue, "k", watcher901.sign(TOPICS.watcherCursors.name, "k", garbageValue))],
  ]

  it("given each record, when checked by the policy, then it answers as the decode edge of an authenticating bus", () => {
    const edge = { authenticate: policy.authenticate } as unknown as BusPort
    const check = checkBy(policy)
    for (const [what, r] of records)
      expect(answer(check(r)), what).toEqual(answer(decodeAuthenticated(edge, r)))
    expect(check(good).ok).toBe(true)
    expect(records.slice(1).every(([, r]) => !check(r).ok)).toBe(true)
  })

  it("given no policy, when checked, then it answers as the decode edge of a bus that takes every record", () => {
    const check = checkBy(undefined)
    for (const [what, r] of records)
      expect(answer(check(r)), what).toEqual(answer(decodeAuthenticated({} as BusPort, r)))
    expect(check(records[1]![1]).ok).toBe(true)
  })
})
