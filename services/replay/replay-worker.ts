/**
 * A replay worker thread (`ReplayWorkers` starts them): it checks and
 * decodes raw records, folds units (`fold-unit.ts`) and sends back the
 * encoded shadow records. It never touches the bus: the replaying thread
 * reads the log and writes the shadows.
 *
 * It builds its cores and its producer policy from the config the pool was
 * started with, as the replaying thread does (`replayTargets`,
 * `busIdentitiesOf`), so a unit folded here gives the bytes it gives there.
 *
 * Protocol (`ToWorker`, `FromWorker` in `workers.ts`), in order per thread:
 * `check` (answered by `checked`); `reads` (an instance's recorded reads,
 * already checked, kept until `forget`); `unit`, then its `records`, then
 * `fold` (answered by `outputs`… then `done`, or `failed`).
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads"
import { VerifiedSignatures } from "../../bus/authentication/verified-signatures.ts"
import type { BusRecord } from "../../bus/port.ts"
import { decodeRecord, type Envelope } from "../../schemas/index.ts"
import { decodeConfig } from "../config/index.ts"
import { busIdentitiesOf } from "../registry.ts"
import { producerOf } from "../runtime/index.ts"
import {
  type CheckedInput,
  checkBy,
  type EncodedOutput,
  foldUnit,
  readsByCause,
  type UnitRange,
  unitInputs,
} from "./fold-unit.ts"
import { type ReplayTarget, replayTargets } from "./targets.ts"
import type { CheckAnswer, FromWorker, ToWorker, WorkerData } from "./workers.ts"

const port = parentPort!
const data = workerData as WorkerData
const config = decodeConfig(data.config)
const policy = data.authenticate ? busIdentitiesOf(config).policy : undefined
if (data.authenticate && policy === undefined) {
  throw new Error("replay worker: the config turns authentication off, but the bus it replays authenticates")
}
/** Signatures verified before, from the main thread's table; those verified here go back to it. */
const verifiedBefore =
  data.verified === undefined
    ? undefined
    : VerifiedSignatures.over(data.verified.table, Buffer.from(data.verified.key))
const verifiedNow: Uint8Array[] = []
let remembered = 0
const check = checkBy(
  policy,
  verifiedBefore === undefined
    ? undefined
    : {
        digestOf: (signer, signature, signed) => verifiedBefore.digestOf(signer, signature, signed),
        has: (digest) => {
          const found = verifiedBefore.has(digest)
          if (found) remembered++
          return found
        },
        remember: (digest) => {
          verifiedNow.push(Uint8Array.from(digest))
        },
      },
)
/** The digests verified since the last answer, packed, and the count taken from the table. */
const takeVerified = () => {
  const packed = new Uint8Array(verifiedNow.length * 16)
  verifiedNow.forEach((digest, i) => {
    packed.set(digest, i * 16)
  })
  verifiedNow.length = 0
  const taken = remembered
  remembered = 0
  return { verified: packed, remembered: taken }
}

const targets = new Map<string, Promise<ReadonlyArray<ReplayTarget>>>()
const targetOf = async (service: string, instance: string): Promise<ReplayTarget> => {
  let all = targets.get(service)
  if (all === undefined) {
    all = replayTargets(service, config)
    targets.set(service, all)
  }
  const target = (await all).find((t) => t.instance === instance)
  if (target === undefined)
    throw new Error(`replay worker: ${service} has no instance ${instance} in the config`)
  return target
}

/** Recorded reads by key, as they were sent (decoded here once, when first folded with). */
const readsRecords = new Map<string, ReadonlyArray<BusRecord>>()
const readsDecoded = new Map<string, Map<string, Envelope[]>>()
const readsOf = (key: string | null): Map<string, Envelope[]> => {
  if (key === null) return new Map()
  let decoded = readsDecoded.get(key)
  if (decoded === undefined) {
    const records = readsRecords.get(key)
    if (records === undefined) throw new Error(`replay worker: no reads were sent under ${key}`)
    const envelopes: Envelope[] = []
    for (const record of records) {
      // Checked already (`check`): these are the records that passed, so only the codec runs again.
      const result = decodeRecord(record)
      if (!result.ok)
        throw new Error(`replay worker: a checked read no longer decodes (${result.error.message})`)
      envelopes.push(result.value)
    }
    decoded = readsByCause(envelopes)
    readsDecoded.set(key, decoded)
  }
  return decoded
}

interface OpenUnit {
  readonly service: string
  readonly instance: string
  readonly readsKey: string | null
  readonly exclude: ReadonlyArray<string>
  readonly ranges: ReadonlyArray<UnitRange>
  /** Per range: the inputs so far, each checked as it came. */
  readonly checked: CheckedInput[][]
}
const units = new Map<number, OpenUnit>()

const OUTPUTS_PER_MESSAGE = 1000
const send = (message: FromWorker) => port.postMessage(message)

const fold = async (job: number, unit: OpenUnit) => {
  const target = await targetOf(unit.service, unit.instance)
  const all = readsOf(unit.readsKey)
  const reads = new Map(all)
  for (const id of unit.exclude) reads.delete(id)
  const { inputs, undecodable } = unitInputs(unit.ranges, unit.checked, target.folds)
  let batch: EncodedOutput[] = []
  const result = foldUnit({
    core: target.core,
    producer: producerOf(target.service, target.instance),
    ranges: unit.ranges,
    inputs,
    reads,
    causes: all,
    undecodable,
    emit: (output) => {
      batch.push(output)
      if (batch.length >= OUTPUTS_PER_MESSAGE) {
        send({ kind: "outputs", job, outputs: batch })
        batch = []
      }
    },
  })
  if (batch.length > 0) send({ kind: "outputs", job, outputs: batch })
  send({ kind: "done", job, result, ...takeVerified() })
}

const failed = (job: number, error: unknown) =>
  send({ kind: "failed", job, message: (error as Error).message, stack: (error as Error).stack ?? "" })

port.on("message", (message: ToWorker) => {
  try {
    switch (message.kind) {
      case "check": {
        const answers: CheckAnswer[] = message.records.map((record) => {
          const checked = check(record)
          if (!checked.ok) return { ok: false, error: checked.error.message }
          const { producer, causationId } = checked.value
          return { ok: true, service: producer.service, instance: producer.instance, causationId }
        })
        send({ kind: "checked", job: message.job, answers, ...takeVerified() })
        return
      }
      case "reads":
        readsRecords.set(message.key, message.records)
        return
      case "forget":
        readsRecords.delete(message.key)
        readsDecoded.delete(message.key)
        return
      case "unit":
        units.set(message.job, {
          service: message.service,
          instance: message.instance,
          readsKey: message.readsKey,
          exclude: message.exclude,
          ranges: message.ranges,
          checked: message.ranges.map(() => []),
        })
        return
      case "records": {
        const list = units.get(message.job)!.checked[message.range]!
        for (const record of message.records) list.push({ record, checked: check(record) })
        return
      }
      case "fold": {
        const unit = units.get(message.job)!
        units.delete(message.job)
        fold(message.job, unit).catch((error: unknown) => failed(message.job, error))
        return
      }
    }
  } catch (error) {
    failed("job" in message ? message.job : -1, error)
  }
})
