/**
 * `chorus cluster up` and `chorus cluster down`: the whole cluster a config
 * describes, as processes on this machine, one `chorus run` per unit of the
 * plan (`clusterPlan`, the same units `docker-compose.yml` runs as
 * containers): every chain-watcher, two proof-builders sharing their group,
 * every operator, the collector, the set-watcher, one submitter per
 * destination and the auditor, each serving its metrics and health.
 *
 * `up` returns once every process answers `/healthz` (or brings everything
 * down again and names the one that failed, with the end of its log); the
 * processes run on after it, detached, until `down` stops them gracefully
 * (SIGTERM, then SIGKILL after `--timeout`).
 *
 * @module
 */
import { spawn } from "node:child_process"
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { clusterPlan } from "../../services/registry.ts"
import {
  alive,
  type ClusterProcess,
  readClusterState,
  removeClusterState,
  writeClusterState,
} from "../cluster/cluster-state.ts"
import { type Command, flags, intFlag, requireString, UsageError } from "../command.ts"
import { parseBrokers } from "../open-bus.ts"
import { loadRunConfig } from "../plaintext-keys.ts"

const CHORUS = fileURLToPath(new URL("../../bin/chorus.js", import.meta.url))
const DEFAULT_STATE_DIR = ".chorus-cluster"
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const STATE_DETAILS =
  "  --state-dir <dir>      where the cluster's state (cluster.json) and each process's log live (default .chorus-cluster)"

const tail = (file: string, lines = 8) => {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n")
  } catch {
    return "(no log)"
  }
}

/** Whether the process `pid` answers `/healthz` on `address`: another process on the port (an orphan) does not count. */
const answersHealth = async (address: string, pid: number): Promise<boolean> => {
  try {
    const response = await fetch(`http://${address}/healthz`, { signal: AbortSignal.timeout(1_000) })
    return response.status === 200 && ((await response.json()) as { pid?: unknown }).pid === pid
  } catch {
    return false
  }
}

/** SIGTERM to each process's group, then SIGKILL to any still alive after `timeoutMs`; the names it had to kill. */
const stopProcesses = async (
  processes: ReadonlyArray<ClusterProcess>,
  timeoutMs: number,
): Promise<string[]> => {
  const signal = (pid: number, name: NodeJS.Signals) => {
    // Only a live chorus process of ours (`alive` checks), never pid 0 or 1, whose groups are everyone's.
    if (!alive(pid)) return
    try {
      process.kill(-pid, name)
    } catch {
      try {
        process.kill(pid, name)
      } catch {
        // Gone already.
      }
    }
  }
  for (const p of processes) if (alive(p.pid)) signal(p.pid, "SIGTERM")
  const deadline = Date.now() + timeoutMs
  while (processes.some((p) => alive(p.pid)) && Date.now() < deadline) await sleep(100)
  const killed = processes.filter((p) => alive(p.pid))
  for (const p of killed) signal(p.pid, "SIGKILL")
  return killed.map((p) => p.name)
}

export const clusterUp: Command = {
  path: ["cluster", "up"],
  summary:
    "run the whole cluster a config describes as processes on this machine (one `chorus run` per unit)",
  usage:
    "cluster up --config <file> [--brokers <host:port,…>] [--state-dir <dir>] [--metrics-port 9464] [--proof-builders 2] [--allow-plaintext-keys] [--log-level warn]",
  details: [
    "  --config <file>        the deployment's config; its bus must be Kafka (bus.brokers, or --brokers): consumer",
    "                         groups span processes only there",
    "  --brokers <list>       Kafka bootstrap brokers, over the config's bus.brokers",
    STATE_DETAILS,
    "  --metrics-port <port>  the first process serves /metrics, /healthz and /readyz on 127.0.0.1:<port>, the next",
    "                         on <port>+1, … (default 9464)",
    "  --proof-builders <n>   proof-builder processes sharing its consumer group (default 2)",
    "  --allow-plaintext-keys take keys written in the config as hex (tests; see `chorus run --help`)",
    "  --log-level <level>    each process's log level (default warn); logs go to <state-dir>/logs/<unit>.log",
    "  --timeout <s>          how long to wait for every process to answer /healthz (default 60)",
    "It returns once every process answers, and prints each one's pid, metrics address and log. `chorus cluster",
    "down` stops them. If one fails to start, every process is stopped again and its log's end is printed.",
  ].join("\n"),
  options: flags({
    values: ["config", "brokers", "state-dir", "metrics-port", "proof-builders", "log-level", "timeout"],
    switches: ["allow-plaintext-keys"],
  }),
  async run({ values, out, err }) {
    const file = resolve(requireString(values, "config"))
    const stateDir = resolve(
      typeof values["state-dir"] === "string" ? values["state-dir"] : DEFAULT_STATE_DIR,
    )
    const firstPort = intFlag(values, "metrics-port", 9464, 1)
    const proofBuilders = intFlag(values, "proof-builders", 2, 1)
    const timeoutMs = intFlag(values, "timeout", 60, 1) * 1_000
    const level = typeof values["log-level"] === "string" ? values["log-level"] : "warn"
    const brokers = typeof values.brokers === "string" ? parseBrokers(values.brokers) : undefined
    const config = loadRunConfig(file, values["allow-plaintext-keys"] === true)
    if (brokers === undefined && (config.bus?.brokers ?? []).length === 0) {
      throw new UsageError(
        "a cluster of processes needs Kafka: its consumer groups span processes only there. Give --brokers, or bus.brokers in the config (`chorus run all` runs every service in one process on an embedded log)",
      )
    }
    const running = readClusterState(stateDir)
    if (running?.processes.some((p) => alive(p.pid))) {
      throw new UsageError(
        `a cluster is already up from ${stateDir} (${running.config}); run \`chorus cluster down --state-dir ${stateDir}\` first`,
      )
    }
    const plan = clusterPlan(config, { members: { "proof-builder": proofBuilders }, auditor: true })
    if (firstPort + plan.length - 1 > 65_535)
      throw new UsageError(`--metrics-port: ${plan.length} ports from ${firstPort} pass 65535`)
    mkdirSync(join(stateDir, "logs"), { recursive: true })
    const processes: ClusterProcess[] = plan.map((unit, i) => {
      const metrics = `127.0.0.1:${firstPort + i}`
      const args = [
        "run",
        unit.service,
        ...(unit.instance === undefined ? [] : ["--instance", unit.instance]),
        "--config",
        file,
        ...(brokers === undefined ? [] : ["--brokers", brokers.join(",")]),
        "--metrics",
        metrics,
        "--log-level",
        level,
        ...(values["allow-plaintext-keys"] === true ? ["--allow-plaintext-keys"] : []),
        // The auditor's index, beside the cluster's state rather than in the user's cache.
        ...(unit.service === "auditor" ? ["--index", join(stateDir, "audit", "index.sqlite")] : []),
      ]
      const log = join(stateDir, "logs", `${unit.name}.log`)
      const fd = openSync(log, "a")
      const child = spawn(process.execPath, [CHORUS, ...args], { detached: true, stdio: ["ignore", fd, fd] })
      closeSync(fd)
      // A spawn that fails (a process limit) has no pid; it is reported below, as a process that did not start.
      child.on("error", () => undefined)
      child.unref()
      return { name: unit.name, pid: child.pid ?? 0, metrics, log, args }
    })
    writeClusterState(stateDir, { config: file, startedAt: new Date().toISOString(), processes })
    const deadline = Date.now() + timeoutMs
    const pending = new Set(processes)
    while (pending.size > 0) {
      for (const p of [...pending]) {
        if (!alive(p.pid)) {
          err(`chorus cluster: ${p.name} exited while starting; the end of ${p.log}:\n${tail(p.log)}`)
          await stopProcesses(processes, 10_000)
          removeClusterState(stateDir)
          return 1
        }
        if (await answersHealth(p.metrics, p.pid)) pending.delete(p)
      }
      if (pending.size === 0) break
      if (Date.now() > deadline) {
        const late = [...pending].map((p) => p.name).join(", ")
        err(
          `chorus cluster: no /healthz answer within ${timeoutMs / 1_000} s from ${late}; stopping the cluster`,
        )
        for (const p of pending) err(`  the end of ${p.log}:\n${tail(p.log)}`)
        await stopProcesses(processes, 10_000)
        removeClusterState(stateDir)
        return 1
      }
      await sleep(250)
    }
    const width = Math.max(...processes.map((p) => p.name.length))
    out(`chorus cluster: ${processes.length} processes up from ${file}`)
    for (const p of processes)
      out(`  ${p.name.padEnd(width)}  pid ${p.pid}  http://${p.metrics}/metrics  ${p.log}`)
    out(`stop them with: chorus cluster down --state-dir ${stateDir}`)
    return 0
  },
}

export const clusterDown: Command = {
  path: ["cluster", "down"],
  summary: "stop the cluster `chorus cluster up` started: SIGTERM to each process, SIGKILL after --timeout",
  usage: "cluster down [--state-dir <dir>] [--timeout 30]",
  details: [
    STATE_DETAILS,
    "  --timeout <s>          how long each process has to finish its work in flight and commit (default 30)",
    "Exit status: 0 when every process stopped by itself, 1 when one had to be killed.",
  ].join("\n"),
  options: flags({ values: ["state-dir", "timeout"] }),
  async run({ values, out }) {
    const stateDir = resolve(
      typeof values["state-dir"] === "string" ? values["state-dir"] : DEFAULT_STATE_DIR,
    )
    const timeoutMs = intFlag(values, "timeout", 30, 0) * 1_000
    const state = readClusterState(stateDir)
    if (state === undefined)
      throw new UsageError(
        `no cluster state in ${stateDir}: was \`chorus cluster up\` run with this --state-dir?`,
      )
    const up = state.processes.filter((p) => alive(p.pid))
    const killed = await stopProcesses(up, timeoutMs)
    removeClusterState(stateDir)
    out(
      `chorus cluster: stopped ${up.length - killed.length} of ${state.processes.length} process(es) gracefully${
        killed.length > 0 ? `; killed ${killed.join(", ")} after ${timeoutMs / 1_000} s` : ""
      }${up.length < state.processes.length ? `; ${state.processes.length - up.length} had already exited` : ""}`,
    )
    return killed.length === 0 ? 0 : 1
  },
}
