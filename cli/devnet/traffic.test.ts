import { describe, expect, it } from "vitest"
import { isGated } from "./traffic.ts"

const gatedOf = (n: number, percent: number) =>
  Array.from({ length: n }, (_, i) => i).filter((i) => isGated(i, percent))

describe("isGated", () => {
  it("given 25%, when 12 messages are sent, then every fourth one (#3, #7, #11) is gated", () => {
    expect(gatedOf(12, 25)).toEqual([3, 7, 11])
  })

  it("given 0% or 100%, then no message or every message is gated", () => {
    expect(gatedOf(50, 0)).toEqual([])
    expect(gatedOf(50, 100)).toHaveLength(50)
  })

  it("given any percentage, then exactly floor(n·p/100) of the first n messages are gated, spread evenly", () => {
    for (const percent of [1, 7, 10, 33, 50, 66, 99]) {
      for (const n of [1, 12, 100, 3001]) {
        const gated = gatedOf(n, percent)
        expect(gated, `${percent}% of ${n}`).toHaveLength(Math.floor((n * percent) / 100))
        // Evenly: no two gated messages closer than floor(100/p) apart.
        for (let i = 1; i < gated.length; i++)
          expect(gated[i]! - gated[i - 1]!).toBeGreaterThanOrEqual(Math.floor(100 / percent))
      }
    }
  })
})
