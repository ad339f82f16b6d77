/**
 * What authenticated records cost (issue 11): `npm run bench:authentication` (`-- --records 20000`).
 * Ends with one JSON line of figures.
 *
 * Side by side, in one run, on the same envelopes (a `MessageObserved` each, as the watcher writes them):
 * - signing and checking one record: Ed25519 (what the bus uses) against secp256k1 ECDSA through the same
 *   native crypto (what the operators' chain keys would have cost), so the choice can be re-checked;
 * - publishing the records on a fresh embedded log and reading them back decoded, plain and authenticated
 *   (every record signed on the way out, held to the producer policy on the way in).
 */
import { createPrivateKey, generateKeyPairSync, sign, verify } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { authenticatedBus, producerPolicy, signerFromSeed } from "../bus/authentication/index.ts"
import { DEAD_LETTER_TOPIC } from "../bus/dead-letter.ts"
import { openEmbeddedBus } from "../bus/embedded/index.ts"
import { publishEvents, readEvents } from "../bus/events/index.ts"
import type { BusPort } from "../bus/port.ts"
import {
  Address,
  BlockRef,
  Bytes32,
  ChainId,
  type Envelope,
  encodeEnvelope,
  Hex,
  Message,
  MessageId,
  MessageObserved,
  makeEnvelope,
  TxHash,
  U256,
} from "../schemas/index.ts"
import { producerOf } from "../services/runtime/producer.ts"
import { ALL_TOPICS, TOPICS } from "../topology/index.ts"
import { announce } from "./announce.ts"

const { values } = parseArgs({ options: { records: { type: "string", default: "20000" } } })
announce(
  "bench:authentication",
  "signs and checks records: Ed25519 against secp256k1, plain against authenticated",
  "about 30 seconds",
)
const records = Number(values.records)
if (!Number.isSafeInteger(records) || records < 1)
  throw new Error(`--records: ${values.records} is not a count`)

const hex32 = (n: number) => `0x${n.toString(16).padStart(64, "0")}`
const watcher = producerOf("chain-watcher", "901")
const envelopes: Envelope[] = Array.from({ length: records }, (_, i) =>
  makeEnvelope(
    new MessageObserved({
      message: new Message({
        version: 1,
        srcChainId: ChainId.make(901),
        dstChainId: ChainId.make(902 + (i % 2)),
        nonce: i,
        sender: Address.make(`0x${"a1".repeat(20)}`),
        recipient: Address.make(`0x${"b2".repeat(20)}`),
        gasLimit: U256.make("200000"),
        body: Hex.make(`0x${(i % 256).toString(16).padStart(2, "0").repeat(32)}`),
      }),
      messageId: MessageId.make(hex32(i)),
      outbox: Address.make(`0x${"0a".repeat(20)}`),
      block: new BlockRef({ number: 100 + i, hash: Bytes32.make(hex32(i + 1)) }),
      blockTimestamp: 1_700_000_000 + i,
      transactionHash: TxHash.make(hex32(i + 2)),
      logIndex: 0,
    }),
    { producer: watcher, causationId: null, time: new Date(1_700_000_000_000 + i) },
  ),
)
const topic = TOPICS.messagesObserved.name
const encoded = envelopes.map(encodeEnvelope)
const meanBytes = Math.round(encoded.reduce((n, r) => n + r.value.length, 0) / records)

const perSecond = (count: number, ms: number) => Math.round((count / ms) * 1000)
const timed = <T>(run: () => T): { ms: number; result: T } => {
  const started = performance.now()
  const result = run()
  return { ms: performance.now() - started, result }
}

// 1. One record: Ed25519 as the bus signs, against secp256k1 ECDSA through the same native crypto.
const signer = signerFromSeed(hex32(7) as `0x${string}`)
const policy = producerPolicy(
  [{ service: "chain-watcher", instance: null, publicKey: signer.publicKey, topics: new Set([topic]) }],
  [DEAD_LETTER_TOPIC],
)
const signedRecords = encoded.map((r) => ({
  topic,
  ...r,
  headers: { ...r.headers, ...signer.sign(topic, r.key, r.value) },
}))
const ed25519Sign = timed(() => {
  for (const r of encoded) signer.sign(topic, r.key, r.value)
})
const ed25519Check = timed(() => signedRecords.filter((r) => policy.authenticate(r).ok).length)
if (ed25519Check.result !== records) throw new Error("a record the bench signed did not authenticate")
const secp = generateKeyPairSync("ec", { namedCurve: "secp256k1" })
const secpKey = createPrivateKey(secp.privateKey.export({ format: "pem", type: "pkcs8" }))
const secpSignatures: Buffer[] = []
const secpSign = timed(() => {
  for (const r of encoded) secpSignatures.push(sign("sha256", r.value, secpKey))
})
const secpVerify = timed(
  () => encoded.filter((r, i) => verify("sha256", r.value, secp.publicKey, secpSignatures[i]!)).length,
)

// 2. Publish and read back decoded on a fresh embedded log, plain and authenticated.
const roundTrip = async (wrap: (bus: BusPort) => { writer: BusPort; reader: BusPort }) => {
  const dir = mkdtempSync(join(tmpdir(), "chorus-bench-auth-"))
  const bus = await openEmbeddedBus({ dataDir: dir, logger: { warn: () => {}, error: () => {} } })
  try {
    await bus.ensureTopics(ALL_TOPICS)
    const { writer, reader } = wrap(bus)
    const publishStarted = performance.now()
    for (let i = 0; i < records; i += 500) await publishEvents(writer, envelopes.slice(i, i + 500))
    const publishMs = performance.now() - publishStarted
    const readStarted = performance.now()
    let decoded = 0
    for await (const read of readEvents(reader, { topic, from: "earliest" })) if (read.ok) decoded++
    const readMs = performance.now() - readStarted
    if (decoded !== records) throw new Error(`read back ${decoded} of ${records} records`)
    return { publishPerSecond: perSecond(records, publishMs), readPerSecond: perSecond(records, readMs) }
  } finally {
    await bus.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
const plain = await roundTrip((bus) => ({ writer: bus, reader: bus }))
const authenticated = await roundTrip((bus) => ({
  writer: authenticatedBus(bus, { signer }),
  reader: authenticatedBus(bus, { policy }),
}))

const figures = {
  records,
  meanValueBytes: meanBytes,
  ed25519: {
    signPerSecond: perSecond(records, ed25519Sign.ms),
    checkPerSecond: perSecond(records, ed25519Check.ms),
  },
  secp256k1: {
    signPerSecond: perSecond(records, secpSign.ms),
    verifyPerSecond: perSecond(records, secpVerify.ms),
  },
  embedded: { plain, authenticated },
  ratios: {
    publish: Number((authenticated.publishPerSecond / plain.publishPerSecond).toFixed(2)),
    read: Number((authenticated.readPerSecond / plain.readPerSecond).toFixed(2)),
  },
}
console.log(`records ${records} (MessageObserved, ${meanBytes} B each)`)
console.log(
  `one record     Ed25519 sign ${figures.ed25519.signPerSecond}/s, check (signature + policy) ${figures.ed25519.checkPerSecond}/s; secp256k1 ECDSA sign ${figures.secp256k1.signPerSecond}/s, verify ${figures.secp256k1.verifyPerSecond}/s`,
)
console.log(
  `embedded log   plain: publish ${plain.publishPerSecond}/s, read ${plain.readPerSecond}/s; authenticated: publish ${authenticated.publishPerSecond}/s, read ${authenticated.readPerSecond}/s`,
)
console.log(JSON.stringify(figures))
