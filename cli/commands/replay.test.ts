import { describe, expect, it } from "vitest"
import { TOPICS } from "../../topology/index.ts"
import { undecodableWarning } from "./replay.ts"

describe("chorus replay's warning about records it could not decode", () => {
  it("given garbage on a consumed topic and on the recorded reads, then it says which were dead-lettered and which were only skipped", () => {
    const lines = undecodableWarning({
      counts: { before: 0, replayed: 5, duplicates: 0, undecodable: 37, outputs: 3 },
      undecodableByTopic: { [TOPICS.messagesObserved.name]: 1, [TOPICS.laneReads.name]: 36 },
      undecodable: [{ topic: TOPICS.laneReads.name, partition: 2, offset: 7, error: "not a Chorus event" }],
    })
    expect(lines).toEqual([
      "warning: 37 record(s) did not decode and were not folded:",
      "  1 on chorus.messages.observed: production's consumers dead-lettered them (chorus.dead-letters)",
      "  36 on chorus.lane.reads: skipped; no consumer group reads chorus.lane.reads, so nothing dead-lettered them",
      "first:",
      "  chorus.lane.reads partition 2 offset 7: not a Chorus event",
    ])
  })

  it("given nothing undecodable, then it says nothing", () => {
    expect(
      undecodableWarning({
        counts: { before: 0, replayed: 5, duplicates: 0, undecodable: 0, outputs: 3 },
        undecodableByTopic: {},
        undecodable: [],
      }),
    ).toEqual([])
  })
})
