/**
 * What a chaos run prints: its schedule before it starts, and at the end the
 * counts, what each fault did, what the RPC proxies and the garbage did, the
 * process exits nobody asked for, and, when the run fails, the messages that
 * broke the promise with what the log last says of each. With `--json` the
 * last line is the counts as one JSON object.
 *
 * @module
 */
import { describeFaults, FAULT_NAMES } from "./faults.ts"
import type { UnitExit } from "./processes.ts"
import type { ProxyReport } from "./rpc-proxies.ts"
import { type ChaosPlan, type PlannedEvent, requiredStake } from "./schedule.ts"
import type { EventOutcome } from "./timeline.ts"
import type { Counts, MessageVerdict, Verdict } from "./verdict.ts"

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const at = (ms: number) => `t+${(ms / 1000).toFixed(1).padStart(6)}s`

/** One planned event in words. */
export const describeEvent = (event: PlannedEvent): string => {
  switch (event.kind) {
    case "kill":
      return `kill -9 ${event.unit}, restarted after ${secs(event.downMs)}`
    case "broker-restart":
      return "restart the Kafka broker"
    case "reorg":
      return `reorg chain ${event.chainId} above finality (its last ${event.depth} blocks)`
    case "rewrite":
      return `rewrite chain ${event.chainId} below finality (its last ${event.depth} blocks)`
    case "garbage":
      return `garbage burst ${event.burst + 1}: ${event.records} records`
  }
}

/**
 * The schedule, as printed before the run starts.
 *
 * @example
 * ```ts
 * for (const line of renderSchedule(plan, operators)) console.log(line)
 * ```
 */
export const renderSchedule = (
  plan: ChaosPlan,
  operators: ReadonlyArray<{ readonly address: string; readonly weight: bigint }>,
): string[] => {
  const { roles } = plan
  const total = plan.weights.reduce((a, b) => a + b, 0n)
  const lost = [roles.liar, roles.offline].reduce((sum, i) => sum + (i === null ? 0n : plan.weights[i]!), 0n)
  const operator = (i: number | null) =>
    i === null ? "none" : `#${i} ${operators[i]?.address ?? ""} (stake ${plan.weights[i]})`
  const kinds = new Map<string, number>()
  for (const m of plan.traffic) kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1)
  const hostile = plan.traffic.filter((m) => m.kind !== "ping")
  const skipped = FAULT_NAMES.filter((f) => plan.faults.has(f) && f === "broker" && plan.bus !== "kafka")
  return [
    `chaos schedule: seed ${plan.seed}, ${plan.messages} messages at ${Number(plan.rate.toFixed(2))}/s over ${secs(plan.trafficMs)} on the ${plan.bus === "kafka" ? "Kafka" : "embedded"} bus`,
    `  faults: ${describeFaults(plan.faults)}${skipped.length > 0 ? ` (${skipped.join(", ")}: not applicable on the embedded bus)` : ""}`,
    `  processes: ${plan.units.join(", ")}`,
    `  reorg above finality: ${roles.reorgChain === null ? "none" : `chain ${roles.reorgChain}`} · rewrite below finality: ${roles.rewriteChain === null ? "none" : `chain ${roles.rewriteChain}`} · watcher dropping logs: ${roles.lossyWatcher === null ? "none" : `chain ${roles.lossyWatcher}`}`,
    `  lying operator: ${operator(roles.liar)} · offline operator: ${operator(roles.offline)} · honest online stake ${total - lost}/${total}, threshold ${requiredStake(plan.weights, plan.thresholdBps)}`,
    `  traffic: ${[...kinds.entries()].map(([k, n]) => `${n} ${k}`).join(", ")}`,
    ...(hostile.length > 0
      ? [`  hostile messages: ${hostile.map((m) => `#${m.index} ${m.kind} ${m.src}→${m.dst}`).join(", ")}`]
      : []),
    ...plan.events.map((e) => `  ${at(e.atMs)}  ${describeEvent(e)}`),
  ]
}

/** The counts as a table. */
export const renderCounts = (counts: Counts): string[] => [
  `  sent               ${String(counts.sent).padStart(7)}   traffic transactions with a receipt`,
  `  delivered          ${String(counts.delivered).padStart(7)}   Inbox: delivered`,
  `  failedAtRecipient  ${String(counts.failedAtRecipient).padStart(7)}   Inbox: failed (the recipient reverted)`,
  `  refused            ${String(counts.refused).padStart(7)}   not attempted; refused alone with a reason`,
  `  quarantined        ${String(counts.quarantined).padStart(7)}   not attempted; its chain's watcher halted at or before its block`,
  `  lost               ${String(counts.lost).padStart(7)}   never settled, never observed`,
  `  duplicated         ${String(counts.duplicated).padStart(7)}   a recipient ran it more than once`,
  `  stranded           ${String(counts.stranded).padStart(7)}   observed, never settled by the end of the drain`,
]

/** The faults of the plan that touched a message's lane or the message itself: where to look first. */
export const suspectsOf = (v: MessageVerdict, plan: ChaosPlan): string[] => {
  const { src, dst, kind } = v.message.sent.message
  const { roles } = plan
  const halts = plan.events.filter((e) => e.kind === "rewrite" && e.chainId === src)
  return [
    ...(roles.lossyWatcher === src ? ["drop-logs (its source's watcher)"] : []),
    ...(halts.length > 0
      ? [`rewrite (its source chain${v.halt === undefined ? ", below the halt's block" : ""})`]
      : []),
    ...(roles.reorgChain === src || roles.reorgChain === dst ? ["reorg (its lane)"] : []),
    ...(kind !== "ping" ? [kind] : []),
    ...(v.log?.refusal !== undefined && !v.log.refusal.alone
      ? [`a refusal of its whole batch of ${v.log.refusal.messages}: ${v.log.refusal.reason.slice(0, 160)}`]
      : []),
  ]
}

/** One message in a line: id, lane, nonce, what it was, what the log last says of it, and the suspects. */
export const describeMessage = (
  v: MessageVerdict,
  plan: ChaosPlan,
  cursors: ReadonlyMap<number, number>,
): string => {
  const m = v.message
  const cursor = cursors.get(m.sent.message.src)
  const unread =
    cursor === undefined
      ? "its watcher wrote no cursor"
      : cursor < m.blockNumber
        ? `its watcher's cursor is at block ${cursor}, below it: not read yet`
        : `its watcher's cursor (block ${cursor}) passed it without observing it`
  const last = v.log?.last === undefined ? `nothing (${unread})` : `${v.log.last.type}: ${v.log.last.summary}`
  const runs = v.duplicated ? ` · ran ${JSON.stringify(v.runs)}` : ""
  const suspects = suspectsOf(v, plan)
  return `  ${m.messageId} ${m.sent.message.src}→${m.sent.message.dst} nonce ${m.nonce} (#${m.sent.message.index} ${m.sent.message.kind}, block ${m.blockNumber})${runs} · log: ${last}${suspects.length > 0 ? ` · faults on its way: ${suspects.join("; ")}` : ""}`
}

/** What each fault did, in time order. */
export const renderOutcomes = (outcomes: ReadonlyArray<EventOutcome>): string[] =>
  [...outcomes]
    .sort((a, b) => a.startedMs - b.startedMs)
    .map((o) => `  ${at(o.startedMs)} ${o.ok ? "done  " : "FAILED"} ${describeEvent(o.event)}: ${o.detail}`)

/** What the RPC proxies did, summed by fault, and per proxy that dropped logs, lied or lost answers. */
export const renderProxies = (reports: ReadonlyArray<ProxyReport>): string[] => {
  let calls = 0
  let failedRequests = 0
  let failedCalls = 0
  const lines: string[] = []
  for (const r of reports) {
    calls += Object.values(r.stats.calls).reduce((a, b) => a + b, 0)
    failedRequests += r.stats.httpErrors
    failedCalls += r.stats.rpcErrors
    const lies = Object.entries(r.stats.lies)
    if (r.stats.droppedLogs > 0 || r.faults.dropLogsRate !== undefined)
      lines.push(
        `  ${r.owner}@${r.chainId}: dropped ${r.stats.droppedLogs} of ${r.stats.logs} Outbox logs from eth_getLogs answers`,
      )
    if (lies.length > 0)
      lines.push(`  ${r.owner}@${r.chainId}: lied ${lies.map(([how, n]) => `${n} ${how}`).join(", ")}`)
    if (r.stats.lostSendAnswers > 0)
      lines.push(`  ${r.owner}@${r.chainId}: lost ${r.stats.lostSendAnswers} send answer(s)`)
  }
  const byOwner = new Map<string, number>()
  for (const r of reports)
    byOwner.set(
      r.owner,
      (byOwner.get(r.owner) ?? 0) + Object.values(r.stats.calls).reduce((a, b) => a + b, 0),
    )
  return [
    `  ${reports.length} proxies; ${calls} calls; ${failedRequests} request(s) failed with HTTP 5xx and ${failedCalls} call(s) with a JSON-RPC error, injected`,
    `  calls by process: ${[...byOwner.entries()].map(([owner, n]) => `${owner} ${n}`).join(", ")}`,
    ...lines,
  ]
}

/**
 * Why a process ended, from the end of its stderr: the last `<service> stopped: <error>` line `chorus run`
 * wrote, else the last error-level log message, else its last plain line.
 */
const exitReason = (tail: string): string => {
  // The first line may be cut: the tail is the end of the stream.
  const lines = tail
    .split("\n")
    .slice(1)
    .filter((l) => l.trim() !== "")
  const stopped = lines.filter((l) => !l.startsWith("{") && / stopped: /.test(l)).at(-1)
  if (stopped !== undefined) return stopped.slice(0, 300)
  const error = lines.filter((l) => l.includes('"level":"error"')).at(-1)
  const message = error === undefined ? undefined : /"msg":"([^"]*)"/.exec(error)?.[1]
  return (
    message ??
    lines
      .filter((l) => !l.startsWith("{"))
      .at(-1)
      ?.slice(0, 300) ??
    "(no reason on stderr)"
  )
}

/** Exits of service processes the run did not cause, grouped by unit, status and reason (numbers aside). */
export const renderExits = (exits: ReadonlyArray<UnitExit>): string[] => {
  const groups = new Map<string, { count: number; reason: string; first: UnitExit }>()
  for (const exit of exits) {
    const reason = exit.stopped ?? exitReason(exit.tail)
    const key = `${exit.unit} ${exit.code} ${exit.signal} ${reason.replace(/0x[0-9a-f]+|\d+/gi, "#")}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { count: 1, reason, first: exit })
    else group.count += 1
  }
  return [...groups.values()].map(
    (g) =>
      `  ${g.count}× ${g.first.unit} exited (code ${g.first.code}, signal ${g.first.signal}): ${g.reason}`,
  )
}

/** How fast the relay settled the run's messages, as the chains date it. */
export interface Throughput {
  /** Messages the Inbox attempted (delivered, or failed at their recipient). */
  readonly settled: number
  /** From the first traffic message's block to the last `MessageDelivered`/`MessageFailed` block, in seconds. */
  readonly seconds: number | null
  readonly perS: number | null
}

/**
 * The relay's throughput over the run, from the chains' block times (whole seconds): settled messages over
 * the time from the first message's block to the last settle's block.
 *
 * @example
 * ```ts
 * throughputOf(verdict.counts, 1_700_000_000, 1_700_000_100) // { settled: …, seconds: 100, perS: … }
 * ```
 */
export const throughputOf = (
  counts: Counts,
  firstSentAt: number | null,
  lastSettledAt: number | null,
): Throughput => {
  const settled = counts.delivered + counts.failedAtRecipient
  const seconds =
    firstSentAt === null || lastSettledAt === null ? null : Math.max(1, lastSettledAt - firstSentAt)
  return { settled, seconds, perS: seconds === null ? null : Math.round((settled / seconds) * 10) / 10 }
}

/** The throughput line of the report. */
export const renderThroughput = (t: Throughput): string =>
  t.perS === null
    ? "throughput: nothing settled"
    : `throughput: ${t.settled} message(s) settled in ${t.seconds} s (first message's block to the last settle's block): ${t.perS} msg/s`

/** The counts, the throughput and the faults done as the one JSON object of the last line. */
export const countsJson = (
  counts: Counts,
  throughput: Throughput,
  outcomes: ReadonlyArray<EventOutcome>,
): string =>
  JSON.stringify({
    sent: counts.sent,
    delivered: counts.delivered,
    failedAtRecipient: counts.failedAtRecipient,
    refused: counts.refused,
    quarantined: counts.quarantined,
    lost: counts.lost,
    duplicated: counts.duplicated,
    stranded: counts.stranded,
    settledPerS: throughput.perS,
    settleSeconds: throughput.seconds,
    faultsPlanned: outcomes.length,
    faultsDone: outcomes.filter((o) => o.ok).length,
    faultsDoneDetail: outcomes.filter((o) => o.ok).map((o) => `${describeEvent(o.event)}: ${o.detail}`),
  })

/** The messages that break the promise, at most `limit` of each kind. */
export const renderBroken = (verdict: Verdict, plan: ChaosPlan, limit: number): string[] => {
  const lines: string[] = []
  const list = (title: string, items: ReadonlyArray<MessageVerdict>) => {
    if (items.length === 0) return
    lines.push(`${title} (${items.length}):`)
    for (const v of items.slice(0, limit)) lines.push(describeMessage(v, plan, verdict.cursors))
    if (items.length > limit) lines.push(`  … and ${items.length - limit} more`)
  }
  list(
    "lost",
    verdict.messages.filter((v) => v.settlement === "lost"),
  )
  list(
    "stranded",
    verdict.messages.filter((v) => v.settlement === "stranded"),
  )
  list(
    "duplicated",
    verdict.messages.filter((v) => v.duplicated),
  )
  return lines
}

/**
 * A few broken messages to trace: one of each kind (lost, stranded, duplicated) and lane in turn, so the
 * traces cover different failures rather than neighbours of one.
 */
export const tracedSample = (verdict: Verdict, count: number): MessageVerdict[] => {
  const groups = new Map<string, MessageVerdict[]>()
  for (const v of verdict.messages) {
    const kind = v.duplicated ? "duplicated" : v.settlement
    if (kind !== "lost" && kind !== "stranded" && kind !== "duplicated") continue
    const key = `${kind} ${v.message.sent.message.src}-${v.message.sent.message.dst}`
    groups.set(key, [...(groups.get(key) ?? []), v])
  }
  const picked: MessageVerdict[] = []
  for (let round = 0; picked.length < count; round++) {
    const before = picked.length
    for (const group of groups.values())
      if (group[round] !== undefined && picked.length < count) picked.push(group[round]!)
    if (picked.length === before) break
  }
  return picked
}

/** Lanes of the broken messages, to say where they cluster. */
export const brokenLanes = (verdict: Verdict): string => {
  const lanes = new Map<string, number>()
  for (const v of verdict.messages) {
    if (v.settlement !== "lost" && v.settlement !== "stranded" && !v.duplicated) continue
    const lane = `${v.message.sent.message.src}→${v.message.sent.message.dst}`
    lanes.set(lane, (lanes.get(lane) ?? 0) + 1)
  }
  return [...lanes.entries()].map(([lane, n]) => `${lane}: ${n}`).join(", ")
}
