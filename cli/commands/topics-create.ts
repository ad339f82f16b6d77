import { ALL_TOPICS } from "../../topology/index.ts"
import type { Command } from "../command.ts"
import { BUS_DETAILS, BUS_USAGE, busOptions, openBusFromFlags } from "../open-bus.ts"

/** `chorus topics create`: creates every declared topic; a second run changes nothing and says so. */
export const topicsCreate: Command = {
  path: ["topics", "create"],
  summary: "create every topic the topology declares (idempotent)",
  usage: `topics create ${BUS_USAGE}`,
  details: BUS_DETAILS,
  options: busOptions,
  async run({ values, out }) {
    const bus = await openBusFromFlags(values)
    try {
      const result = await bus.ensureTopics(ALL_TOPICS)
      for (const name of result.created) out(`created  ${name}`)
      for (const name of result.existing) out(`exists   ${name}`)
      out(
        result.created.length === 0
          ? `All ${result.existing.length} topics already exist; nothing changed.`
          : `Created ${result.created.length} topic(s); ${result.existing.length} already existed.`,
      )
      return 0
    } finally {
      await bus.close()
    }
  },
}
