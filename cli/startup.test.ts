/**
 * What a `chorus` process loads before it answers (issue 13: `chorus trace`
 * answers in ≤ 300 ms, start-up included; `bench/trace-startup.ts` measures
 * it). Each command's module is imported only when that command runs, so a
 * command module imported at the top of cli/main.ts again, or the Kafka
 * adapter pulled into the trace command's graph, fails here instead of
 * quietly slowing every call. A trace on an index with nothing new to read
 * skips the catch-up's decoding (`catchUp`'s fast path): it must still never
 * answer from the index of another log.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { writeRelayLog } from "../bench/synthetic-relay-log.ts"
import { openEmbeddedBus } from "../bus/embedded/index.ts"
import { quietLogger } from "../test/fixtures/embedded-bus.ts"
import { useTempDirs } from "../test/fixtures/temp-dirs.ts"
import { ALL_TOPICS } from "../topology/index.ts"
import { COMMANDS, main } from "./main.ts"

const CHORUS = join(import.meta.dirname, "..", "bin", "chorus.js")

/** An `--import` hook that writes the URL of every module the process loads to $CHORUS_TEST_MODULES at exit. */
const LIST_MODULES = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from "node:module"
import { writeFileSync } from "node:fs"
const urls = []
registerHooks({ load(url, context, nextLoad) { urls.push(url); return nextLoad(url, context) } })
process.on("exit", () => writeFileSync(process.env.CHORUS_TEST_MODULES, urls.join("\\n")))
`)}`

const freshDir = useTempDirs("chorus-startup-")

/** Runs `node bin/chorus.js <args>` as a user would; what it printed and every module it loaded. */
const runChorus = async (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}) => {
  const listed = join(await freshDir(), "modules.txt")
  const run = spawnSync(process.execPath, ["--import", LIST_MODULES, CHORUS, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env, CHORUS_TEST_MODULES: listed },
  })
  const modules = readFileSync(listed, "utf8").split("\n")
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, modules }
}

const commandModules = (modules: ReadonlyArray<string>) =>
  modules
    .filter((url) => /\/cli\/commands\/[^/]+\.ts$/.test(url))
    .map((url) => url.replace(/^.*\/cli\//, "cli/"))

describe("chorus exit", () => {
  it("given something left open after a command returned, then the process exits anyway, with the command's code, and says why", () => {
    const started = Date.now()
    const run = spawnSync(
      process.execPath,
      ["--import", "data:text/javascript,setInterval(() => {}, 1000)", CHORUS, "--help"],
      { encoding: "utf8", timeout: 30_000 },
    )
    expect(run.signal).toBeNull()
    expect(run.status).toBe(0)
    expect(run.stdout).toContain("  trace")
    expect(run.stderr).toContain("something it left open kept the process alive; exiting (code 0)")
    expect(Date.now() - started).toBeLessThan(25_000)
  })
})

describe("chorus start-up", () => {
  it("lists every command under --help without loading any of them", async () => {
    const { status, stdout, modules } = await runChorus(["--help"])
    expect(status).toBe(0)
    for (const entry of COMMANDS) expect(stdout).toContain(`  ${entry.path.join(" ")}`)
    expect(commandModules(modules)).toEqual([])
    expect(modules.filter((url) => url.includes("/node_modules/"))).toEqual([])
  })

  it("loads only the trace command for `chorus trace` on an embedded log: no other command, no Kafka", async () => {
    const dataDir = await freshDir()
    const bus = await openEmbeddedBus({ dataDir, serve: false, logger: quietLogger })
    await bus.ensureTopics(ALL_TOPICS)
    await bus.close()
    const id = `0x${"ab".repeat(32)}`
    const { status, stderr, modules } = await runChorus(["trace", id, "--data-dir", dataDir])
    // It ran all the way: opened the log, built the index, and answered.
    expect(stderr).toContain(`message ${id} is not in the log`)
    expect(status).toBe(1)
    expect(commandModules(modules)).toEqual(["cli/commands/trace.ts"])
    expect(modules.filter((url) => /\/cli\/devnet\//.test(url))).toEqual([])
    expect(modules.filter((url) => /\/node_modules\/kafkajs\/|\/bus\/kafka\/index\.ts$/.test(url))).toEqual(
      [],
    )
    // Again, with nothing new in the log: nothing is decoded, so neither Effect nor the schema catalog loads.
    const again = await runChorus(["trace", id, "--data-dir", dataDir])
    expect(again.status).toBe(1)
    expect(
      again.modules.filter((url) => /\/node_modules\/effect\/|\/schemas\/catalog\.ts$/.test(url)),
    ).toEqual([])
  })

  it("answers from an index with nothing new to read as from a fresh one, and never from another log's", async () => {
    // Two logs of the same shape, every partition as long in both (other messages of the same lanes), and one
    // index: only their anchor events tell them apart.
    const writeLog = async (dataDir: string, nonces: { from: number; to: number }) => {
      const bus = await openEmbeddedBus({ dataDir, serve: false, logger: quietLogger })
      try {
        await bus.ensureTopics(ALL_TOPICS)
        return (await writeRelayLog(bus, { ...nonces, perLane: nonces.to, t0: Date.now() })).ids
      } finally {
        await bus.close()
      }
    }
    const [first, second, scratch] = [await freshDir(), await freshDir(), await freshDir()]
    const [inFirst] = await writeLog(first, { from: 0, to: 10 })
    const [inSecond] = await writeLog(second, { from: 10, to: 20 })
    const trace = async (dataDir: string, index: string, id: string) => {
      const out: string[] = []
      const status = await main(["trace", id, "--data-dir", dataDir, "--index", index, "--json"], {
        out: (line) => out.push(line),
        err: () => {},
      })
      return { status, out }
    }
    const shared = join(scratch, "shared.sqlite")
    const fresh = (name: string) => join(scratch, `${name}.sqlite`)
    const ofFirst = await trace(first, shared, inFirst!)
    expect(ofFirst.status).toBe(0)
    // Nothing new: the same answer.
    expect(await trace(first, shared, inFirst!)).toEqual(ofFirst)
    // Another log behind the same index: rebuilt for it, as a fresh index would be.
    const notInSecond = await trace(second, fresh("a"), inFirst!)
    expect(notInSecond.status).toBe(1)
    expect(await trace(second, shared, inFirst!)).toEqual(notInSecond)
    expect(await trace(second, shared, inSecond!)).toEqual(await trace(second, fresh("b"), inSecond!))
    // Records appended since the last answer: read before the next.
    const [added] = await writeLog(second, { from: 20, to: 30 })
    expect((await trace(second, shared, added!)).status).toBe(0)
  })

  it.skipIf(process.env.NODE_V8_COVERAGE !== undefined)(
    "keeps compiled modules in Node's compile cache for the next call",
    async () => {
      // Where it goes unless NODE_COMPILE_CACHE says otherwise (which would turn it on by itself).
      const tmp = await freshDir()
      const { status } = await runChorus(["--help"], { TMPDIR: tmp, NODE_COMPILE_CACHE: undefined })
      expect(status).toBe(0)
      // One directory per Node version, holding an entry per compiled module (cli/main.ts among them).
      const cache = join(tmp, "node-compile-cache")
      const [versioned] = existsSync(cache) ? readdirSync(cache) : []
      expect(versioned).toBeDefined()
      expect(readdirSync(join(cache, versioned!)).length).toBeGreaterThan(0)
    },
  )

  it("lists each command by its own path and summary", async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load()
      expect({ path: command.path, summary: command.summary }).toEqual({
        path: entry.path,
        summary: entry.summary,
      })
    }
  })

  it("still names an unknown command and lists a group's commands", async () => {
    const out: string[] = []
    const err: string[] = []
    const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) }
    expect(await main(["topics"], io)).toBe(2)
    expect(err.pop()).toBe("chorus topics: say which: topics create, topics describe")
    expect(await main(["teleport"], io)).toBe(2)
    expect(err.pop()).toMatch(/^chorus: unknown command "teleport"\n\nchorus — /)
  })
})
