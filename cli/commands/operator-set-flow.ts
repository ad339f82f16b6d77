/**
 * The operator-set updates as the log tells them, per hub epoch: what `chorus operators` shows under the sets.
 *
 * Pipeline: the records of the set flow's topics (`chorus.operator-sets`, `.signed`, `.attested`, and the
 * submitters' set records on `chorus.deliveries`), each from the producer that may write it (the set-watcher,
 * the operator it names, the collector, the destination's submitter; others are counted as not standing) →
 * per epoch: when and how often the hub's set was recorded, who signed it and who refused (with the reason),
 * and per destination its attestation (from which Inbox epoch, how many signers and how much stake) and what
 * its submitter did (sent, applied with its gas, or refused with the reason).
 *
 * @module
 */
import type { Envelope } from "../../schemas/index.ts"

export interface DestinationStep {
  readonly destination: number
  readonly attested: { readonly fromEpoch: number; readonly signers: number; readonly stake: string } | null
  readonly sent: ReadonlyArray<string>
  readonly applied: {
    readonly transactionHash: string
    readonly block: number
    readonly gasUsed: string
  } | null
  readonly failures: ReadonlyArray<string>
}

export interface EpochFlow {
  readonly epoch: number
  /** Hub blocks the set-watcher recorded this set at (more than one: re-announced while an Inbox lagged). */
  readonly observedAt: ReadonlyArray<number>
  readonly signedBy: ReadonlyArray<string>
  readonly refusedBy: ReadonlyArray<{
    readonly operator: string
    readonly reason: string
    readonly detail: string
  }>
  readonly destinations: ReadonlyArray<DestinationStep>
}

interface MutableDestination {
  destination: number
  attested: DestinationStep["attested"]
  sent: string[]
  applied: DestinationStep["applied"]
  failures: string[]
}

/**
 * Folds the set flow's records, in log order, into one entry per epoch, latest first. `ignored` counts records
 * from a producer that may not write them.
 *
 * @example
 * ```ts
 * const { epochs } = operatorSetFlow(envelopes)
 * epochs[0]?.destinations.map((d) => d.applied?.block)
 * ```
 */
export const operatorSetFlow = (
  envelopes: Iterable<Envelope>,
): { readonly epochs: ReadonlyArray<EpochFlow>; readonly ignored: number } => {
  const epochs = new Map<
    number,
    {
      observedAt: number[]
      signedBy: Set<string>
      refusedBy: Map<string, { operator: string; reason: string; detail: string }>
      destinations: Map<number, MutableDestination>
    }
  >()
  let ignored = 0
  const epochOf = (epoch: number) => {
    let entry = epochs.get(epoch)
    if (entry === undefined) {
      entry = { observedAt: [], signedBy: new Set(), refusedBy: new Map(), destinations: new Map() }
      epochs.set(epoch, entry)
    }
    return entry
  }
  const destinationOf = (epoch: number, destination: number) => {
    const entry = epochOf(epoch)
    let step = entry.destinations.get(destination)
    if (step === undefined) {
      step = { destination, attested: null, sent: [], applied: null, failures: [] }
      entry.destinations.set(destination, step)
    }
    return step
  }
  for (const { event, producer } of envelopes) {
    const submitterOf = (destination: number) =>
      producer.service === "submitter" && producer.instance === String(destination)
    switch (event._tag) {
      case "OperatorSetObserved":
        if (producer.service !== "set-watcher") ignored++
        else epochOf(event.epoch).observedAt.push(event.block.number)
        break
      case "OperatorSetSigned":
      case "OperatorSetRefused":
        if (producer.service !== "operator" || producer.instance.toLowerCase() !== event.operator) ignored++
        else if (event._tag === "OperatorSetSigned") epochOf(event.epoch).signedBy.add(event.operator)
        else
          epochOf(event.epoch).refusedBy.set(event.operator, {
            operator: event.operator,
            reason: event.reason,
            detail: event.detail,
          })
        break
      case "OperatorSetAttested":
        if (producer.service !== "attestation-collector") ignored++
        else
          destinationOf(event.epoch, event.destination).attested = {
            fromEpoch: event.fromEpoch,
            signers: event.signatures.length,
            stake: `${event.signedStake} of ${event.totalStake}`,
          }
        break
      case "OperatorSetSubmitted":
        if (!submitterOf(event.destination)) ignored++
        else destinationOf(event.epoch, event.destination).sent.push(event.transactionHash)
        break
      case "OperatorSetApplied":
        if (!submitterOf(event.destination)) ignored++
        else
          destinationOf(event.epoch, event.destination).applied = {
            transactionHash: event.transactionHash,
            block: event.blockNumber,
            gasUsed: event.gasUsed,
          }
        break
      case "OperatorSetUpdateFailed":
        if (!submitterOf(event.destination)) ignored++
        else destinationOf(event.epoch, event.destination).failures.push(event.reason)
        break
      default:
        break
    }
  }
  return {
    ignored,
    epochs: [...epochs.entries()]
      .sort(([a], [b]) => b - a)
      .map(([epoch, e]) => ({
        epoch,
        observedAt: e.observedAt,
        signedBy: [...e.signedBy],
        refusedBy: [...e.refusedBy.values()],
        destinations: [...e.destinations.values()].sort((a, b) => a.destination - b.destination),
      })),
  }
}

/**
 * One epoch's flow in lines, for a person.
 *
 * @example
 * ```ts
 * for (const line of describeEpochFlow(flow)) out(line)
 * ```
 */
export const describeEpochFlow = (flow: EpochFlow): ReadonlyArray<string> => {
  const observed =
    flow.observedAt.length === 0
      ? "not recorded by the set-watcher"
      : `recorded at hub block ${flow.observedAt[0]}${flow.observedAt.length > 1 ? ` (announced ${flow.observedAt.length} times: an Inbox lagged it)` : ""}`
  const lines = [
    `  epoch ${flow.epoch}: ${observed}; signed by ${flow.signedBy.length} operator(s)${flow.refusedBy.length > 0 ? `, refused by ${flow.refusedBy.length}` : ""}`,
  ]
  for (const refusal of flow.refusedBy)
    lines.push(`    refused by ${refusal.operator}: ${refusal.reason}: ${refusal.detail}`)
  for (const d of flow.destinations) {
    const attested =
      d.attested === null
        ? "not attested"
        : `attested from epoch ${d.attested.fromEpoch} (${d.attested.signers} signer(s), stake ${d.attested.stake})`
    const outcome =
      d.applied !== null
        ? `applied at block ${d.applied.block} by ${d.applied.transactionHash} (gas ${d.applied.gasUsed})`
        : d.sent.length > 0
          ? `sent ${d.sent.at(-1)}, no outcome yet`
          : "not sent"
    lines.push(`    Inbox on ${d.destination}: ${attested}; ${outcome}`)
    for (const failure of d.failures) lines.push(`      refused: ${failure}`)
  }
  return lines
}
