import type { Progress, Stage } from "./tracker.ts"
import { percentile, TRACKED_STAGES } from "./tracker.ts"

const STAGES: ReadonlyArray<Stage> = ["sent", ...TRACKED_STAGES]

const seconds = (ms: number | null) => (ms === null ? "–" : `${(ms / 1000).toFixed(1)}s`)

/** Messages addressed to the closed GatedRecipients (`--reverting`): how many were sent, how many failed. */
export interface GatedCounts {
  readonly sent: number
  readonly failed: number
}

const gatedNote = (gated: GatedCounts | undefined) =>
  gated === undefined || gated.sent === 0
    ? ""
    : `${gated.failed} of the ${gated.sent} sent to closed GatedRecipients, expected`

const bar = (done: number, total: number, width = 24) => {
  const filled = total === 0 ? 0 : Math.round((done / total) * width)
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`
}

/**
 * The live view, one line per stage, for a terminal.
 *
 * @example
 * ```ts
 * renderProgressBlock(progress, { target: 60, elapsedMs: 12_000, title: "embedded bus", gated: { sent: 6, failed: 6 } })
 * ```
 */
export const renderProgressBlock = (
  progress: Progress,
  context: {
    readonly target: number
    readonly elapsedMs: number
    readonly title: string
    readonly gated?: GatedCounts
  },
): string[] => {
  const { counts, latenciesMs } = progress
  const lines = [`chorus devnet · ${context.title} · ${Math.round(context.elapsedMs / 1000)}s`]
  for (const stage of STAGES) {
    const value = counts[stage]
    let line = `  ${stage.padEnd(10)} ${String(value).padStart(6)}/${context.target}`
    if (stage === "sent" || stage === "delivered") line += `  ${bar(value, context.target)}`
    if (stage === "delivered") {
      const pct = context.target === 0 ? 100 : Math.floor((value / context.target) * 100)
      line += ` ${String(pct).padStart(3)}%  p50 ${seconds(percentile(latenciesMs, 0.5))}  p99 ${seconds(percentile(latenciesMs, 0.99))}`
    }
    const note = stage === "failed" ? gatedNote(context.gated) : ""
    if (note !== "") line += `  ${note}`
    lines.push(line)
  }
  if (progress.duplicates > 0)
    lines.push(`  !! ${progress.duplicates} message(s) reported delivered more than once`)
  for (const stall of progress.stalls) lines.push(`  !! lane ${stall}`)
  return lines
}

/**
 * The same view as a single line, for logs and CI output.
 *
 * @example
 * ```ts
 * renderProgressLine(progress, { target: 60, elapsedMs: 12_000 })
 * // "[devnet 12s] sent 60/60 · observed 60 · … · delivered 50/60 · failed 0 · p50 3.2s p99 5.1s"
 * ```
 */
export const renderProgressLine = (
  progress: Progress,
  context: { readonly target: number; readonly elapsedMs: number; readonly gated?: GatedCounts },
): string => {
  const note = gatedNote(context.gated)
  const { counts, latenciesMs } = progress
  return (
    `[devnet ${Math.round(context.elapsedMs / 1000)}s] ` +
    STAGES.map(
      (s) =>
        `${s} ${counts[s]}${s === "sent" || s === "delivered" ? `/${context.target}` : ""}` +
        (s === "failed" && note !== "" ? ` (${note})` : ""),
    ).join(" · ") +
    ` · p50 ${seconds(percentile(latenciesMs, 0.5))} p99 ${seconds(percentile(latenciesMs, 0.99))}` +
    (progress.stalls.length > 0 ? ` · stalled: ${progress.stalls.join("; ")}` : "")
  )
}
