import { ALL_TOPICS } from "../../topology/index.ts"
import { busCommand } from "../open-bus.ts"

/** `chorus topics describe`: every declared topic with its partitions and record counts. */
export const topicsDescribe = busCommand(
  ["topics", "describe"],
  "show each declared topic's partitions and offsets on a bus",
  async (bus, { out }) => {
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
  },
)
