import type { Envelope } from "../../schemas/index.ts"
import type { EventDifference, ShadowDiffReport } from "../../services/replay/index.ts"
import { type Command, flags, UsageError } from "../command.ts"
import { BUS_DETAILS, BUS_USAGE, busOptions, withBus } from "../open-bus.ts"

/** Fields shown per changed event in the text report (`--json` has them all). */
const FIELDS_SHOWN = 20
const VALUE_WIDTH = 100

const show = (value: unknown): string => {
  if (value === undefined) return "(absent)"
  const text = JSON.stringify(value)
  return text.length > VALUE_WIDTH ? `${text.slice(0, VALUE_WIDTH - 1)}…` : text
}

const envelopeJson = (envelope: {
  id: string
  type: string
  key: string
  causationId: string | null
  correlationId: string | null
  time: string
}) => ({
  id: envelope.id,
  type: envelope.type,
  key: envelope.key,
  causationId: envelope.causationId,
  correlationId: envelope.correlationId,
  time: envelope.time,
})

const differenceJson = (difference: EventDifference) => {
  switch (difference.kind) {
    case "missing":
      return {
        kind: "missing",
        messages: difference.messages,
        production: envelopeJson(difference.production),
      }
    case "extra":
      return { kind: "extra", messages: difference.messages, shadow: envelopeJson(difference.shadow) }
    case "changed":
      return {
        kind: "changed",
        messages: difference.messages,
        production: envelopeJson(difference.production),
        shadow: envelopeJson(difference.shadow),
        fields: difference.fields.map((f) => ({
          path: f.path,
          production: f.production ?? null,
          shadow: f.shadow ?? null,
          ...(f.production === undefined ? { absentIn: "production" } : {}),
          ...(f.shadow === undefined ? { absentIn: "shadow" } : {}),
        })),
      }
  }
}

/**
 * The report as JSON: what was compared, the counts, and each difference.
 *
 * @example
 * ```ts
 * out(JSON.stringify(diffReportJson(report)))
 * ```
 */
export const diffReportJson = (report: ShadowDiffReport) => ({
  productionTopic: report.productionTopic,
  shadowTopic: report.shadowTopic,
  replay: {
    suffix: report.manifest.suffix,
    service: report.manifest.service,
    instances: report.manifest.instances.map((i) => i.instance),
    window: report.manifest.window,
    chorusVersion: report.manifest.chorusVersion,
    createdAt: report.manifest.createdAt,
  },
  scope: report.scope,
  counts: report.diff.counts,
  undecodable: report.undecodable,
  differences: report.diff.differences.map(differenceJson),
})

/**
 * The report as text: counts, then each difference with the messages it affects.
 *
 * @example
 * ```ts
 * for (const line of renderDiffReport(report, scopeOf)) out(line)
 * ```
 */
export const renderDiffReport = (
  report: ShadowDiffReport,
  scopeOf: (envelope: Envelope) => string,
): string[] => {
  const { manifest, diff, scope } = report
  const c = diff.counts
  const lines = [
    `chorus diff ${report.productionTopic} ${report.shadowTopic}`,
    `  replay     ${manifest.service} (${manifest.instances.map((i) => i.instance).join(", ")}) · --from ${manifest.window.from} --to ${manifest.window.to} · ${scope.inputs} input(s) · chorus ${manifest.chorusVersion} · ${manifest.createdAt}`,
    `  production ${c.production} event(s) caused by the replayed inputs (${scope.productionOutOfScope} other event(s) on the topic out of scope${c.productionDuplicates > 0 ? `, ${c.productionDuplicates} duplicate copies` : ""})`,
    ...(scope.productionNotReplayed.count > 0
      ? [
          `  not compared: ${scope.productionNotReplayed.count} event(s) the replay does not make again: ${scope.productionNotReplayed.reason}`,
        ]
      : []),
    `  shadow     ${c.shadow} event(s)${c.shadowDuplicates > 0 ? ` (${c.shadowDuplicates} duplicate copies)` : ""}${scope.compactedAway > 0 ? `, ${scope.compactedAway} no longer in production (compacted away by a later one with the same key)` : ""}`,
    `  result     ${c.identical} identical · ${c.changed} changed · ${c.missing} missing · ${c.extra} extra`,
  ]
  for (const u of report.undecodable) {
    lines.push(
      `  warning    ${u.topic} partition ${u.partition} offset ${u.offset} does not decode, not compared: ${u.error}`,
    )
  }
  if (diff.differences.length === 0) {
    lines.push("no differences: the replay reproduced production for every replayed input")
    return lines
  }
  for (const difference of diff.differences) {
    const subject = difference.kind === "extra" ? difference.shadow : difference.production
    lines.push("")
    lines.push(`${difference.kind.padEnd(8)} ${subject.type} · ${scopeOf(subject)}`)
    switch (difference.kind) {
      case "missing":
        lines.push(
          `         in production only: ${difference.production.id} (cause ${difference.production.causationId})`,
        )
        break
      case "extra":
        lines.push(
          `         in the shadow only: ${difference.shadow.id} (cause ${difference.shadow.causationId})`,
        )
        break
      case "changed":
        lines.push(
          `         production ${difference.production.id} → shadow ${difference.shadow.id} (cause ${difference.production.causationId})`,
        )
        break
    }
    lines.push(
      `         messages ${difference.messages.length === 0 ? "(none: the event is about no message)" : difference.messages.join(", ")}`,
    )
    if (difference.kind === "changed") {
      for (const field of difference.fields.slice(0, FIELDS_SHOWN)) {
        lines.push(`         ${field.path}: ${show(field.production)} → ${show(field.shadow)}`)
      }
      if (difference.fields.length > FIELDS_SHOWN) {
        lines.push(
          `         … and ${difference.fields.length - FIELDS_SHOWN} more field(s) (--json lists every one)`,
        )
      }
    }
  }
  return lines
}

/**
 * `chorus diff <production-topic> <shadow-topic>`: compares a replay's shadow
 * topic with production, event by event, over the inputs the replay
 * replayed. Exit code 0: no difference; 1: differences; 2: usage.
 */
export const diff: Command = {
  path: ["diff"],
  summary: "compare a replay's shadow topic with its production topic, event by event",
  usage: `diff <production-topic> <shadow-topic> ${BUS_USAGE} [--json]`,
  details: [
    "  <production-topic>    e.g. chorus.messages.proven",
    "  <shadow-topic>        what `chorus replay` wrote, e.g. shadow.proof-builder-20261121T160200.chorus.messages.proven",
    BUS_DETAILS,
    "  --json                the report as JSON",
    "",
    "Only production events caused by the inputs the replay replayed (its manifest, shadow.<suffix>.manifest) and",
    "written by the replayed service instances are compared. Equal ids are equal events (ids hash type, version,",
    "cause and payload). The others are paired by cause, type, key and order: a pair is `changed`, with each payload",
    "field that differs; the rest are `missing` (production only) or `extra` (shadow only). Each names its messages.",
    "Exit code: 0 no difference, 1 differences, 2 usage.",
  ].join("\n"),
  options: { ...busOptions, ...flags({ switches: ["json"] }) },
  positionals: ["production-topic", "shadow-topic"],
  async run({ values, positionals, out }) {
    const [productionTopic, shadowTopic] = positionals
    if (productionTopic === undefined || shadowTopic === undefined) {
      throw new UsageError("give the production topic and the shadow topic to compare")
    }
    const lib = await import("../../services/replay/index.ts")
    const report: ShadowDiffReport = await withBus(values, (bus) =>
      lib.diffShadowTopic(bus, { productionTopic, shadowTopic }),
    ).catch((error: unknown) => {
      if (error instanceof lib.DiffRefusedError || error instanceof lib.ManifestNotFoundError) {
        throw new UsageError(error.message)
      }
      throw error
    })
    if (values.json === true) out(JSON.stringify(diffReportJson(report)))
    else for (const line of renderDiffReport(report, lib.scopeOf)) out(line)
    return lib.isEmptyDiff(report) ? 0 : 1
  },
}
