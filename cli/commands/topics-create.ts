import { ALL_TOPICS } from "../../topology/index.ts"
import { busCommand } from "../open-bus.ts"

/** `chorus topics create`: creates every declared topic; a second run changes nothing and says so. */
export const topicsCreate = busCommand(
  ["topics", "create"],
  "create every topic the topology declares (idempotent)",
  async (bus, { out }) => {
    const result = await bus.ensureTopics(ALL_TOPICS)
    for (const name of result.created) out(`created  ${name}`)
    for (const name of result.existing) out(`exists   ${name}`)
    out(
      result.created.length === 0
        ? `All ${result.existing.length} topics already exist; nothing changed.`
        : `Created ${result.created.length} topic(s); ${result.existing.length} already existed.`,
    )
    return 0
  },
)
