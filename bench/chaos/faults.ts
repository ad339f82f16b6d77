/**
 * The faults a chaos run can inject, by name, and `--faults` parsing.
 *
 * Each fault is switchable so a run can isolate one: `--faults all` (the
 * default), a list (`--faults kill,rewrite`), a group (`hostile`), `none`
 * (a clean baseline), and exclusions (`--faults all,-rewrite`).
 *
 * @module
 */

/** Every fault, with what it does; the order is the order they are printed in. */
export const FAULTS = {
  kill: "kill -9 of every service process at a random time (each at least once), then a restart",
  broker:
    "a restart of the Kafka broker, or a kill -9 of one of three (Kafka only; see --kafka-node-dir, --kafka-brokers)",
  "rpc-errors":
    "10% of every service's RPC requests fail (HTTP 5xx or a JSON-RPC error); 0-400 ms latency on all",
  "drop-logs": "one chain-watcher's RPC drops 20% of the Outbox's logs from eth_getLogs answers",
  "lost-sends": "10% of the submitters' eth_sendRawTransaction answers are lost (the transaction is sent)",
  reorg: "a reorg above finality (the unfinalized blocks, their transactions re-included) on one chain",
  rewrite:
    "a rewrite below finality on another chain (6 blocks or more, down below its watcher's cursor; their transactions re-included after a marker): its watcher must halt",
  liar: "one operator's RPC lies on half of its eth_call and block answers",
  offline: "one operator is offline (never started) for the whole run",
  "gas-burner": "messages to a GasBurnerRecipient (burns its whole gas limit)",
  "return-bomb": "messages to a ReturnBombRecipient reverting with 1 MiB of data",
  reentrant: "messages to a ReentrantRecipient that calls back into the Inbox",
  "no-code": "messages to an address with no code",
  "max-gas": "pairs of messages asking 15M gas each (the Outbox's maximum), sent back to back on one lane",
  garbage:
    "1,000 garbage records on the bus topics (random bytes, bad JSON, bad or missing signatures, wrong producers)",
} as const

export type FaultName = keyof typeof FAULTS

export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[]

/** Names that stand for several faults. */
export const FAULT_GROUPS: Readonly<Record<string, ReadonlyArray<FaultName>>> = {
  all: FAULT_NAMES,
  none: [],
  hostile: ["gas-burner", "return-bomb", "reentrant", "no-code", "max-gas"],
  chains: ["reorg", "rewrite"],
  operators: ["liar", "offline"],
  rpc: ["rpc-errors", "drop-logs", "lost-sends", "liar"],
}

/** A `--faults` value that names no fault. */
export class UnknownFaultError extends Error {
  override readonly name = "UnknownFaultError"
}

const expand = (name: string): ReadonlyArray<FaultName> => {
  const group = FAULT_GROUPS[name]
  if (group !== undefined) return group
  if ((FAULT_NAMES as ReadonlyArray<string>).includes(name)) return [name as FaultName]
  throw new UnknownFaultError(
    `--faults: unknown fault ${JSON.stringify(name)}; known: ${[...FAULT_NAMES, ...Object.keys(FAULT_GROUPS)].join(", ")}`,
  )
}

/**
 * The faults a `--faults` value selects: names and groups, comma-separated, applied left to right; `-name`
 * removes. A list that starts with a removal starts from `all`.
 *
 * @example
 * ```ts
 * parseFaults("all,-rewrite").has("rewrite") // false
 * parseFaults("kill,hostile").size // 6
 * ```
 */
export const parseFaults = (value: string): ReadonlySet<FaultName> => {
  const parts = value
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")
  if (parts.length === 0)
    throw new UnknownFaultError("--faults: give fault names, e.g. --faults all or --faults kill,reorg")
  const selected = new Set<FaultName>(parts[0]!.startsWith("-") ? FAULT_NAMES : [])
  for (const part of parts) {
    if (part.startsWith("-")) for (const name of expand(part.slice(1))) selected.delete(name)
    else for (const name of expand(part)) selected.add(name)
  }
  return selected
}

/** The selected faults in their canonical order, comma-separated (`none` for none). */
export const describeFaults = (faults: ReadonlySet<FaultName>): string =>
  faults.size === 0 ? "none" : FAULT_NAMES.filter((f) => faults.has(f)).join(",")
