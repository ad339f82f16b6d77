/**
 * What a flood of proposals costs the attestation-collector's core (issue 11): `npm run bench:collector-flood`
 * (`-- --sizes 1000,10000,50000` by default; `--before <git rev>` picks the core to compare with, `--no-before`
 * skips it). Ends with one JSON line of figures.
 *
 * For each N it feeds one core, input by input as the runtime does, N junk proposals (6 lanes, 1 ms apart, each
 * a root no chain had, nobody signing), then one input past every deadline (all N expire), then one a TTL later
 * (all N are forgotten), and reports microseconds per proposal for each phase. A cost that does not grow with N
 * is O(1) per proposal; one that grows linearly is O(N) per input, O(N²) for the flood.
 *
 * It runs today's core ("after") and, side by side, the core as it was before the O(1) rewrite ("before": read
 * from git at `--before`, default the last commit of the old core, and loaded from a temporary directory). Both
 * must give the same outputs with the same ids: on the flood, and on a mixed log of proposals, signatures (valid,
 * duplicate, forged), refusals, re-proposals after expiry and epoch changes. A difference fails the bench.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import { keccak256, type LocalAccount, stringToHex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { type CheckpointDomain, getCheckpointDomain, signCheckpoint } from "../contracts/index.ts"
import {
  Address,
  AttestationRefused,
  AttestationSigned,
  BlockRef,
  Bytes32,
  ChainId,
  Checkpoint,
  CheckpointProposed,
  type Envelope,
  Hex,
  Lane,
  makeEnvelope,
  OperatorSetRead,
  OperatorWeight,
  toAddress,
  toU256,
} from "../schemas/index.ts"
import { makeCollectorCore } from "../services/attestation-collector/core.ts"
import { checkpointDigest } from "../services/attestation-collector/verify-signature.ts"
import { toTypedCheckpoint } from "../services/operator/sign-checkpoint.ts"
import { type LaneCore, producerOf, stampOutputs } from "../services/runtime/index.ts"
import { announce } from "./announce.ts"

/** The epoch every signature of the mixed log names: the destinations' first set's. */
const SIGNED_EPOCH = 1
/** The last commit of the collector core that walked every record on every input. */
const OLD_CORE_REV = "cc487f72a35dee0b22d460c795c6241603dee163"
const CORE_DIR = "services/attestation-collector"

const { values } = parseArgs({
  options: {
    sizes: { type: "string" },
    before: { type: "string" },
    "no-before": { type: "boolean" },
  },
})
announce(
  "bench:collector-flood",
  "floods the collector with proposals, old core against new, up to 50,000",
  "about 1 to 2 minutes",
)
const SIZES = (values.sizes ?? "1000,10000,50000").split(",").map(Number)
const TTL = 300_000
const T0 = Date.parse("2026-01-01T00:00:00.000Z")
const OUTBOX = Address.make("0x5fbdb2315678afecb367f032d93f642f64180aa3")
const INBOX = Address.make("0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0")
const DOMAIN: CheckpointDomain = getCheckpointDomain({
  registryChainId: 901,
  registry: OUTBOX as `0x${string}`,
})
const LANES = [
  [901, 902],
  [901, 903],
  [902, 901],
  [902, 903],
  [903, 901],
  [903, 902],
].map(
  ([src, dst]) =>
    new Lane({ srcChainId: ChainId.make(src!), outbox: OUTBOX, dstChainId: ChainId.make(dst!) }),
)
const collector = producerOf("attestation-collector", "attestation-collector")
const proofBuilder = producerOf("proof-builder", "proof-builder")

type MakeCore = (options: { domain: CheckpointDomain; proposalTtlMs: number }) => LaneCore<unknown>

// ---------------------------------------------------------------------------------------------------------------
// The "before" core: its folder's files at a git revision, in a temporary directory, importing the rest of today's
// tree (schemas, runtime, contracts) by absolute URL, so only the core and its own helpers are the old ones.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..")

const loadCoreAt = async (rev: string): Promise<{ make: MakeCore; dir: string }> => {
  const dir = mkdtempSync(join(tmpdir(), "chorus-bench-collector-before-"))
  const copied = new Set<string>()
  const copy = (file: string) => {
    if (copied.has(file)) return
    copied.add(file)
    const source = execFileSync("git", ["show", `${rev}:${CORE_DIR}/${file}`], {
      cwd: ROOT,
      encoding: "utf8",
    })
    const origin = pathToFileURL(join(ROOT, CORE_DIR, file))
    const rewritten = source.replace(
      /(from\s+|import\()"([^"]+)"/g,
      (all, lead: string, specifier: string) => {
        if (!specifier.startsWith(".")) return `${lead}"${import.meta.resolve(specifier)}"`
        const target = new URL(specifier, origin)
        const inFolder = dirname(fileURLToPath(target)) === join(ROOT, CORE_DIR)
        if (inFolder) {
          copy(fileURLToPath(target).slice(join(ROOT, CORE_DIR).length + 1))
          return all
        }
        return `${lead}"${target.href}"`
      },
    )
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    writeFileSync(join(dir, file), rewritten)
  }
  copy("core.ts")
  const module = (await import(pathToFileURL(join(dir, "core.ts")).href)) as { makeCollectorCore: MakeCore }
  return { make: module.makeCollectorCore, dir }
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs.

const at = (ms: number) => new Date(T0 + ms)
const word = (seed: string) => Bytes32.make(keccak256(stringToHex(seed)))

const setRead = (
  input: Envelope,
  dst: number,
  epoch: number,
  members: ReadonlyArray<readonly [string, bigint]>,
) =>
  makeEnvelope(
    new OperatorSetRead({
      lane: LANES.find((l) => l.dstChainId === dst)!,
      inbox: INBOX,
      epoch,
      block: new BlockRef({ number: 100 + epoch, hash: word(`block ${epoch}`) }),
      operators: [...members]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(
          ([address, weight]) => new OperatorWeight({ address: toAddress(address), weight: toU256(weight) }),
        ),
      thresholdBps: 6667,
    }),
    { producer: collector, causationId: input.id, time: new Date(input.time) },
  )

const checkpointOf = (i: number, salt = "junk") => {
  const lane = LANES[i % LANES.length]!
  return new Checkpoint({ ...lane, root: word(`${salt} ${i}`), count: 1 + Math.floor(i / LANES.length) })
}

const proposal = (checkpoint: Checkpoint, time: number) =>
  makeEnvelope(
    new CheckpointProposed({
      checkpoint,
      previousCount: 0,
      block: new BlockRef({ number: checkpoint.count, hash: word(`b ${checkpoint.count}`) }),
    }),
    { producer: proofBuilder, causationId: null, time: at(time) },
  )

interface Step {
  readonly input: Envelope
  readonly reads: ReadonlyArray<Envelope>
}

/** N junk proposals, 1 ms apart, the destinations' sets read with the first; then the expiry and forget inputs. */
const floodOf = (n: number, members: ReadonlyArray<readonly [string, bigint]>) => {
  const admit: Step[] = []
  for (let i = 0; i < n; i++) {
    const input = proposal(checkpointOf(i), i)
    admit.push({ input, reads: i === 0 ? [901, 902, 903].map((dst) => setRead(input, dst, 1, members)) : [] })
  }
  const expire: Step = { input: proposal(checkpointOf(n, "late"), n + TTL + 1), reads: [] }
  const forget: Step = { input: proposal(checkpointOf(n + 1, "later"), n + 2 * TTL + 3), reads: [] }
  return { admit, expire, forget }
}

// ---------------------------------------------------------------------------------------------------------------
// Running a core, input by input, as the runtime does.

const runner = (make: MakeCore) => {
  const core = make({ domain: DOMAIN, proposalTtlMs: TTL })
  let state = core.initial
  const ids: string[] = []
  const events: string[] = []
  return {
    feed: (step: Step) => {
      const decision = core.decide(state, step.input, step.reads)
      state = decision.state
      for (const output of stampOutputs(collector, step.input, decision.outputs)) {
        ids.push(output.id)
        events.push(JSON.stringify(output.event))
      }
    },
    ids,
    events,
  }
}

const microsPer = (ms: number, n: number) => Math.round(((ms * 1000) / n) * 10) / 10

const measure = (make: MakeCore, n: number, members: ReadonlyArray<readonly [string, bigint]>) => {
  const { admit, expire, forget } = floodOf(n, members)
  const run = runner(make)
  let started = performance.now()
  for (const step of admit) run.feed(step)
  const admitMs = performance.now() - started
  const expiredBefore = run.events.length
  started = performance.now()
  run.feed(expire)
  const expireMs = performance.now() - started
  const expired = run.events.slice(expiredBefore).filter((e) => e.includes('"CheckpointExpired"')).length
  started = performance.now()
  run.feed(forget)
  const forgetMs = performance.now() - started
  return {
    admitUs: microsPer(admitMs, n),
    expireUs: microsPer(expireMs, n),
    forgetUs: microsPer(forgetMs, n),
    totalMs: Math.round(admitMs + expireMs + forgetMs),
    expired,
    ids: run.ids,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A mixed log, for the outputs-identical check: proposals, valid / duplicate / forged signatures, refusals,
// re-proposals after expiry, and an epoch change that drops an operator.

const OPERATORS: LocalAccount[] = Array.from({ length: 4 }, (_, i) =>
  privateKeyToAccount(keccak256(stringToHex(`bench-collector-operator-${i}`))),
)
const MEMBERS = OPERATORS.map((o, i) => [o.address.toLowerCase(), BigInt([5, 3, 1, 1][i]!)] as const)

const mixedLog = async (): Promise<Step[]> => {
  let seed = 42
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return seed / 2 ** 31
  }
  const pool = Array.from({ length: 120 }, (_, i) => checkpointOf(i, "mixed"))
  const signatures = new Map<string, Hex>()
  const signatureOf = async (account: LocalAccount, checkpoint: Checkpoint) => {
    const key = `${account.address}:${checkpointDigest(DOMAIN, checkpoint, SIGNED_EPOCH)}`
    let signature = signatures.get(key)
    if (signature === undefined) {
      signature = Hex.make(
        (
          await signCheckpoint({
            account,
            domain: DOMAIN,
            checkpoint: toTypedCheckpoint(checkpoint, SIGNED_EPOCH),
          })
        ).toLowerCase(),
      )
      signatures.set(key, signature)
    }
    return signature
  }
  const steps: Step[] = []
  let time = 0
  for (let i = 0; i < 3_000; i++) {
    time += random() < 0.01 ? TTL / 2 + Math.floor(random() * TTL) : Math.floor(random() * 50)
    const checkpoint = pool[Math.floor(random() * pool.length)]!
    const account = OPERATORS[Math.floor(random() * OPERATORS.length)]!
    const roll = random()
    let input: Envelope
    if (roll < 0.35) input = proposal(checkpoint, time)
    else if (roll < 0.85) {
      const forged = random() < 0.05
      input = makeEnvelope(
        new AttestationSigned({
          checkpoint,
          epoch: SIGNED_EPOCH,
          digest: forged ? word(`forged ${i}`) : checkpointDigest(DOMAIN, checkpoint, SIGNED_EPOCH),
          operator: toAddress(account.address),
          signature: await signatureOf(account, checkpoint),
        }),
        { producer: producerOf("operator", account.address), causationId: null, time: at(time) },
      )
    } else {
      input = makeEnvelope(
        new AttestationRefused({
          checkpoint,
          operator: toAddress(account.address),
          reason: "root-mismatch",
          detail: `refusal ${i}`,
        }),
        { producer: producerOf("operator", account.address), causationId: null, time: at(time) },
      )
    }
    const dst = checkpoint.dstChainId
    const reads =
      i < 3
        ? [901, 902, 903].filter((d) => d === 901 + i).map((d) => setRead(input, d, 1, MEMBERS))
        : i === 1_500
          ? [setRead(input, dst, 2, MEMBERS.slice(1))]
          : []
    steps.push({ input, reads })
  }
  return steps
}

// ---------------------------------------------------------------------------------------------------------------

const sameOutputs = (a: { ids: string[]; events: string[] }, b: { ids: string[]; events: string[] }) =>
  a.ids.length === b.ids.length &&
  a.ids.every((id, i) => id === b.ids[i]) &&
  a.events.every((e, i) => e === b.events[i])

const revision = values["no-before"] === true ? undefined : (values.before ?? OLD_CORE_REV)
/**
 * Outputs are compared only against a core that signs checkpoints under an epoch (issue 14): the default "before"
 * core predates it, so its digests, and so its outputs, differ by construction. Against it, only speed compares.
 */
const compareOutputs = values.before !== undefined
let before: { make: MakeCore; dir: string } | undefined
if (revision !== undefined) {
  try {
    before = await loadCoreAt(revision)
  } catch (error) {
    console.error(
      `bench:collector-flood: no "before" core at ${revision} (${(error as Error).message.split("\n")[0]}); measuring today's only`,
    )
  }
}
const after = makeCollectorCore as unknown as MakeCore

// Warm both up, so the first size does not pay for JIT compilation.
measure(after, 1_000, MEMBERS)
if (before !== undefined) measure(before.make, 1_000, MEMBERS)

const mixed = await mixedLog()
const mixedAfter = runner(after)
for (const step of mixed) mixedAfter.feed(step)
let mixedIdentical: boolean | null = null
if (before !== undefined && compareOutputs) {
  const mixedBefore = runner(before.make)
  for (const step of mixed) mixedBefore.feed(step)
  mixedIdentical = sameOutputs(mixedBefore, mixedAfter)
}

const rows = []
console.log(
  `collector core, junk proposals 1 ms apart on ${LANES.length} lanes, TTL ${TTL} ms; µs per proposal`,
)
console.log(
  "      N │ admit before │ admit after │ expire before │ expire after │ forget before │ forget after │ same outputs",
)
for (const n of SIZES) {
  const now = measure(after, n, MEMBERS)
  const old = before === undefined ? undefined : measure(before.make, n, MEMBERS)
  const identical =
    old === undefined || !compareOutputs
      ? null
      : old.ids.length === now.ids.length && old.ids.every((id, i) => id === now.ids[i])
  const row = {
    n,
    expired: now.expired,
    afterAdmitUsPerProposal: now.admitUs,
    afterExpireUsPerProposal: now.expireUs,
    afterForgetUsPerProposal: now.forgetUs,
    afterTotalMs: now.totalMs,
    beforeAdmitUsPerProposal: old?.admitUs ?? null,
    beforeExpireUsPerProposal: old?.expireUs ?? null,
    beforeForgetUsPerProposal: old?.forgetUs ?? null,
    beforeTotalMs: old?.totalMs ?? null,
    sameOutputs: identical,
  }
  rows.push(row)
  const cell = (v: number | null, width: number) => (v === null ? "—" : String(v)).padStart(width)
  console.log(
    `${String(n).padStart(7)} │ ${cell(row.beforeAdmitUsPerProposal, 12)} │ ${cell(row.afterAdmitUsPerProposal, 11)} │ ${cell(row.beforeExpireUsPerProposal, 13)} │ ${cell(row.afterExpireUsPerProposal, 12)} │ ${cell(row.beforeForgetUsPerProposal, 13)} │ ${cell(row.afterForgetUsPerProposal, 12)} │ ${identical === null ? "—" : identical}`,
  )
}
console.log(
  `mixed log (${mixed.length} inputs: proposals, signatures, refusals, expiries, an epoch change; ${mixedAfter.ids.length} outputs): same outputs before and after: ${mixedIdentical ?? "—"}`,
)
if (before !== undefined) rmSync(before.dir, { recursive: true, force: true })

const failed = rows.some((r) => r.sameOutputs === false) || mixedIdentical === false
console.log(
  JSON.stringify({
    bench: "collector-flood",
    ttlMs: TTL,
    beforeRevision: before === undefined ? null : revision,
    rows,
    mixedInputs: mixed.length,
    mixedOutputs: mixedAfter.ids.length,
    mixedSameOutputs: mixedIdentical,
    ok: !failed,
  }),
)
if (failed) process.exitCode = 1
