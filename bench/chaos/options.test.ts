import { describe, expect, it } from "vitest"
import { FAULT_NAMES, parseFaults } from "./faults.ts"
import { ChaosUsageError, HELP, parseChaosArgs, rateFor } from "./options.ts"

const refusal = (argv: string[]) => {
  try {
    parseChaosArgs(argv)
  } catch (error) {
    expect(error).toBeInstanceOf(ChaosUsageError)
    return (error as Error).message
  }
  throw new Error(`${argv.join(" ")} was accepted`)
}

describe("the chaos command line", () => {
  it("takes the issue's command", () => {
    const options = parseChaosArgs([
      "--messages",
      "10000",
      "--seed",
      "7",
      "--kafka",
      "127.0.0.1:9092",
      "--json",
    ])!
    expect(options).toMatchObject({
      messages: 10_000,
      seed: 7,
      seedGiven: true,
      json: true,
      kafka: { kind: "brokers", brokers: ["127.0.0.1:9092"] },
    })
    expect(options.faults.size).toBe(FAULT_NAMES.length)
    // A 10,000-message backlog gets a drain it can finish in; a short run keeps four minutes.
    expect(options.drainMs).toBe(1_000_000)
    expect(parseChaosArgs(["--messages", "500"])!.drainMs).toBe(240_000)
    expect(parseChaosArgs(["--messages", "500", "--drain", "30"])!.drainMs).toBe(30_000)
  })

  it("refuses bad input, naming the flag", () => {
    expect(refusal(["--messages", "ten"])).toMatch(/^--messages: /)
    expect(refusal(["--messages", "5"])).toMatch(/^--messages: must be from 20/)
    expect(refusal(["--seed", "-1"])).toMatch(/^--seed: /)
    expect(refusal(["--seed"])).toMatch(/--seed/)
    expect(refusal(["--kafka", "nowhere"])).toMatch(/^--kafka: /)
    expect(refusal(["--faults", "kill,teleport"])).toMatch(/^--faults: unknown fault "teleport"/)
    expect(refusal(["--faults", "broker"])).toMatch(/^--faults: broker needs Kafka/)
    expect(refusal(["--kafka-node-dir", "/tmp"])).toMatch(/^--kafka-node-dir: /)
    expect(refusal(["--rate", "fast"])).toMatch(/^--rate: /)
    expect(refusal(["--drain", "1"])).toMatch(/^--drain: /)
    expect(refusal(["--log-level", "loud"])).toMatch(/^--log-level: /)
    expect(refusal(["--heap-mb", "32"])).toMatch(/^--heap-mb: must be from 64 to 65536/)
    expect(refusal(["--heap-mb", "lots"])).toMatch(/^--heap-mb: expected a whole number/)
    expect(refusal(["--bogus"])).toMatch(/unknown flag --bogus/)
    expect(refusal(["--members", "2"])).toMatch(/^--members: needs Kafka/)
    expect(refusal(["--kafka", "local", "--members", "5"])).toMatch(/^--members: must be from 1 to 4/)
    expect(refusal(["--kafka", "127.0.0.1:9092", "--kafka-brokers", "3"])).toMatch(
      /^--kafka-brokers: only with --kafka local/,
    )
    expect(refusal(["--kafka", "local", "--kafka-brokers", "2"])).toMatch(/^--kafka-brokers: expected 1 or 3/)
    expect(refusal(["extra"])).toMatch(/unexpected argument/)
  })

  it("takes a cluster of three and several members per service", () => {
    const options = parseChaosArgs(["--kafka", "local", "--kafka-brokers", "3", "--members", "2"])!
    expect(options.kafka).toEqual({ kind: "local", brokers: 3 })
    expect(options.members).toBe(2)
    expect(parseChaosArgs(["--kafka", "local"])!).toMatchObject({ kafka: { brokers: 1 }, members: 1 })
    expect(
      parseChaosArgs([
        "--kafka",
        "local",
        "--members",
        "2",
        "--scaled",
        "proof-builder,attestation-collector",
      ])!.scaled,
    ).toEqual(["proof-builder", "attestation-collector"])
    expect(refusal(["--kafka", "local", "--scaled", "operator"])).toMatch(/^--scaled: only with --members/)
    expect(refusal(["--kafka", "local", "--members", "2", "--scaled", "chain-watcher"])).toMatch(
      /^--scaled: "chain-watcher" does not run in a consumer group/,
    )
  })

  it("documents every flag and every fault in --help", () => {
    expect(parseChaosArgs(["--help"])).toBeUndefined()
    for (const flag of [
      "--messages",
      "--seed",
      "--kafka",
      "--kafka-node-dir",
      "--kafka-brokers",
      "--members",
      "--scaled",
      "--faults",
      "--rate",
      "--drain",
      "--data-dir",
      "--keep",
      "--traces",
      "--log-level",
      "--json",
      "--help",
    ])
      expect(HELP).toContain(flag)
    for (const fault of FAULT_NAMES) expect(HELP).toContain(fault)
  })

  it("selects faults by name, group and removal", () => {
    expect([...parseFaults("all,-rewrite")]).not.toContain("rewrite")
    expect([...parseFaults("-rewrite")].length).toBe(FAULT_NAMES.length - 1)
    expect([...parseFaults("hostile")].sort()).toEqual([
      "gas-burner",
      "max-gas",
      "no-code",
      "reentrant",
      "return-bomb",
    ])
    expect(parseFaults("none").size).toBe(0)
  })

  it("gives a short run two minutes of traffic, and caps the rate at 25 a second", () => {
    expect(rateFor(500) * 120).toBeCloseTo(500)
    expect(rateFor(10_000)).toBe(25)
    expect(rateFor(20)).toBe(1)
  })
})
