/**
 * Where a chaos run stands, from the chains (and, for refusals and halts,
 * the log): how many of the sent messages settled, and how many still wait.
 * The run prints it while the traffic flows, and after the traffic polls it
 * until nothing waits or the drain deadline passes.
 *
 * @module
 */
import type { Hex } from "viem"
import type { DevnetChain } from "../../cli/devnet/world.ts"
import { TOPICS } from "../../topology/index.ts"
import { readInboxStatus, readReceipts, type SentMessage } from "./chain-truth.ts"
import type { LogFollower } from "./log-facts.ts"
import type { HarnessBus } from "./run-bus.ts"
import type { Traffic } from "./traffic.ts"
import { type Counts, judge } from "./verdict.ts"

export interface Standing {
  /** When it was read (epoch ms). */
  readonly at: number
  readonly counts: Counts
  /** Sent, with no receipt yet. */
  readonly unmined: number
  /** Neither settled nor refused nor quarantined: what the drain waits for. */
  readonly waiting: number
  /** Records on the topics of a message's way past its observation, when the log was read. */
  readonly logRecords: number | undefined
}

/**
 * The topics that grow only while messages move on from their observation (watchers write reads and cursors
 * every block, moving or not).
 */
const PROGRESS_TOPICS = [
  TOPICS.checkpointsProposed.name,
  TOPICS.messagesProven.name,
  TOPICS.attestationsSigned.name,
  TOPICS.attestationVerdicts.name,
  TOPICS.checkpointsAttested.name,
  TOPICS.deliveries.name,
]

const countRecords = async (bus: HarnessBus): Promise<number | undefined> =>
  bus
    .use(async (b) => {
      let total = 0
      for (const topic of PROGRESS_TOPICS)
        for (const mark of await b.watermarks(topic)) total += mark.high - mark.low
      return total
    })
    .catch(() => undefined)

export interface StandingProbe {
  /** Reads the chains (and with `withLog`, the log's news) and judges every message sent so far. */
  read(withLog: boolean): Promise<Standing>
}

/**
 * A probe that remembers receipts, so each read costs only the new ones.
 *
 * @example
 * ```ts
 * const probe = standingProbe(chains, traffic, bus, follower)
 * const { waiting } = await probe.read(true)
 * ```
 */
export const standingProbe = (
  chains: ReadonlyArray<DevnetChain>,
  traffic: Traffic,
  bus: HarnessBus,
  follower: LogFollower,
): StandingProbe => {
  const known = new Map<Hex, SentMessage>()
  return {
    read: async (withLog) => {
      const receipts = await readReceipts(chains, traffic.sent(), known)
      for (const m of receipts.messages) known.set(m.sent.transactionHash, m)
      const status = await readInboxStatus(chains, receipts.messages)
      if (withLog) await bus.use((b) => follower.poll(b)).catch(() => undefined)
      const logRecords = withLog ? await countRecords(bus) : undefined
      const { counts } = judge(receipts.messages, status, undefined, follower.facts())
      return {
        logRecords,
        at: Date.now(),
        counts,
        unmined: receipts.missing.length,
        waiting: counts.lost + counts.stranded + receipts.missing.length,
      }
    },
  }
}

/** One line of where the run stands. */
export const describeStanding = (s: Standing): string =>
  `delivered ${s.counts.delivered} · failed at recipient ${s.counts.failedAtRecipient} · refused ${s.counts.refused} · ` +
  `quarantined ${s.counts.quarantined} · waiting ${s.waiting}${s.unmined > 0 ? ` (${s.unmined} not mined yet)` : ""}`

export interface Drained {
  readonly last: Standing
  /** Messages that settled in the drain's last minute: more than 0 means the relay was slow, not stuck. */
  readonly settledLastMinute: number
  /** Records the services wrote in the drain's last minute (undefined when the log could not be read). */
  readonly writtenLastMinute: number | undefined
}

/**
 * Polls until nothing waits or `deadline` (epoch ms) passed; resolves with the last standing and how many
 * messages settled in its last minute.
 *
 * @example
 * ```ts
 * const { last, settledLastMinute } = await drain(probe, Date.now() + 240_000, (line) => console.log(line))
 * ```
 */
export const drain = async (
  probe: StandingProbe,
  deadline: number,
  print: (line: string) => void,
  everyMs = 5_000,
): Promise<Drained> => {
  const started = Date.now()
  let printed = 0
  const history: Standing[] = []
  for (;;) {
    const standing = await probe.read(true)
    history.push(standing)
    if (standing.waiting === 0 || Date.now() >= deadline) {
      const minuteAgo = history.find((s) => s.at >= standing.at - 60_000) ?? standing
      const written =
        standing.logRecords === undefined || minuteAgo.logRecords === undefined
          ? undefined
          : standing.logRecords - minuteAgo.logRecords
      return {
        last: standing,
        settledLastMinute: minuteAgo.waiting - standing.waiting,
        writtenLastMinute: written,
      }
    }
    if (Date.now() - printed >= 15_000) {
      printed = Date.now()
      print(`[drain ${Math.round((Date.now() - started) / 1000)}s] ${describeStanding(standing)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
