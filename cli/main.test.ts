import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ALL_TOPICS } from "../topology/index.ts"
import { COMMANDS, main } from "./main.ts"
import { parseBrokers } from "./open-bus.ts"

const run = async (...args: string[]) => {
  const out: string[] = []
  const err: string[] = []
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out: out.join("\n"), err: err.join("\n") }
}

describe("chorus CLI", () => {
  const dirs: string[] = []
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it("lists every subcommand in --help", async () => {
    const { code, out } = await run("--help")
    expect(code).toBe(0)
    for (const c of COMMANDS) expect(out).toContain(c.path.join(" "))
  })

  it("names an unknown command and exits 2", async () => {
    const { code, err } = await run("teleport")
    expect(code).toBe(2)
    expect(err).toMatch(/unknown command "teleport"/)
  })

  it("names a wrong flag and shows the usage", async () => {
    const { code, err } = await run("topology", "--colour", "red")
    expect(code).toBe(2)
    expect(err).toMatch(/Unknown option '--colour'/)
    expect(err).toMatch(/Usage: chorus topology/)
  })

  it("names a wrong flag value", async () => {
    const { code, err } = await run("topology", "--format", "svg")
    expect(code).toBe(2)
    expect(err).toMatch(/--format must be text, mermaid or both, got "svg"/)
  })

  it("asks which bus when none is given, and refuses two", async () => {
    expect((await run("topics", "create")).err).toMatch(/say which bus/)
    expect((await run("topics", "create", "--brokers", "a:1", "--data-dir", "/tmp/x")).err).toMatch(
      /not both/,
    )
  })

  it("names the broker entry that is not host:port", () => {
    expect(parseBrokers("127.0.0.1:9092, kafka:19092")).toEqual(["127.0.0.1:9092", "kafka:19092"])
    expect(() => parseBrokers("127.0.0.1:9092,kafka")).toThrow(/"kafka" is not host:port/)
    expect(() => parseBrokers("h:70000")).toThrow(/"h:70000"/)
  })

  it("creates topics on an embedded log, and a second run changes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chorus-cli-"))
    dirs.push(dir)
    const first = await run("topics", "create", "--data-dir", dir)
    expect(first.code).toBe(0)
    expect(first.out).toMatch(new RegExp(`Created ${ALL_TOPICS.length} topic\\(s\\); 0 already existed`))
    const second = await run("topics", "create", "--data-dir", dir)
    expect(second.code).toBe(0)
    expect(second.out).toMatch(new RegExp(`All ${ALL_TOPICS.length} topics already exist; nothing changed`))
    const described = await run("topics", "describe", "--data-dir", dir)
    expect(described.code).toBe(0)
    expect(described.out).toMatch(/chorus.deliveries {2}6 partitions {2}0 records/)
  })
})
