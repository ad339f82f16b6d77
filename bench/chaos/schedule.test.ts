import { describe, expect, it } from "vitest"
import { FAULT_NAMES, parseFaults } from "./faults.ts"
import { instanceOfUnit, type PlanOptions, planRun, requiredStake } from "./schedule.ts"

const base: PlanOptions = {
  seed: 7,
  messages: 2_000,
  rate: 25,
  bus: "kafka",
  faults: new Set(FAULT_NAMES),
  chains: [901, 902, 903],
  weights: [4000n, 3000n, 2000n, 1000n],
  thresholdBps: 6667,
}

describe("the chaos plan", () => {
  it("is the same for the same seed, and differs for another", () => {
    expect(planRun(base)).toEqual(planRun(base))
    const other = planRun({ ...base, seed: 8 })
    expect(other.events).not.toEqual(planRun(base).events)
  })

  it("kills every service process at least once, inside the traffic window", () => {
    const plan = planRun(base)
    const killed = new Set(
      plan.events.filter((e) => e.kind === "kill").map((e) => (e.kind === "kill" ? e.unit : "")),
    )
    expect([...killed].sort()).toEqual([...plan.units].sort())
    for (const event of plan.events) {
      expect(event.atMs).toBeGreaterThanOrEqual(0)
      expect(event.atMs).toBeLessThanOrEqual(plan.trafficMs)
    }
  })

  it("leaves the honest online operators a quorum, for every seed", () => {
    for (let seed = 0; seed < 200; seed++) {
      const { roles, weights, thresholdBps } = planRun({ ...base, seed })
      const lost =
        (roles.liar === null ? 0n : weights[roles.liar]!) +
        (roles.offline === null ? 0n : weights[roles.offline]!)
      const total = weights.reduce((a, b) => a + b, 0n)
      expect(total - lost).toBeGreaterThanOrEqual(requiredStake(weights, thresholdBps))
      expect(roles.liar).not.toBeNull()
      expect(roles.offline).not.toBe(roles.liar)
    }
  })

  it("reorgs one chain and rewrites another; one garbage record in all per 1000 planned", () => {
    const plan = planRun(base)
    expect(plan.roles.reorgChain).not.toBeNull()
    expect(plan.roles.rewriteChain).not.toBe(plan.roles.reorgChain)
    const garbage = plan.events.filter((e) => e.kind === "garbage")
    expect(garbage.reduce((n, e) => n + (e.kind === "garbage" ? e.records : 0), 0)).toBe(1_000)
  })

  it("sends each max-gas pair back to back on one lane, and every hostile kind", () => {
    const plan = planRun(base)
    const pairs = plan.traffic.filter((m) => m.kind === "max-gas")
    expect(pairs.length).toBeGreaterThanOrEqual(2)
    for (const first of pairs.filter((_, i) => i % 2 === 0)) {
      const second = plan.traffic[first.index + 1]!
      expect(second).toMatchObject({ kind: "max-gas", src: first.src, dst: first.dst, dueMs: first.dueMs })
    }
    for (const kind of ["gas-burner", "return-bomb", "reentrant", "no-code"]) {
      expect(plan.traffic.filter((m) => m.kind === kind)).toHaveLength(2)
    }
  })

  it("keeps the traffic's directions when a fault is switched off", () => {
    const all = planRun(base).traffic.filter((m) => m.kind === "ping")
    const noKills = planRun({ ...base, faults: parseFaults("all,-kill") }).traffic.filter(
      (m) => m.kind === "ping",
    )
    expect(noKills.map((m) => [m.index, m.src, m.dst])).toEqual(all.map((m) => [m.index, m.src, m.dst]))
  })

  it("runs each lane service instance as several members, and one watcher per chain", () => {
    const plan = planRun({ ...base, faults: parseFaults("none"), members: 2 })
    expect(plan.units.filter((u) => u.startsWith("chain-watcher"))).toEqual([
      "chain-watcher-901",
      "chain-watcher-902",
      "chain-watcher-903",
    ])
    for (const instance of [
      "proof-builder",
      "operator-0",
      "operator-3",
      "attestation-collector",
      "submitter-902",
    ])
      expect(plan.units.filter((u) => instanceOfUnit(u) === instance)).toEqual([instance, `${instance}.2`])
    expect(plan.units.length).toBe(3 + 2 * (1 + 4 + 1 + 3))
    const some = planRun({
      ...base,
      faults: parseFaults("none"),
      members: 2,
      scaled: ["attestation-collector"],
    })
    expect(some.units.filter((u) => u.includes("."))).toEqual(["attestation-collector.2"])
  })

  it("runs one process on the embedded log, killed several times, and no broker restart", () => {
    const plan = planRun({ ...base, bus: "embedded" })
    expect(plan.units).toEqual(["all"])
    expect(plan.events.filter((e) => e.kind === "kill").length).toBeGreaterThanOrEqual(2)
    expect(plan.events.some((e) => e.kind === "broker-restart")).toBe(false)
  })

  it("injects nothing with --faults none", () => {
    const plan = planRun({ ...base, faults: parseFaults("none") })
    expect(plan.events).toEqual([])
    expect(plan.traffic.every((m) => m.kind === "ping")).toBe(true)
    expect(plan.roles).toEqual({
      reorgChain: null,
      rewriteChain: null,
      lossyWatcher: null,
      liar: null,
      offline: null,
    })
  })
})
