import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { EVENT_TYPES } from "../schemas/index.ts"
import { ALL_TOPICS, groupFor, renderMermaid, renderText, SERVICES, topicByName, topicFor } from "./index.ts"

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

  it("wires services only to declared topics, and every event topic has a writer and a reader", () => {
    for (const service of SERVICES) {
      for (const topic of [...service.reads, ...service.writes]) {
        expect(topicByName(topic), `${service.name} uses ${topic}`).toBeDefined()
      }
    }
    for (const topic of ALL_TOPICS) {
      expect(
        SERVICES.some((s) => s.writes.includes(topic.name as never)),
        `${topic.name} has a writer`,
      ).toBe(true)
    }
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
    const mermaid = renderMermaid()
    expect(mermaid.split("\n")[0]).toBe("flowchart LR")
    expect(mermaid).toContain("chorus_messages_observed --> proof_builder")
    expect(mermaid).toContain("submitter --> chorus_deliveries")
  })
})
