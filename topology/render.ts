/**
 * Draws the service graph from the declarations, as text and as Mermaid.
 *
 * @module
 */
import { SERVICES } from "./services.ts"
import { ALL_TOPICS } from "./topics.ts"

/**
 * The topics and services as an aligned text listing.
 *
 * @example
 * ```ts
 * console.log(renderText())
 * ```
 */
export const renderText = (): string => {
  const lines: string[] = ["Topics", ""]
  const width = Math.max(...ALL_TOPICS.map((t) => t.name.length))
  for (const t of ALL_TOPICS) {
    const retention = t.retentionMs < 0 ? "forever" : `${Math.round(t.retentionMs / 86_400_000)}d`
    lines.push(
      `  ${t.name.padEnd(width)}  ${String(t.partitions).padStart(2)} partitions  key=${t.key}  ${t.cleanupPolicy}  retention=${retention}`,
    )
    lines.push(`  ${"".padEnd(width)}  ${t.description}`)
  }
  lines.push("", "Services", "")
  for (const s of SERVICES) {
    lines.push(`  ${s.name}  (group ${s.group})`)
    lines.push(`    reads   ${s.reads.join(", ") || "-"}`)
    lines.push(`    writes  ${s.writes.join(", ")}`)
    lines.push(`    outside ${s.external}`)
  }
  return lines.join("\n")
}

const nodeId = (name: string) => name.replace(/[^A-Za-z0-9]/g, "_")

/**
 * The graph as a Mermaid flowchart: services as boxes, topics as cylinders.
 *
 * @example
 * ```ts
 * console.log(renderMermaid()) // "flowchart LR\n  …"
 * ```
 */
export const renderMermaid = (): string => {
  const lines = ["flowchart LR"]
  for (const t of ALL_TOPICS) lines.push(`  ${nodeId(t.name)}[("${t.name}")]`)
  for (const s of SERVICES) lines.push(`  ${nodeId(s.name)}["${s.name}"]`)
  for (const s of SERVICES) {
    for (const topic of s.reads) lines.push(`  ${nodeId(topic)} --> ${nodeId(s.name)}`)
    for (const topic of s.writes) lines.push(`  ${nodeId(s.name)} --> ${nodeId(topic)}`)
  }
  return lines.join("\n")
}
