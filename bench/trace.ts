/**
 * How fast the incident tools answer on a big log: `npm run bench:trace`
 * (`-- --messages 100000` by default; add `--json` for a machine-readable last line).
 *
 * It writes a synthetic relay log to a fresh embedded bus — per lane, per
 * checkpoint of 10 messages: 10 observations, a proposal, a range proof, 3
 * signatures with their verdicts, the attestation, a submitted and a
 * confirmed `commitAndDeliver` — then measures:
 * - the cold build of the audit index from offset zero (records/s);
 * - a question as `chorus trace` asks it: open the index, catch it up to the
 *   log (nothing new), trace one random message; p50/p99 over 50 ids;
 * - the same for `chorus messages --status stuck` (a full-table filter).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { keccak256, toHex } from "viem"
import { openEmbeddedBus } from "../bus/embedded/index.ts"
import { publishEvents } from "../bus/events/index.ts"
import { percentile } from "../cli/devnet/tracker.ts"
import {
  Address,
  AttestationSigned,
  BlockRef,
  Bytes32,
  ChainId,
  Checkpoint,
  CheckpointAttested,
  CheckpointProposed,
  DeliveryConfirmed,
  DeliverySubmitted,
  type Envelope,
  Hex,
  Lane,
  MessageId,
  MessageObserved,
  MessageOutcome,
  MessageProven,
  makeEnvelope,
  SignatureVerdict,
  TxHash,
  U256,
} from "../schemas/index.ts"
import { AuditStore, catchUp, listMessages, traceMessage } from "../services/auditor/index.ts"
import { producerOf } from "../services/runtime/index.ts"
import { testMessage } from "../test/fixtures/message.ts"
import { ALL_TOPICS } from "../topology/index.ts"

const { values } = parseArgs({ options: { messages: { type: "string" }, json: { type: "boolean" } } })
const MESSAGES = Number(values.messages ?? 100_000)
const PER_CHECKPOINT = 10
const LANES = [
  [901, 902],
  [901, 903],
  [902, 901],
  [902, 903],
  [903, 901],
  [903, 902],
] as const
const OUTBOX = Address.make("0x5fbdb2315678afecb367f032d93f642f64180aa3")
const OPERATORS = ["0x1", "0x2", "0x3"].map((n) => Address.make(`0x${n.slice(2).padStart(40, "0")}`))
const word = (seed: string) => keccak256(toHex(seed))

const dir = mkdtempSync(join(tmpdir(), "chorus-bench-trace-"))
const bus = await openEmbeddedBus({ dataDir: join(dir, "log"), serve: false })
await bus.ensureTopics(ALL_TOPICS)

const ids: string[] = []
const t0 = Date.now()
let written = 0
const perLane = Math.ceil(MESSAGES / LANES.length)
for (const [src, dst] of LANES) {
  const lane = new Lane({ srcChainId: ChainId.make(src), outbox: OUTBOX, dstChainId: ChainId.make(dst) })
  for (let start = 0; start < perLane; start += PER_CHECKPOINT) {
    const batch: Envelope[] = []
    const at = new Date(t0 + start * 100)
    const envelope = (
      event: Parameters<typeof makeEnvelope>[0],
      service: "chain-watcher" | "proof-builder" | "operator" | "attestation-collector" | "submitter",
      cause: string | null,
    ) =>
      makeEnvelope(event, {
        producer: producerOf(service, String(src)),
        causationId: cause as never,
        time: at,
      })
    const messageIds: MessageId[] = []
    const messages = []
    let lastObserved = ""
    for (let nonce = start; nonce < Math.min(start + PER_CHECKPOINT, perLane); nonce++) {
      const message = testMessage({
        nonce,
        srcChainId: src,
        dstChainId: dst,
        body: `bench ${src}-${dst} #${nonce}`,
      })
      const id = MessageId.make(word(`${src}-${dst}-${nonce}`))
      messageIds.push(id)
      messages.push(message)
      ids.push(id)
      const observed = envelope(
        new MessageObserved({
          message,
          messageId: id,
          outbox: OUTBOX,
          block: new BlockRef({ number: nonce + 1, hash: Bytes32.make(word(`block ${src} ${nonce}`)) }),
          blockTimestamp: 1_700_000_000 + nonce,
          transactionHash: TxHash.make(word(`tx ${src} ${nonce}`)),
          logIndex: 0,
        }),
        "chain-watcher",
        null,
      )
      lastObserved = observed.id
      batch.push(observed)
    }
    const count = start + messageIds.length
    const checkpoint = new Checkpoint({
      srcChainId: ChainId.make(src),
      outbox: OUTBOX,
      dstChainId: ChainId.make(dst),
      root: Bytes32.make(word(`root ${src} ${dst} ${count}`)),
      count,
    })
    const proposed = envelope(
      new CheckpointProposed({
        checkpoint,
        previousCount: start,
        block: new BlockRef({ number: count, hash: Bytes32.make(word(`b${count}`)) }),
      }),
      "proof-builder",
      lastObserved,
    )
    batch.push(proposed)
    batch.push(
      envelope(
        new MessageProven({
          checkpoint,
          kind: "range",
          start,
          messages,
          messageIds,
          proof: [Bytes32.make(word("sibling"))],
        }),
        "proof-builder",
        lastObserved,
      ),
    )
    const digest = Bytes32.make(word(`digest ${count}`))
    for (const operator of OPERATORS) {
      const signature = Hex.make(`0x${"11".repeat(65)}`)
      const signed = envelope(
        new AttestationSigned({ checkpoint, digest, operator, signature }),
        "operator",
        proposed.id,
      )
      batch.push(signed)
      batch.push(
        envelope(
          new SignatureVerdict({
            checkpoint,
            digest,
            operator,
            signer: operator,
            signature,
            result: "accepted",
            weight: U256.make("3000"),
            epoch: 1,
            reason: "member of the set",
          }),
          "attestation-collector",
          signed.id,
        ),
      )
    }
    batch.push(
      envelope(
        new CheckpointAttested({
          checkpoint,
          digest,
          epoch: 1,
          signatures: [],
          signedStake: U256.make("9000"),
          totalStake: U256.make("10000"),
          thresholdBps: 6667,
        }),
        "attestation-collector",
        proposed.id,
      ),
    )
    const tx = TxHash.make(word(`delivery ${src} ${dst} ${count}`))
    batch.push(
      envelope(
        new DeliverySubmitted({
          lane,
          action: "commitAndDeliver",
          messageIds,
          transactionHash: tx,
          nonce: count,
          maxFeePerGas: U256.make("1"),
          gasLimit: U256.make("1"),
          replaces: null,
        }),
        "submitter",
        null,
      ),
    )
    batch.push(
      envelope(
        new DeliveryConfirmed({
          lane,
          action: "commitAndDeliver",
          transactionHash: tx,
          block: new BlockRef({ number: count, hash: Bytes32.make(word(`d${count}`)) }),
          gasUsed: U256.make("1"),
          outcomes: messageIds.map(
            (messageId) => new MessageOutcome({ messageId, result: "delivered", reason: null }),
          ),
        }),
        "submitter",
        null,
      ),
    )
    await publishEvents(bus, batch)
    written += batch.length
  }
}
const writeMs = Date.now() - t0

const indexPath = join(dir, "audit", "index.sqlite")
const buildStarted = Date.now()
const store = AuditStore.open(indexPath)
const built = await catchUp(bus, store)
store.close()
const buildMs = Date.now() - buildStarted

const timed = async (question: (store: AuditStore) => unknown): Promise<number> => {
  const started = performance.now()
  const opened = AuditStore.open(indexPath)
  await catchUp(bus, opened)
  question(opened)
  opened.close()
  return performance.now() - started
}
const traceMs: number[] = []
for (let i = 0; i < 50; i++) {
  const id = ids[Math.floor(Math.random() * ids.length)]!
  traceMs.push(
    await timed((s) => {
      const trace = traceMessage(s, id, { now: Date.now(), stuckAfterMs: 120_000 })
      if (trace?.status !== "delivered") throw new Error(`bench: ${id} is not delivered in the index`)
    }),
  )
}
const listMs: number[] = []
for (let i = 0; i < 10; i++)
  listMs.push(
    await timed((s) =>
      listMessages(s, { status: "stuck", now: Date.now(), stuckAfterMs: 120_000, limit: 100 }),
    ),
  )

await bus.close()
rmSync(dir, { recursive: true, force: true })

const round = (n: number | null) => (n === null ? null : Math.round(n))
const result = {
  messages: ids.length,
  records: written,
  writeMs,
  indexBuildMs: buildMs,
  indexedRecordsPerSecond: Math.round((built.records / buildMs) * 1000),
  traceP50Ms: round(percentile(traceMs, 0.5)),
  traceP99Ms: round(percentile(traceMs, 0.99)),
  stuckListP50Ms: round(percentile(listMs, 0.5)),
}
console.log(`log: ${result.messages} messages, ${result.records} records (written in ${writeMs} ms)`)
console.log(`audit index cold build: ${buildMs} ms (${result.indexedRecordsPerSecond} records/s)`)
console.log(
  `trace (open index + catch up + answer), 50 random ids: p50 ${result.traceP50Ms} ms, p99 ${result.traceP99Ms} ms`,
)
console.log(`messages --status stuck, 10 runs: p50 ${result.stuckListP50Ms} ms`)
if (values.json === true) console.log(JSON.stringify(result))
