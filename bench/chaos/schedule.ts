/**
 * The plan of one chaos run, drawn from its seed before anything starts:
 * which chain reorgs and which is rewritten, which watcher's RPC drops logs,
 * which operator lies and which is offline, every message (direction,
 * recipient kind, gas limit, when it is due) and every timed fault (each
 * kill, the broker restart, the chain faults, the garbage bursts).
 *
 * Invariants:
 * - Pure: the same options give the same plan (`randomFor` streams, one per
 *   part, so switching a fault off does not move the others' draws).
 * - Every service process is killed at least once when `kill` is on.
 * - The operators left honest and online hold the Inbox's threshold: an
 *   offline and a lying operator are only chosen together where that holds,
 *   since no relayer can deliver without a quorum.
 * - Every timed fault falls inside the traffic window; the two messages of a
 *   max-gas pair are due at the same moment, on the same lane.
 *
 * @module
 */
import type { FaultName } from "./faults.ts"
import { type Random, randomFor } from "./random.ts"

export type MessageKind = "ping" | "gas-burner" | "return-bomb" | "reentrant" | "no-code" | "max-gas"

/** The gas each kind of message asks for its recipient call. */
export const GAS_LIMITS: Readonly<Record<MessageKind, bigint>> = {
  ping: 200_000n,
  "gas-burner": 1_000_000n,
  // Reverting with 1 MiB costs about 2.2M gas of memory: less and the bomb would only run out of gas.
  "return-bomb": 3_000_000n,
  reentrant: 300_000n,
  "no-code": 200_000n,
  // The Outbox's MAX_GAS_LIMIT: two of them ask the whole 30M block gas limit.
  "max-gas": 15_000_000n,
}

export interface PlannedMessage {
  readonly index: number
  readonly src: number
  readonly dst: number
  readonly kind: MessageKind
  readonly gasLimit: bigint
  /** When it is due, from the start of the traffic. */
  readonly dueMs: number
}

export type PlannedEvent =
  | { readonly kind: "kill"; readonly atMs: number; readonly unit: string; readonly downMs: number }
  | { readonly kind: "broker-restart"; readonly atMs: number }
  | { readonly kind: "reorg"; readonly atMs: number; readonly chainId: number; readonly depth: number }
  | { readonly kind: "rewrite"; readonly atMs: number; readonly chainId: number; readonly depth: number }
  | { readonly kind: "garbage"; readonly atMs: number; readonly burst: number; readonly records: number }

export interface Roles {
  readonly reorgChain: number | null
  readonly rewriteChain: number | null
  readonly lossyWatcher: number | null
  /** Operator indexes. */
  readonly liar: number | null
  readonly offline: number | null
}

export type BusKind = "kafka" | "embedded"

export interface PlanOptions {
  readonly seed: number
  readonly messages: number
  /** Messages per second. */
  readonly rate: number
  readonly bus: BusKind
  readonly faults: ReadonlySet<FaultName>
  readonly chains: ReadonlyArray<number>
  /** Operator stake weights, by operator index. */
  readonly weights: ReadonlyArray<bigint>
  readonly thresholdBps: number
  /** Processes per lane service instance on Kafka (1 when absent), for the services in `scaled`. */
  readonly members?: number
  /** The lane services that run `members` processes (every one when absent). */
  readonly scaled?: ReadonlyArray<string>
}

export interface ChaosPlan extends PlanOptions {
  /** How long the traffic takes: the window every timed fault falls in. */
  readonly trafficMs: number
  readonly roles: Roles
  /** The service processes of the run: one per service instance on Kafka, `all` on the embedded bus. */
  readonly units: ReadonlyArray<string>
  readonly traffic: ReadonlyArray<PlannedMessage>
  readonly events: ReadonlyArray<PlannedEvent>
}

/** Garbage: this many records in all, in this many bursts. */
export const GARBAGE_RECORDS = 1_000
const GARBAGE_BURSTS = 10
/** Blocks `finalized` trails `latest` on the devnet's chains: a reorg this deep stays above finality. */
export const FINALITY_DEPTH = 2
/** A rewrite this deep reaches below every watcher's cursor. */
export const REWRITE_DEPTH = 6

/**
 * The service processes: one per instance on Kafka (the offline operator has none), or the one process the
 * embedded log allows. With `members` above 1, each lane service instance (one that runs in a consumer
 * group) runs as that many processes: `operator-0`, `operator-0.2`, …; a chain-watcher has no group, so it
 * stays one per chain.
 *
 * @example
 * ```ts
 * unitsOf("kafka", [901, 902], 4, 3) // ["chain-watcher-901", "chain-watcher-902", "proof-builder", "operator-0", …]
 * unitsOf("kafka", [901], 1, null, 2) // ["chain-watcher-901", "proof-builder", "proof-builder.2", "operator-0", …]
 * unitsOf("kafka", [901], 1, null, 2, ["proof-builder"]) // […, "proof-builder", "proof-builder.2", "operator-0", …]
 * ```
 */
export const unitsOf = (
  bus: BusKind,
  chains: ReadonlyArray<number>,
  operators: number,
  offline: number | null,
  members = 1,
  scaled?: ReadonlyArray<string>,
): string[] => {
  if (bus === "embedded") return ["all"]
  const serviceOf = (unit: string) => unit.replace(/-\d+$/, "")
  const count = (unit: string) => (scaled === undefined || scaled.includes(serviceOf(unit)) ? members : 1)
  const grouped = [
    "proof-builder",
    ...Array.from({ length: operators }, (_, i) => i)
      .filter((i) => i !== offline)
      .map((i) => `operator-${i}`),
    "attestation-collector",
    ...chains.map((c) => `submitter-${c}`),
  ]
  return [
    ...chains.map((c) => `chain-watcher-${c}`),
    ...grouped.flatMap((unit) =>
      Array.from({ length: count(unit) }, (_, m) => (m === 0 ? unit : `${unit}.${m + 1}`)),
    ),
  ]
}

/**
 * The service instance a unit runs: a member's suffix dropped.
 *
 * @example
 * ```ts
 * instanceOfUnit("operator-0.2") // "operator-0"
 * instanceOfUnit("submitter-902") // "submitter-902"
 * ```
 */
export const instanceOfUnit = (unit: string): string => unit.replace(/\.\d+$/, "")

/** The stake the Inbox requires, as it computes it (rounded up). */
export const requiredStake = (weights: ReadonlyArray<bigint>, thresholdBps: number): bigint => {
  const total = weights.reduce((a, b) => a + b, 0n)
  return (total * BigInt(thresholdBps) + 9_999n) / 10_000n
}

const drawOperators = (random: Random, options: PlanOptions): Pick<Roles, "liar" | "offline"> => {
  const wantLiar = options.faults.has("liar")
  const wantOffline = options.faults.has("offline")
  const total = options.weights.reduce((a, b) => a + b, 0n)
  const slack = total - requiredStake(options.weights, options.thresholdBps)
  const indexes = options.weights.map((_, i) => i)
  const pairs: Array<{ liar: number | null; offline: number | null }> = []
  for (const liar of wantLiar ? indexes : [null]) {
    for (const offline of wantOffline ? indexes : [null]) {
      if (liar !== null && liar === offline) continue
      const lost =
        (liar === null ? 0n : options.weights[liar]!) + (offline === null ? 0n : options.weights[offline]!)
      if (lost <= slack) pairs.push({ liar, offline })
    }
  }
  if (pairs.length === 0) {
    throw new Error(
      "no operator can lie or be offline without losing the quorum; the world's stake allows no such fault",
    )
  }
  return random.pick(pairs)
}

/** Times in [from, to) of the window, one per equal slot, so repeated faults of one kind are spread out. */
const slotted = (random: Random, count: number, windowMs: number, from: number, to: number): number[] =>
  Array.from({ length: count }, (_, j) => {
    const start = from + ((to - from) * j) / count
    const end = from + ((to - from) * (j + 1)) / count
    return Math.round(random.between(start, end) * windowMs)
  })

const planTraffic = (options: PlanOptions, trafficMs: number): PlannedMessage[] => {
  const random = randomFor(options.seed, "traffic")
  const kinds = randomFor(options.seed, "traffic-kinds")
  const n = options.messages
  const directions = options.chains.flatMap((src) =>
    options.chains.filter((dst) => dst !== src).map((dst) => [src, dst] as const),
  )
  const kindOf = new Map<number, MessageKind>()
  /** The second message of each max-gas pair: it goes with the first, on its lane, at its time. */
  const seconds = new Set<number>()
  const perKind = Math.max(1, Math.round(n / 1_000))
  const free = kinds.shuffle(Array.from({ length: n - 1 }, (_, i) => i))
  const take = () => {
    for (;;) {
      const index = free.pop()
      if (index === undefined) return undefined
      if (!kindOf.has(index)) return index
    }
  }
  if (options.faults.has("max-gas")) {
    for (let pair = 0; pair < Math.max(1, Math.round(n / 5_000)); pair++) {
      for (;;) {
        const index = take()
        if (index === undefined) break
        if (kindOf.has(index + 1)) continue
        kindOf.set(index, "max-gas")
        kindOf.set(index + 1, "max-gas")
        seconds.add(index + 1)
        break
      }
    }
  }
  for (const kind of ["gas-burner", "return-bomb", "reentrant", "no-code"] as const) {
    if (!options.faults.has(kind)) continue
    for (let i = 0; i < perKind; i++) {
      const index = take()
      if (index !== undefined) kindOf.set(index, kind)
    }
  }
  const traffic: PlannedMessage[] = []
  for (let index = 0; index < n; index++) {
    const kind = kindOf.get(index) ?? "ping"
    const first = seconds.has(index) ? traffic[index - 1]! : undefined
    // The direction is drawn for every message, so a hostile one does not move the directions of the rest.
    const [src, dst] = random.pick(directions)
    traffic.push({
      index,
      src: first?.src ?? src,
      dst: first?.dst ?? dst,
      kind,
      gasLimit: GAS_LIMITS[kind],
      dueMs: first?.dueMs ?? Math.round((index * trafficMs) / n),
    })
  }
  return traffic
}

/**
 * Draws the plan of a run.
 *
 * @example
 * ```ts
 * const plan = planRun({ seed: 7, messages: 500, rate: 5, bus: "kafka", faults: parseFaults("all"), chains: [901, 902, 903], weights: [4000n, 3000n, 2000n, 1000n], thresholdBps: 6667 })
 * plan.events.filter((e) => e.kind === "kill").length // at least one per unit
 * ```
 */
export const planRun = (options: PlanOptions): ChaosPlan => {
  const trafficMs = Math.round((options.messages / options.rate) * 1000)
  const roleRandom = randomFor(options.seed, "roles")
  const chainOrder = roleRandom.shuffle(options.chains)
  const operators = drawOperators(randomFor(options.seed, "operators"), options)
  const lossy = roleRandom.pick(options.chains)
  const roles: Roles = {
    reorgChain: options.faults.has("reorg") ? chainOrder[0]! : null,
    rewriteChain: options.faults.has("rewrite") ? chainOrder[1]! : null,
    lossyWatcher: options.faults.has("drop-logs") ? lossy : null,
    ...operators,
  }
  const units = unitsOf(
    options.bus,
    options.chains,
    options.weights.length,
    roles.offline,
    options.members,
    options.scaled,
  )
  const events: PlannedEvent[] = []
  if (options.faults.has("kill")) {
    const random = randomFor(options.seed, "kills")
    const down = () => Math.round(random.between(500, 5_000))
    if (options.bus === "embedded") {
      for (const atMs of slotted(random, random.int(2, 4), trafficMs, 0.05, 0.9))
        events.push({ kind: "kill", atMs, unit: "all", downMs: down() })
    } else {
      for (const unit of units)
        events.push({
          kind: "kill",
          atMs: Math.round(random.between(0.05, 0.9) * trafficMs),
          unit,
          downMs: down(),
        })
      for (let extra = random.int(1, 3); extra > 0; extra--) {
        events.push({
          kind: "kill",
          atMs: Math.round(random.between(0.05, 0.9) * trafficMs),
          unit: random.pick(units),
          downMs: down(),
        })
      }
    }
  }
  /** A time in [from, to) of the traffic window, from its own labelled stream. */
  const timeOf = (label: string, from: number, to: number) =>
    Math.round(randomFor(options.seed, label).between(from, to) * trafficMs)
  if (options.faults.has("broker") && options.bus === "kafka") {
    events.push({ kind: "broker-restart", atMs: timeOf("broker", 0.3, 0.6) })
  }
  for (const [kind, chainId, from, to, depth] of [
    ["reorg", roles.reorgChain, 0.15, 0.8, FINALITY_DEPTH],
    ["rewrite", roles.rewriteChain, 0.5, 0.85, REWRITE_DEPTH],
  ] as const) {
    if (chainId !== null) events.push({ kind, atMs: timeOf(kind, from, to), chainId, depth })
  }
  if (options.faults.has("garbage")) {
    const random = randomFor(options.seed, "garbage")
    slotted(random, GARBAGE_BURSTS, trafficMs, 0.05, 0.95).forEach((atMs, burst) => {
      events.push({ kind: "garbage", atMs, burst, records: GARBAGE_RECORDS / GARBAGE_BURSTS })
    })
  }
  events.sort((a, b) => a.atMs - b.atMs)
  return { ...options, trafficMs, roles, units, traffic: planTraffic(options, trafficMs), events }
}
