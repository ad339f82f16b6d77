import { describe, expect, it } from "vitest"
import { renderProgressBlock, renderProgressLine } from "./render-progress.ts"
import type { Progress } from "./tracker.ts"

const progress: Progress = {
  counts: { sent: 12, observed: 12, proven: 12, attested: 12, committed: 12, delivered: 9, failed: 3 },
  latenciesMs: [2000, 3000],
  duplicates: 0,
  stalls: [],
}

describe("the progress view", () => {
  it("given messages sent to closed GatedRecipients, then the failed stage says how many of them failed", () => {
    const line = renderProgressLine(progress, { target: 12, elapsedMs: 9_000, gated: { sent: 3, failed: 3 } })
    expect(line).toContain("failed 3 (3 of the 3 sent to closed GatedRecipients, expected)")
    const block = renderProgressBlock(progress, {
      target: 12,
      elapsedMs: 9_000,
      title: "embedded bus",
      gated: { sent: 3, failed: 2 },
    })
    expect(block.find((l) => l.trimStart().startsWith("failed"))).toMatch(
      /failed\s+3\/12 {2}2 of the 3 sent to closed GatedRecipients, expected$/,
    )
  })

  it("given no gated traffic, then the failed stage is shown as before", () => {
    const line = renderProgressLine(progress, { target: 12, elapsedMs: 9_000, gated: { sent: 0, failed: 0 } })
    expect(line).toContain("· failed 3 · p50")
    const block = renderProgressBlock(progress, { target: 12, elapsedMs: 9_000, title: "embedded bus" })
    expect(block.find((l) => l.trimStart().startsWith("failed"))).toMatch(/failed\s+3\/12$/)
  })
})
