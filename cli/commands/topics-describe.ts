import { ALL_TOPICS } from "../../topology/index.ts"
import type { Command } from "../command.ts"
import { BUS_DETAILS, BUS_USAGE, busOptions, openBusFromFlags } from "../open-bus.ts"

/** `chorus topics describe`: every declared topic with its partitions and record counts. */
export const topicsDescribe: Command = {
  path: ["topics", "describe"],
  summary: "show each declared topic's partitions and offsets on a bus",
  usage: `topics describe ${BUS_USAGE}`,
  details: BUS_DETAILS,
  options: busOptions,
  async run({ values, out }) {
    const bus = await openBusFromFlags(values)
    try {
      let missing = 0
      for (const topic of ALL_TOPICS) {
        let marks: Awaited<ReturnType<typeof bus.watermarks>>
        try {
          marks = await bus.watermarks(topic.name)
        } catch (error) {
          missing++
          out(`${topic.name}  missing (${(error as Error).message.split("\n")[0]})`)
          continue
        }
        const records = marks.reduce((sum, m) => sum + (m.high - m.low), 0)
        out(`${topic.name}  ${marks.length} partitions  ${records} records  ${topic.cleanupPolicy}`)
        for (const m of marks) out(`  partition ${m.partition}  offsets ${m.low}..${m.high}`)
      }
      if (missing > 0) out(`${missing} declared topic(s) missing: run \`chorus topics create\`.`)
      return missing > 0 ? 1 : 0
    } finally {
      await bus.close()
    }
  },
}
