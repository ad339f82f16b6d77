/**
 * Whether a process is ready to do its work: its bus answers, the chain RPCs
 * it uses answer, and its consumer groups have caught up with the log they
 * were given. `/readyz` answers with every check, so an operator reads which
 * one failed and why without opening the logs.
 *
 * Invariant: a check that does not answer within its timeout fails, naming
 * the timeout; a check never hangs a probe.
 *
 * @module
 */
import type { BusPort } from "../bus/port.ts"
import type { ChainAccess } from "../chains/chain-access.ts"
import { TOPICS } from "../topology/index.ts"
import type { MeteredBus } from "./metered-bus.ts"

export interface ReadinessCheck {
  readonly name: string
  /** Resolves null when ready, else why not; a throw is a failure, its message the reason. */
  readonly probe: () => Promise<string | null>
}

export interface CheckResult {
  readonly name: string
  readonly ok: boolean
  readonly problem?: string
}

export interface ReadinessReport {
  readonly ready: boolean
  readonly checks: ReadonlyArray<CheckResult>
}

/** How long one check may take. */
export const CHECK_TIMEOUT_MS = 3_000

const within = async (check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> => {
  let timer: NodeJS.Timeout | undefined
  try {
    const problem = await Promise.race([
      check.probe(),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs)
      }),
    ])
    return problem === null ? { name: check.name, ok: true } : { name: check.name, ok: false, problem }
  } catch (error) {
    return { name: check.name, ok: false, problem: error instanceof Error ? error.message : String(error) }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Runs every check at once.
 *
 * @example
 * ```ts
 * await readiness([busAnswers(bus), caughtUp(bus)]) // { ready: false, checks: [{ name: "bus", ok: true }, …] }
 * ```
 */
export const readiness = async (
  checks: ReadonlyArray<ReadinessCheck>,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<ReadinessReport> => {
  const results = await Promise.all(checks.map((check) => within(check, timeoutMs)))
  return { ready: results.every((r) => r.ok), checks: results }
}

/** The bus answers: it can say how many partitions a topic every cluster has holds. */
export const busAnswers = (bus: BusPort): ReadinessCheck => ({
  name: "bus",
  probe: async () => {
    await bus.partitions(TOPICS.messagesObserved.name)
    return null
  },
})

/** Each chain's RPC answers its latest head (through the chain's fallback URLs, as the services read it). */
export const rpcAnswers = (
  chains: ChainAccess,
  chainIds: ReadonlyArray<number>,
): ReadonlyArray<ReadinessCheck> =>
  chainIds.map((chainId) => ({
    name: `rpc ${chainId}`,
    probe: async () => {
      await chains.reader(chainId).latestHead()
      return null
    },
  }))

/** Every consumer group of the process reached the end of the log it was assigned. */
export const caughtUp = (bus: MeteredBus): ReadinessCheck => ({
  name: "caught-up",
  probe: async () => {
    const behind = bus.behind()
    if (behind.length === 0) return null
    const more = behind.length > 5 ? ` (and ${behind.length - 5} more)` : ""
    return `${behind.slice(0, 5).join("; ")}${more}`
  },
})
