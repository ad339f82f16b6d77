import type { Progress } from "./tracker.ts"
import { percentile } from "./tracker.ts"

const STAGES = ["sent", "observed", "proven", "attested", "committed", "delivered", "failed"] as const

const seconds = (ms: number | null) => (ms === null ? "–" : `${(ms / 1000).toFixed(1)}s`)

const bar = (done: number, total: number, width = 24) => {
  const filled = total === 0 ? 0 : Math.round((done / total) * width)
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`
}

/**
 * The live view, one line per stage, for a terminal.
 *
 * @example
 * ```ts
 * renderProgressBlock(progress, { target: 60, elapsedMs: 12_000, title: "embedded bus" })
 * ```
 */
export const renderProgressBlock = (
  progress: Progress,
  context: { readonly target: number; readonly elapsedMs: number; readonly title: string },
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
  context: { readonly target: number; readonly elapsedMs: number },
): string => {
  const { counts, latenciesMs } = progress
  return (
    `[devnet ${Math.round(context.elapsedMs / 1000)}s] ` +
    STAGES.map(
      (s) => `${s} ${counts[s]}${s === "sent" || s === "delivered" ? `/${context.target}` : ""}`,
    ).join(" · ") +
    ` · p50 ${seconds(percentile(latenciesMs, 0.5))} p99 ${seconds(percentile(latenciesMs, 0.99))}` +
    (progress.stalls.length > 0 ? ` · stalled: ${progress.stalls.join("; ")}` : "")
  )
}
