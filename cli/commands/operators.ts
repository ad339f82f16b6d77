/**
 * `chorus operators`: the operator set where it lives and what each operator did.
 *
 * Pipeline: the config (`--config`, or a devnet's `config.json` beside `--data-dir`) → the hub registry's
 * set at the hub's latest block, and each configured chain's Inbox epoch and set at its latest block (each
 * chain's own RPC, through `chains/`) → the set flow's topics (`operator-set-flow.ts`): per hub epoch, who
 * signed the update and who refused, and per Inbox its attestation and its submitter's transaction → the audit
 * index (caught up from the log) → per operator: its signatures, refusals by reason, the collector's verdicts
 * by result, and evidence against it.
 *
 * An Inbox whose epoch is below the hub's is behind: the update to the hub's epoch is pending. A chain
 * whose RPC does not answer is reported as such, and the rest is still shown (exit 1).
 *
 * @module
 */

import { readEvents } from "../../bus/events/index.ts"
import type { InboxOperatorSet } from "../../chains/chain-access.ts"
import { makeChainAccess } from "../../chains/index.ts"
import type { Envelope } from "../../schemas/index.ts"
import type { OperatorRecordRow } from "../../services/auditor/index-store.ts"
import { TOPICS } from "../../topology/index.ts"
import { trustedConfig } from "../bus-trust.ts"
import { type Command, flags, UsageError } from "../command.ts"
import { AUDIT_DETAILS, auditOptions, openAudit, unreadableWarning } from "../open-audit.ts"
import { BUS_DETAILS, BUS_USAGE } from "../open-bus.ts"
import { describeEpochFlow, operatorSetFlow } from "./operator-set-flow.ts"

/** One chain's view of the set: the hub's registry, or an Inbox; or why it could not be read. */
export type SetView =
  | {
      readonly chainId: number
      readonly where: "registry" | "inbox"
      readonly address: string
      readonly block: number
      readonly set: InboxOperatorSet
    }
  | {
      readonly chainId: number
      readonly where: "registry" | "inbox"
      readonly address: string
      readonly error: string
    }

const pct = (bps: number) => `${(bps / 100).toFixed(2)}%`

const describeSet = (set: InboxOperatorSet) => {
  const total = set.operators.reduce((sum, o) => sum + BigInt(o.weight), 0n)
  return `epoch ${set.epoch}, threshold ${pct(set.thresholdBps)}, ${set.operators.length} operator(s), total stake ${total}`
}

const describeRecord = (record: OperatorRecordRow) => {
  const counts = (tally: Readonly<Record<string, number>>) =>
    Object.entries(tally)
      .map(([key, n]) => `${key} ${n}`)
      .join(", ")
  return [
    `signed ${record.signed}`,
    `refused ${Object.values(record.refused).reduce((a, b) => a + b, 0)}${
      Object.keys(record.refused).length > 0 ? ` (${counts(record.refused)})` : ""
    }`,
    `verdicts: ${Object.keys(record.verdicts).length > 0 ? counts(record.verdicts) : "none"}`,
    `evidence ${record.evidence.length}`,
  ].join("; ")
}

/** `chorus operators`: the set on the hub and on every Inbox, any pending update, and each operator's record. */
export const operators: Command = {
  path: ["operators"],
  summary:
    "show the operator set on the hub and on each Inbox (epoch, pending update), and each operator's record and evidence",
  usage: `operators ${BUS_USAGE} [--config <file>] [--json] [--index <file>]`,
  details: [
    BUS_DETAILS,
    AUDIT_DETAILS,
    "  --json                   one JSON object per line: each chain's set (`kind: \"set\"`), each epoch's update",
    '                           as the log tells it (`kind: "update"`), then each operator\'s record (`kind: "operator"`)',
    "",
    "The hub registry (network.registry on network.registryChainId) is the one source of the set; an Inbox",
    "whose epoch is below it is behind, and the update to the hub's epoch is pending there. Each operator's",
    "record comes from the log: its signatures and refusals, the collector's verdicts on its signatures",
    "(accepted, late, duplicate, unknown-signer, stale-epoch, invalid), and evidence on chorus.evidence: of",
    "equivocation (its signatures over two roots for one lane and count: the pair OperatorRegistry.proveEquivocation",
    "takes), and of invalid attestation (its signature over a root its source chain never had at that count, which",
    "the source chain's CheckpointFraudProofs shows, and OperatorRegistry.proveInvalidAttestation for a hub lane).",
    "Each update to an epoch is shown as the log tells it: when the set-watcher recorded the hub's set (again while",
    "an Inbox lagged it), which operators signed it and which refused and why, and per Inbox the collector's",
    "attestation and the submitter's transaction (applied with its gas, or refused with the reason).",
    "Exit 1 when a chain's RPC did not answer (the rest is still shown).",
  ].join("\n"),
  options: { ...auditOptions, ...flags({ switches: ["json"] }) },
  async run({ values, out, err }) {
    const config = trustedConfig(values)
    if (config === undefined)
      throw new UsageError(
        "give --config <file> (or a devnet's --data-dir): the chains and the hub registry come from it",
      )
    const chains = makeChainAccess(config)
    const hubId = config.network.registryChainId
    const read = async (chainId: number, where: "registry" | "inbox", address: string): Promise<SetView> => {
      try {
        const reader = chains.reader(chainId)
        const block = await reader.latestHead()
        const set =
          where === "registry"
            ? await reader.registry(config.network.registry).operatorSet(block)
            : await reader.inbox(address as never).operatorSet(block)
        return { chainId, where, address, block: block.number, set }
      } catch (error) {
        return { chainId, where, address, error: error instanceof Error ? error.message : String(error) }
      }
    }
    if (!config.chains.some((c) => c.chainId === hubId))
      throw new UsageError(
        `the hub chain ${hubId} (network.registryChainId) is not among the config's chains`,
      )
    const views = await Promise.all([
      read(hubId, "registry", config.network.registry),
      ...config.chains.map((c) => read(c.chainId, "inbox", c.inbox)),
    ])
    const audit = await openAudit(values, err)
    try {
      const warning = unreadableWarning(audit.store)
      if (warning !== undefined) err(warning)
      const records = audit.store.operatorRecords()
      const flowRecords: Envelope[] = []
      for (const topic of [
        TOPICS.operatorSets.name,
        TOPICS.operatorSetsSigned.name,
        TOPICS.operatorSetsAttested.name,
        TOPICS.deliveries.name,
      ])
        for await (const read of readEvents(audit.bus, { topic, from: "earliest" }))
          if (read.ok && read.envelope.event._tag.startsWith("OperatorSet")) flowRecords.push(read.envelope)
      flowRecords.sort((a, b) => a.time.localeCompare(b.time))
      const flow = operatorSetFlow(flowRecords)
      const hub = views[0]!
      const hubEpoch = "set" in hub ? hub.set.epoch : undefined
      const pendingOf = (view: SetView) =>
        view.where === "inbox" && "set" in view && hubEpoch !== undefined && view.set.epoch < hubEpoch
          ? hubEpoch
          : null
      if (values.json === true) {
        for (const view of views) out(JSON.stringify({ kind: "set", ...view, pendingEpoch: pendingOf(view) }))
        for (const epoch of flow.epochs) out(JSON.stringify({ kind: "update", ...epoch }))
        for (const record of records) out(JSON.stringify({ kind: "operator", ...record }))
      } else {
        for (const view of views) {
          const label = `${view.where === "registry" ? "hub registry" : "Inbox"} on ${view.chainId} (${view.address})`
          if (!("set" in view)) {
            out(`${label}: not read: ${view.error}`)
            continue
          }
          const pending = pendingOf(view)
          const standing =
            view.where !== "inbox" || hubEpoch === undefined
              ? ""
              : view.set.epoch === 0
                ? " (no set yet: its owner gives the first with setOperatorSet)"
                : view.set.epoch > hubEpoch
                  ? ` (ahead of the hub's epoch ${hubEpoch}: a set the hub does not show)`
                  : pending === null
                    ? " (up to date with the hub)"
                    : ` (behind the hub: update to epoch ${pending} pending)`
          out(`${label} at block ${view.block}: ${describeSet(view.set)}${standing}`)
          if (view.where === "registry")
            for (const o of view.set.operators) out(`  ${o.address}  weight ${o.weight}`)
        }
        if (flow.epochs.length > 0) out("operator-set updates on the log (latest first):")
        for (const epoch of flow.epochs.slice(0, 5)) for (const line of describeEpochFlow(epoch)) out(line)
        if (flow.epochs.length > 5)
          out(`  … and ${flow.epochs.length - 5} earlier epoch(s) (--json shows all)`)
        if (flow.ignored > 0)
          err(
            `warning: ${flow.ignored} set record(s) from a producer that may not write them were not counted`,
          )
        const members = new Set("set" in hub ? hub.set.operators.map((o) => o.address.toLowerCase()) : [])
        out(
          records.length === 0 ? "no operator has signed or refused anything on the log yet" : "on the log:",
        )
        for (const record of records) {
          out(
            `  ${record.operator}${members.size > 0 && !members.has(record.operator) ? " (not in the hub's set)" : ""}: ${describeRecord(record)}`,
          )
          for (const evidence of record.evidence)
            out(
              evidence.detail.kind === "invalid-attestation"
                ? `    EVIDENCE: signed root ${evidence.detail.root} for checkpoint #${evidence.count} of lane ${evidence.lane}, which its source chain holds as ${evidence.detail.chainRoot} (block ${evidence.detail.sourceBlock}), ${evidence.topic}[${evidence.partition}]@${evidence.offset}`
                : `    EVIDENCE: two roots for checkpoint #${evidence.count} of lane ${evidence.lane} (${evidence.detail.root} and ${evidence.detail.otherRoot}), ${evidence.topic}[${evidence.partition}]@${evidence.offset}`,
            )
        }
      }
      return views.some((view) => !("set" in view)) ? 1 : 0
    } finally {
      await audit.close()
    }
  },
}
