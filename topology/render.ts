/**
 * Draws the service graph from the declarations, as text and as Mermaid.
 *
 * @module
 */
import { type ServiceDeclaration, TOOLS } from "./services.ts"
import { ALL_TOPICS } from "./topics.ts"

/**
 * The topics, services and operator tools as an aligned text listing.
 *
 * @example
 * ```ts
 * console.log(renderText(SERVICES))
 * ```
 */
export const renderText = (services: ReadonlyArray<ServiceDeclaration>): string => {
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
  for (const s of services) {
    lines.push(`  ${s.name}  (${s.group === null ? "no consumer group" : `group ${s.group}`})`)
    lines.push(`    consumes ${s.consumes.join(", ") || "-"}`)
    lines.push(`    reads    ${s.reads.join(", ") || "-"}`)
    lines.push(`    writes   ${s.writes.join(", ") || "- (read-only)"}`)
    lines.push(`    outside  ${s.external}`)
  }
  lines.push("", "Tools", "")
  for (const t of TOOLS) {
    lines.push(`  ${t.command}  (no consumer group)`)
    lines.push(`    reads   ${t.reads.join(", ") || "-"}`)
    lines.push(`    writes  ${t.writes.join(", ") || "-"}`)
  }
  return lines.join("\n")
}

const nodeId = (name: string) => name.replace(/[^A-Za-z0-9]/g, "_")
/** A tool's command without its arguments and flags: `chorus chain resume <chainId> --from …` → `chorus chain resume`. */
const commandWords = (command: string) => {
  const words = command.split(" ")
  const first = words.findIndex((word) => word.startsWith("<") || word.startsWith("-"))
  return words.slice(0, first < 0 ? words.length : first).join(" ")
}
// Tools get a prefix so that a tool and a service of the same name stay two nodes.
const toolId = (name: string) => `tool_${nodeId(name)}`

/**
 * The graph as a Mermaid flowchart: services as boxes, topics as cylinders,
 * operator tools as hexagons.
 *
 * @example
 * ```ts
 * console.log(renderMermaid(SERVICES)) // "flowchart LR\n  …"
 * ```
 */
export const renderMermaid = (services: ReadonlyArray<ServiceDeclaration>): string => {
  const lines = ["flowchart LR"]
  for (const t of ALL_TOPICS) lines.push(`  ${nodeId(t.name)}[("${t.name}")]`)
  for (const s of services) lines.push(`  ${nodeId(s.name)}["${s.name}"]`)
  // The label is the command without its arguments: Mermaid reads `<…>` in a label as HTML.
  for (const t of TOOLS) lines.push(`  ${toolId(t.name)}{{"${commandWords(t.command)}"}}`)
  for (const s of services) {
    // A group consumer and a range reader both take from the topic; the graph draws both as reads.
    for (const topic of new Set([...s.consumes, ...s.reads]))
      lines.push(`  ${nodeId(topic)} --> ${nodeId(s.name)}`)
    for (const topic of s.writes) lines.push(`  ${nodeId(s.name)} --> ${nodeId(topic)}`)
  }
  for (const t of TOOLS) {
    for (const topic of t.reads) lines.push(`  ${nodeId(topic)} -.-> ${toolId(t.name)}`)
    for (const topic of t.writes) lines.push(`  ${toolId(t.name)} -.-> ${nodeId(topic)}`)
  }
  return lines.join("\n")
}
