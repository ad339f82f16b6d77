import { SERVICES } from "../../services/registry.ts"
import { renderMermaid, renderText } from "../../topology/index.ts"
import { type Command, UsageError } from "../command.ts"

/** `chorus topology`: the topic and service graph, as text and as Mermaid. */
export const topology: Command = {
  path: ["topology"],
  summary: "print the topics and the service graph (text and Mermaid)",
  usage: "topology [--format text|mermaid|both]",
  details: "  --format  text, mermaid, or both (default)",
  options: { format: { type: "string" } },
  async run({ values, out }) {
    const format = values.format ?? "both"
    if (format !== "text" && format !== "mermaid" && format !== "both") {
      throw new UsageError(`--format must be text, mermaid or both, got ${JSON.stringify(format)}`)
    }
    if (format !== "mermaid") out(renderText(SERVICES))
    if (format === "both") out("")
    if (format !== "text") out(["```mermaid", renderMermaid(SERVICES), "```"].join("\n"))
    return 0
  },
}
