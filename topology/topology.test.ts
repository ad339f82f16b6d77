import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { EVENT_TYPES } from "../schemas/index.ts"
import {
  ALL_TOPICS,
  groupFor,
  renderMermaid,
  renderText,
  SERVICES,
  serviceByName,
  TOOLS,
  TOPICS,
  topicByName,
  topicFor,
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
    for (const user of [...SERVICES, ...TOOLS]) {
      for (const topic of [...user.reads, ...user.writes]) {
        expect(topicByName(topic), `${user.name} uses ${topic}`).toBeDefined()
      }
    }
    for (const topic of ALL_TOPICS) {
      expect(
        [...SERVICES, ...TOOLS].some((s) => s.writes.includes(topic.name as never)),
        `${topic.name} has a writer`,
      ).toBe(true)
      expect(
        SERVICES.some((s) => s.reads.includes(topic.name as never)),
        `${topic.name} has a reader`,
      ).toBe(true)
    }
  })

  it("lets only the auditor be read-only, and has it read every topic under one group", () => {
    expect(SERVICES.filter((s) => s.writes.length === 0).map((s) => s.name)).toEqual(["auditor"])
    const auditor = serviceByName("auditor")
    expect([...auditor.reads].sort()).toEqual(ALL_TOPICS.map((t) => t.name).sort())
    expect(groupFor("auditor")).toBe("chorus.auditor")
  })

  it("co-partitions the retry command topic with the submitter's other inputs, which it reaches", () => {
    const submitter = serviceByName("submitter")
    expect(submitter.reads).toContain(TOPICS.commandsRetry.name)
    const inputs = submitter.reads.map((name) => topicByName(name)!)
    expect(new Set(inputs.map((t) => t.partitions))).toEqual(new Set([6]))
    expect(new Set(inputs.map((t) => t.key))).toEqual(new Set(["lane"]))
    expect(TOPICS.commandsRetry).toMatchObject({ cleanupPolicy: "delete", retentionMs: -1 })
    expect(topicFor("RetryRequested")).toBe("chorus.commands.retry")
    // The answer goes where the tool follows it.
    expect(topicFor("RetryRefused")).toBe(TOPICS.deliveries.name)
    expect(TOOLS.find((t) => t.name === "retry")).toMatchObject({
      writes: ["chorus.commands.retry"],
      reads: ["chorus.deliveries"],
    })
  })

  it("fills consumer groups per instance and refuses a missing field", () => {
    expect(groupFor("submitter", { chainId: 902 })).toBe("chorus.submitter.902")
    expect(groupFor("proof-builder")).toBe("chorus.proof-builder")
    expect(() => groupFor("operator")).toThrow(/operator needs a operator/)
  })

  it("fails if any code names a topic the topology does not declare", () => {
    const groupPattern = new RegExp(
      `^(${SERVICES.map((s) => s.group.replace(/\./g, "\\.").replace(/\{[a-zA-Z]+\}/g, "[^.]+")).join("|")})$`,
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
          if (!SERVICES.some((s) => s.group === name)) undeclared.push(`${relative(root, file)}: ${name}`)
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
    const text = renderText()
    for (const t of ALL_TOPICS) expect(text).toContain(t.name)
    for (const s of SERVICES) expect(text).toContain(s.name)
    for (const t of TOOLS) expect(text).toContain(t.command)
    expect(text).toMatch(
      /auditor {2}\(group chorus\.auditor\)\n {4}reads {3}chorus\.messages\.observed, .*\n {4}writes {2}- \(read-only\)/,
    )
    const mermaid = renderMermaid()
    expect(mermaid.split("\n")[0]).toBe("flowchart LR")
    expect(mermaid).toContain("chorus_messages_observed --> proof_builder")
    expect(mermaid).toContain("submitter --> chorus_deliveries")
    expect(mermaid).toContain("chorus_commands_retry --> submitter")
    expect(mermaid).toContain('tool_retry{{"chorus retry"}}')
    expect(mermaid).toContain("tool_retry -.-> chorus_commands_retry")
    expect(mermaid).not.toMatch(/auditor --> /)
  })
})
