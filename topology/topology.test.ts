import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { EVENT_TYPES } from "../schemas/index.ts"
import { SERVICE_DEFINITIONS, SERVICES } from "../services/registry.ts"
import {
  ALL_TOPICS,
  renderMermaid,
  renderText,
  TOOLS,
  TOPICS,
  topicByName,
  topicFor,
  topicsOf,
} from "./index.ts"

const root = join(import.meta.dirname, "..")
const SKIP = new Set(["node_modules", ".git", "contracts", ".data", "coverage"])

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return []
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return /\.(ts|js)$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : []
  })

describe("topology", () => {
  it("gives every event type exactly one topic", () => {
    for (const type of EVENT_TYPES) {
      const carriers = ALL_TOPICS.filter((t) => (t.events as ReadonlyArray<string>).includes(type))
      expect(
        carriers.map((t) => t.name),
        type,
      ).toHaveLength(1)
      expect(topicFor(type)).toBe(carriers[0]!.name)
    }
  })

  it("declares each topic once, compacting only the cursors", () => {
    const names = ALL_TOPICS.map((t) => t.name)
    expect(new Set(names).size).toBe(names.length)
    expect(ALL_TOPICS.filter((t) => t.cleanupPolicy === "compact").map((t) => t.name)).toEqual([
      "chorus.watcher.cursors",
    ])
  })

  it("wires services and tools only to declared topics, and every topic has a writer and a reader", () => {
    for (const service of SERVICES) {
      for (const topic of topicsOf(service)) {
        expect(topicByName(topic), `${service.name} uses ${topic}`).toBeDefined()
      }
    }
    for (const tool of TOOLS) {
      for (const topic of [...tool.reads, ...tool.writes]) expect(topicByName(topic), tool.name).toBeDefined()
    }
    for (const topic of ALL_TOPICS) {
      expect(
        [...SERVICES, ...TOOLS].some((s) => s.writes.includes(topic.name as never)),
        `${topic.name} has a writer`,
      ).toBe(true)
      expect(
        SERVICES.some((s) => [...s.consumes, ...s.reads].includes(topic.name as never)),
        `${topic.name} has a reader`,
      ).toBe(true)
    }
  })

  it("co-partitions every lane service's consumed topics, the retry commands with the submitter's", () => {
    for (const service of SERVICES) {
      const inputs = service.consumes.map((name) => topicByName(name)!)
      expect(new Set(inputs.map((t) => t.partitions)).size, service.name).toBeLessThanOrEqual(1)
      // A lane's inputs meet on one partition; the operator-set flow (keyed by chain) beside them needs only
      // the same count, so that each input's reads, keyed as the input is, land on its partition number.
      const laneKeyed = inputs.filter((t) => t.key === "lane")
      if (laneKeyed.length > 0) {
        expect(
          inputs.every((t) => t.partitions === TOPICS.laneReads.partitions),
          service.name,
        ).toBe(true)
      }
      expect(new Set(inputs.map((t) => t.key)).size, service.name).toBeLessThanOrEqual(2)
    }
    const submitter = SERVICES.find((s) => s.name === "submitter")!
    expect(submitter.consumes).toContain(TOPICS.commandsRetry.name)
    expect(TOPICS.commandsRetry).toMatchObject({ cleanupPolicy: "delete", retentionMs: -1 })
    expect(topicFor("RetryRequested")).toBe("chorus.commands.retry")
    // The answer goes where the tool follows it.
    expect(topicFor("RetryRefused")).toBe(TOPICS.deliveries.name)
    expect(TOOLS.find((t) => t.name === "retry")).toMatchObject({
      writes: ["chorus.commands.retry"],
      reads: ["chorus.deliveries"],
    })
  })

  it("fails if any code names a topic or a group the topology does not declare", () => {
    const groups = SERVICE_DEFINITIONS.flatMap((d) => (d.group === null ? [] : [d.group]))
    const groupPattern = new RegExp(
      `^(${groups.map((g) => g.replace(/\./g, "\\.").replace(/\{[a-zA-Z]+\}/g, "[^.]+")).join("|")})$`,
    )
    const undeclared: string[] = []
    for (const file of sourceFiles(root)) {
      // Examples in comments are documentation, not reads or writes.
      const text = readFileSync(file, "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "")
      for (const match of text.matchAll(/["'`](chorus\.[a-z0-9.{}$-]+)["'`]/g)) {
        const name = match[1]!
        if (name.includes("${") || name.includes("{")) {
          // A template: it must be one of the declared consumer-group templates.
          if (!groups.includes(name)) undeclared.push(`${relative(root, file)}: ${name}`)
          continue
        }
        if (topicByName(name) === undefined && !groupPattern.test(name)) {
          undeclared.push(`${relative(root, file)}: ${name}`)
        }
      }
    }
    expect(undeclared).toEqual([])
  })

  it("draws the graph as text and as Mermaid", () => {
    const text = renderText(SERVICES)
    for (const t of ALL_TOPICS) expect(text).toContain(t.name)
    for (const s of SERVICES) expect(text).toContain(s.name)
    for (const t of TOOLS) expect(text).toContain(t.command)
    expect(text).toMatch(
      /auditor {2}\(no consumer group\)\n {4}consumes -\n {4}reads {4}chorus\.messages\.observed, .*\n {4}writes {3}- \(read-only\)/,
    )
    const mermaid = renderMermaid(SERVICES)
    expect(mermaid.split("\n")[0]).toBe("flowchart LR")
    expect(mermaid).toContain("chorus_messages_observed --> proof_builder")
    expect(mermaid).toContain("submitter --> chorus_deliveries")
    expect(mermaid).toContain("chorus_commands_retry --> submitter")
    expect(mermaid).toContain('tool_retry{{"chorus retry"}}')
    expect(mermaid).toContain("tool_retry -.-> chorus_commands_retry")
    // A tool's label is its command's words, however many: never its arguments or flags.
    expect(mermaid).toContain('tool_chain_resume{{"chorus chain resume"}}')
    expect(mermaid).toContain("tool_chain_resume -.-> chorus_chain_halts")
    expect(mermaid).not.toMatch(/auditor --> /)
  })
})
