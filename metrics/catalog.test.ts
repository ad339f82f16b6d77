/**
 * The metrics as an operator meets them, held to what the code registers: a
 * scrape of a fresh `ChorusMetrics` (not the catalog's own table) is what
 * docs/operations.md must list, and what every alert rule in
 * deploy/prometheus/ may name, with label matchers on labels the metric has
 * and values the code can write.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type { Metric } from "prom-client"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { DEAD_LETTER_REASONS } from "../bus/dead-letter.ts"
import { SignatureResult } from "../schemas/events/signature-verdict.ts"
import { ChorusMetrics, RPC_OUTCOMES, TRANSACTION_OUTCOMES } from "./chorus-metrics.ts"

const ROOT = join(import.meta.dirname, "..")
const RULES_DIR = join(ROOT, "deploy", "prometheus")

/** The values the code writes under a label, where it writes a closed set. */
const CLOSED_VALUES: Readonly<Record<string, ReadonlyArray<string>>> = {
  "chorus_rpc_requests_total.outcome": RPC_OUTCOMES,
  "chorus_submitter_transactions_total.outcome": TRANSACTION_OUTCOMES,
  "chorus_signatures_total.verdict": SignatureResult.literals,
  "chorus_dead_letters_total.reason": DEAD_LETTER_REASONS,
}

interface Exported {
  readonly type: string
  readonly labels: ReadonlyArray<string>
}

/** Every series name a process exports (a histogram's `_bucket`, `_sum` and `_count`), with its labels. */
const exported = async (): Promise<Map<string, Exported>> => {
  const metrics = new ChorusMetrics()
  const names = new Map<string, Exported>()
  for (const metric of metrics.registry.getMetricsAsArray() as Array<Metric & { labelNames?: string[] }>) {
    const { name, type } = (await metric.get()) as { name: string; type: string }
    const labels = metric.labelNames ?? []
    if (type === "histogram") {
      names.set(`${name}_bucket`, { type, labels: [...labels, "le"] })
      names.set(`${name}_sum`, { type, labels })
      names.set(`${name}_count`, { type, labels })
    }
    names.set(name, { type, labels })
  }
  return names
}

interface Rule {
  readonly alert?: string
  readonly expr?: string
  readonly labels?: { readonly severity?: string }
  readonly annotations?: { readonly summary?: string }
}

const ruleFiles = () => readdirSync(RULES_DIR).filter((f) => f.endsWith(".yml") && f !== "prometheus.yml")

const rulesOf = (file: string): ReadonlyArray<Rule & { readonly group: string }> => {
  const parsed = parse(readFileSync(join(RULES_DIR, file), "utf8")) as {
    groups?: Array<{ name: string; rules?: Rule[] }>
  }
  return (parsed.groups ?? []).flatMap((g) => (g.rules ?? []).map((r) => ({ ...r, group: g.name })))
}

/** The selectors of an expression: each metric name with its matchers. */
const selectorsOf = (expr: string) =>
  [...expr.matchAll(/\b(chorus_[a-z0-9_]+)(\{([^}]*)\})?/g)].map((m) => ({
    name: m[1]!,
    matchers: [...(m[3] ?? "").matchAll(/([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((x) => ({
      label: x[1]!,
      op: x[2]!,
      value: x[3]!,
    })),
  }))

describe("the metrics catalog against the code, the docs and the alert rules", () => {
  it("exports only chorus_ names", async () => {
    expect([...(await exported()).keys()].filter((n) => !n.startsWith("chorus_"))).toEqual([])
  })

  it("docs/operations.md lists every Chorus metric the code registers, and no other", async () => {
    const docs = readFileSync(join(ROOT, "docs", "operations.md"), "utf8")
    const own = [...(await exported()).entries()]
      .filter(
        ([name, { type }]) =>
          !/^chorus_(process|nodejs)_/.test(name) &&
          !(type === "histogram" && /_(bucket|sum|count)$/.test(name)),
      )
      .map(([name]) => name)
    const listed = new Set([...docs.matchAll(/^\| `(chorus_[a-z0-9_]+)`/gm)].map((m) => m[1]!))
    expect([...listed].sort()).toEqual([...own].sort())
    expect(listed.has("chorus_messages_delivered_total")).toBe(true)
  })

  it("has alert rules for stuck lanes, lag, low balances, RPC failures and dead letters", () => {
    const alerts = ruleFiles().flatMap(rulesOf)
    const named = (pattern: RegExp) => alerts.filter((r) => pattern.test(r.expr ?? ""))
    expect(named(/chorus_pending_messages/).length).toBeGreaterThan(0)
    expect(named(/chorus_consumer_lag_records/).length).toBeGreaterThan(0)
    expect(named(/chorus_submitter_balance_wei/).length).toBeGreaterThan(0)
    expect(named(/chorus_rpc_requests_total/).length).toBeGreaterThan(0)
    expect(named(/chorus_dead_letters_total/).length).toBeGreaterThan(0)
  })

  it("every alert rule parses, is complete, and names only exported metrics, labels and values", async () => {
    const names = await exported()
    const files = ruleFiles()
    expect(files.length).toBeGreaterThan(0)
    const problems: string[] = []
    for (const file of files) {
      const rules = rulesOf(file)
      expect(rules.length, file).toBeGreaterThan(0)
      for (const rule of rules) {
        const where = `${file} ${rule.group}/${rule.alert ?? "?"}`
        if (rule.alert === undefined || rule.expr === undefined) problems.push(`${where}: no alert or expr`)
        if (!["critical", "warning", "info"].includes(rule.labels?.severity ?? ""))
          problems.push(`${where}: severity`)
        if (rule.annotations?.summary === undefined) problems.push(`${where}: no summary`)
        const expr = rule.expr ?? ""
        let depth = 0
        for (const c of expr) depth += c === "(" ? 1 : c === ")" ? -1 : 0
        if (depth !== 0) problems.push(`${where}: unbalanced parentheses`)
        const selectors = selectorsOf(expr)
        if (selectors.length === 0) problems.push(`${where}: names no Chorus metric`)
        for (const { name, matchers } of selectors) {
          const metric = names.get(name)
          if (metric === undefined) {
            problems.push(`${where}: ${name} is not exported`)
            continue
          }
          for (const { label, op, value } of matchers) {
            if (!metric.labels.includes(label)) problems.push(`${where}: ${name} has no label ${label}`)
            const closed = CLOSED_VALUES[`${name}.${label}`]
            if (closed === undefined) continue
            const values = op.endsWith("~") ? value.split("|") : [value]
            for (const v of values)
              if (!closed.includes(v)) problems.push(`${where}: ${name}{${label}} is never "${v}"`)
          }
        }
      }
    }
    expect(problems).toEqual([])
  })
})
