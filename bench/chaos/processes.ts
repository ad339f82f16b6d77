/**
 * The chaos run's service processes: one `chorus run <service> --config
 * <file> [--instance <id>]` per unit, supervised as a process manager would
 * (systemd's `Restart=on-failure`): a process that exits on its own is
 * started again after a backoff, and every exit is recorded with its code
 * and the end of its stderr. The run's own faults go through `kill9`, which
 * holds the unit down for the planned time, then starts it again.
 *
 * Every child is spawned tied to this process (`spawnTiedToParent`): if the
 * harness dies, even by `kill -9`, its services die with it. Each unit's
 * stderr (JSON log lines) is appended to `<logDir>/<unit>.log`.
 *
 * @module
 */
import type { ChildProcess } from "node:child_process"
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { spawnTiedToParent } from "../../contracts/anvil/spawnTiedToParent.ts"

const BIN = fileURLToPath(new URL("../../bin/chorus.js", import.meta.url))

/** One service process: its name and the `chorus` arguments that start it. */
export interface UnitSpec {
  readonly name: string
  readonly args: ReadonlyArray<string>
  /** Flags for node itself, before the script (`--max-old-space-size=…`). */
  readonly nodeArgs?: ReadonlyArray<string>
}

/** An exit the harness did not cause. */
export interface UnitExit {
  readonly unit: string
  readonly at: number
  readonly pid: number
  readonly code: number | null
  readonly signal: string | null
  /** The end of its stderr. */
  readonly tail: string
  /** The last `<service> stopped: <error>` line `chorus run` wrote, if any: why it ended. */
  readonly stopped: string | null
}

/** A kill -9 the harness made. */
export interface UnitKill {
  readonly unit: string
  readonly at: number
  /** The pid killed, or null when the unit was not running then (it had exited on its own). */
  readonly pid: number | null
  readonly downMs: number
}

interface Unit {
  readonly spec: UnitSpec
  child: ChildProcess | undefined
  /** Resolves when the current child has exited. */
  exited: Promise<void>
  /** Held down by a kill, or stopping: no restart on exit. */
  held: boolean
  starts: number
  startedAt: number
  backoffMs: number
  ready: Promise<void>
  tail: string
  /** The last `<service> stopped: …` line of the current process, and the partial line after it. */
  stopped: string | null
  partial: string
  log: WriteStream
  restartTimer: NodeJS.Timeout | undefined
  /** The kills of this unit, one after another: a second kill waits for the first to start the unit again. */
  killing: Promise<unknown>
}

export interface Supervisor {
  /** Starts every unit and resolves once each said it runs (or rejects naming the one that did not). */
  startAll(timeoutMs: number): Promise<void>
  /** kill -9 of a unit, held down for `downMs`, then started again; resolves once it was started again. */
  kill9(unit: string, downMs: number): Promise<UnitKill>
  /** The pid of a unit's running process, if any. */
  pidOf(unit: string): number | undefined
  /** Stops every unit: SIGTERM, then SIGKILL after `graceMs`. */
  stopAll(graceMs: number): Promise<void>
  exits(): ReadonlyArray<UnitExit>
  kills(): ReadonlyArray<UnitKill>
  starts(): ReadonlyMap<string, number>
}

const MAX_BACKOFF_MS = 20_000
const STABLE_MS = 60_000

/**
 * A supervisor over the given units (started by `startAll`).
 *
 * @example
 * ```ts
 * const supervisor = superviseUnits([{ name: "proof-builder", args: ["run", "proof-builder", "--config", path] }], logDir)
 * await supervisor.startAll(120_000)
 * await supervisor.kill9("proof-builder", 2_000)
 * await supervisor.stopAll(30_000)
 * ```
 */
export const superviseUnits = (specs: ReadonlyArray<UnitSpec>, logDir: string): Supervisor => {
  mkdirSync(logDir, { recursive: true })
  const exits: UnitExit[] = []
  const kills: UnitKill[] = []
  let stopping = false
  const units = new Map<string, Unit>(
    specs.map((spec) => [
      spec.name,
      {
        spec,
        child: undefined,
        exited: Promise.resolve(),
        held: false,
        starts: 0,
        startedAt: 0,
        backoffMs: 1_000,
        ready: Promise.resolve(),
        tail: "",
        stopped: null,
        partial: "",
        log: createWriteStream(join(logDir, `${spec.name}.log`), { flags: "a" }),
        restartTimer: undefined,
        killing: Promise.resolve(),
      },
    ]),
  )

  const start = (unit: Unit) => {
    unit.restartTimer = undefined
    if (stopping) return
    const child = spawnTiedToParent(process.execPath, [...(unit.spec.nodeArgs ?? []), BIN, ...unit.spec.args])
    unit.child = child
    unit.starts += 1
    unit.startedAt = Date.now()
    unit.log.write(
      `=== chaos: start #${unit.starts} of ${unit.spec.name}, pid ${child.pid}, ${new Date().toISOString()}\n`,
    )
    unit.stopped = null
    unit.partial = ""
    child.stderr.on("data", (chunk: Buffer) => {
      unit.log.write(chunk)
      const text = chunk.toString("utf8")
      unit.tail = (unit.tail + text).slice(-20_000)
      const lines = (unit.partial + text).split("\n")
      unit.partial = lines.pop()!.slice(-4_000)
      for (const line of lines) if (/^[\w-]+(\/\S+)? stopped: /.test(line)) unit.stopped = line.slice(0, 500)
    })
    unit.ready = new Promise<void>((resolve, reject) => {
      let out = ""
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8")
        unit.log.write(chunk)
        if (out.includes("running ")) resolve()
      })
      child.once("exit", (code, signal) =>
        reject(
          new Error(
            `${unit.spec.name} exited before it ran (code ${code}, signal ${signal}): ${unit.tail.slice(-1_500)}`,
          ),
        ),
      )
    })
    unit.ready.catch(() => undefined)
    unit.exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        unit.child = undefined
        unit.log.write(
          `=== chaos: ${unit.spec.name} pid ${child.pid} exited (code ${code}, signal ${signal}), ${new Date().toISOString()}\n`,
        )
        if (!unit.held && !stopping) {
          exits.push({
            unit: unit.spec.name,
            at: Date.now(),
            pid: child.pid ?? -1,
            code,
            signal,
            tail: unit.tail,
            stopped: unit.stopped,
          })
          if (Date.now() - unit.startedAt > STABLE_MS) unit.backoffMs = 1_000
          unit.restartTimer = setTimeout(() => start(unit), unit.backoffMs)
          unit.backoffMs = Math.min(unit.backoffMs * 2, MAX_BACKOFF_MS)
        }
        resolve()
      })
    })
  }

  const unitOf = (name: string) => {
    const unit = units.get(name)
    if (unit === undefined) throw new Error(`no unit ${name}`)
    return unit
  }

  const kill9 = async (unit: Unit, downMs: number): Promise<UnitKill> => {
    const name = unit.spec.name
    unit.held = true
    if (unit.restartTimer !== undefined) {
      clearTimeout(unit.restartTimer)
      unit.restartTimer = undefined
    }
    const child = unit.child
    const kill: UnitKill = { unit: name, at: Date.now(), pid: child?.pid ?? null, downMs }
    kills.push(kill)
    if (child !== undefined) {
      unit.log.write(
        `=== chaos: kill -9 ${name} pid ${child.pid} (down ${downMs} ms), ${new Date().toISOString()}\n`,
      )
      child.kill("SIGKILL")
      await unit.exited
    }
    await new Promise((resolve) => setTimeout(resolve, downMs))
    unit.held = false
    unit.backoffMs = 1_000
    start(unit)
    return kill
  }

  return {
    startAll: async (timeoutMs) => {
      for (const unit of units.values()) start(unit)
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const late = [...units.values()].filter((u) => u.child !== undefined).map((u) => u.spec.name)
          reject(new Error(`service processes not running after ${timeoutMs} ms: ${late.join(", ")}`))
        }, timeoutMs)
      })
      try {
        await Promise.race([Promise.all([...units.values()].map((u) => u.ready)), timeout])
      } finally {
        clearTimeout(timer)
      }
    },
    kill9: (name, downMs) => {
      const unit = unitOf(name)
      const next = unit.killing.then(() => kill9(unit, downMs))
      unit.killing = next.catch(() => undefined)
      return next
    },
    pidOf: (name) => unitOf(name).child?.pid,
    stopAll: async (graceMs) => {
      stopping = true
      await Promise.all(
        [...units.values()].map(async (unit) => {
          if (unit.restartTimer !== undefined) clearTimeout(unit.restartTimer)
          const child = unit.child
          if (child !== undefined) {
            child.kill("SIGTERM")
            const timer = setTimeout(() => child.kill("SIGKILL"), graceMs)
            await unit.exited
            clearTimeout(timer)
          }
          await new Promise<void>((resolve) => unit.log.end(resolve))
        }),
      )
    },
    exits: () => exits,
    kills: () => kills,
    starts: () => new Map([...units.values()].map((u) => [u.spec.name, u.starts])),
  }
}
