/**
 * The chaos run's Kafka broker, and whether the run can restart it.
 *
 * - `--kafka local`: the run starts its own single-node broker with
 *   `scripts/kafka-local` on a free port pair and a data directory inside
 *   the run's directory, watched (`KAFKA_WATCH_PID`) so it stops when the
 *   harness dies, however it dies; the run restarts it and stops it at the end.
 * - `--kafka local --kafka-brokers 3`: the run's own cluster of three
 *   (`scripts/kafka-local start --brokers 3`, six free consecutive ports),
 *   watched the same way. Its fault is a crash of one broker: `kill-broker`
 *   (SIGKILL) of the second node, held down while the traffic runs, then
 *   `start-broker`; the other two keep every partition's in-sync quorum.
 * - `--kafka host:port[,…]` with `--kafka-node-dir <dir>`: a broker that
 *   `scripts/kafka-local` runs from that data directory (`.ci/run` exports
 *   it as `KAFKA_DATA_DIR`); the run restarts it with the same script, and
 *   leaves it running at the end.
 * - `--kafka host:port[,…]` alone: a broker someone else runs. The run cannot
 *   restart it, and says so: the broker fault is reported as not done.
 *
 * @module
 */
import { execFile } from "node:child_process"
import { appendFileSync, mkdirSync, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const KAFKA_LOCAL = fileURLToPath(new URL("../../scripts/kafka-local", import.meta.url))

export interface RunBroker {
  readonly brokers: ReadonlyArray<string>
  /** Null when the run can restart the broker; otherwise why not. */
  readonly notRestartable: string | null
  /** Stops and starts a broker again; resolves once it answers, with how long it was down and what was done. */
  restart(): Promise<{ readonly downMs: number; readonly what: string }>
  /** Stops the broker if the run started it. */
  release(): Promise<void>
}

const script = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, log: string) =>
  new Promise<void>((resolve, reject) => {
    execFile(
      "bash",
      [KAFKA_LOCAL, ...args],
      { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        appendFileSync(log, `=== scripts/kafka-local ${args.join(" ")}\n${stdout}${stderr}`)
        if (error === null) resolve()
        else
          reject(
            new Error(
              `scripts/kafka-local ${args.join(" ")} failed: ${stderr.trim().split("\n").slice(-5).join(" | ")}`,
            ),
          )
      },
    )
  })

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

/** `count` consecutive free ports, searched from a random base: a node's client and controller ports. */
const freePorts = async (count: number): Promise<number> => {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + count * Math.floor(Math.random() * (20_000 / count))
    let free = true
    for (let i = 0; i < count && free; i++) free = await portFree(port + i)
    if (free) return port
  }
  throw new Error(`no ${count} consecutive free ports for the run's Kafka`)
}

const controlled = (
  port: number,
  controller: number,
  dataDir: string,
  log: string,
  own: boolean,
): RunBroker => {
  const env = {
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controller),
    KAFKA_DATA_DIR: dataDir,
    ...(own ? { KAFKA_WATCH_PID: String(process.pid) } : { KAFKA_WATCH_PID: "" }),
  }
  return {
    brokers: [`127.0.0.1:${port}`],
    notRestartable: null,
    restart: async () => {
      const stopped = Date.now()
      await script(["stop"], env, log)
      await script(["start"], env, log)
      return { downMs: Date.now() - stopped, what: `broker at 127.0.0.1:${port} stopped and started again` }
    },
    release: async () => {
      if (own) await script(["stop"], env, log).catch(() => undefined)
    },
  }
}

/**
 * Starts the run's own broker.
 *
 * @example
 * ```ts
 * const broker = await startLocalBroker(join(runDir, "kafka"), join(runDir, "logs", "kafka.log"))
 * await broker.restart()
 * await broker.release()
 * ```
 */
export const startLocalBroker = async (dataDir: string, log: string): Promise<RunBroker> => {
  mkdirSync(dataDir, { recursive: true })
  const port = await freePorts(2)
  const broker = controlled(port, port + 1, dataDir, log, true)
  await script(
    ["start", "--fresh"],
    {
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(port + 1),
      KAFKA_DATA_DIR: dataDir,
      KAFKA_WATCH_PID: String(process.pid),
    },
    log,
  )
  return broker
}

/** How long the cluster's crashed broker stays down: long enough for leaders to move and producers to notice. */
export const CLUSTER_BROKER_DOWN_MS = 10_000
/** The node the cluster's fault crashes (1-based): not the first, whose address every config lists first. */
const CRASHED_NODE = 2

/**
 * Starts the run's own cluster of three brokers.
 *
 * @example
 * ```ts
 * const cluster = await startLocalCluster(join(runDir, "kafka"), join(runDir, "logs", "kafka.log"))
 * await cluster.restart() // kill -9 of node 2, 10 s down, started again
 * await cluster.release()
 * ```
 */
export const startLocalCluster = async (dataDir: string, log: string): Promise<RunBroker> => {
  mkdirSync(dataDir, { recursive: true })
  const port = await freePorts(6)
  const env = {
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(port + 3),
    KAFKA_DATA_DIR: dataDir,
    KAFKA_WATCH_PID: String(process.pid),
    // A relay of a dozen processes on two cores slows the controllers down: a node takes minutes to rejoin.
    KAFKA_START_TIMEOUT: process.env.KAFKA_START_TIMEOUT ?? "600",
  }
  await script(["start", "--fresh", "--brokers", "3"], env, log)
  const crashed = `127.0.0.1:${port + CRASHED_NODE - 1}`
  return {
    brokers: [0, 1, 2].map((i) => `127.0.0.1:${port + i}`),
    notRestartable: null,
    restart: async () => {
      const killed = Date.now()
      await script(["kill-broker", String(CRASHED_NODE)], env, log)
      await new Promise((resolve) => setTimeout(resolve, CLUSTER_BROKER_DOWN_MS))
      await script(["start-broker", String(CRASHED_NODE)], env, log)
      return {
        downMs: Date.now() - killed,
        what: `broker ${CRASHED_NODE} of 3 (${crashed}) killed (SIGKILL) and started again with its data`,
      }
    },
    release: () => script(["stop"], env, log).catch(() => undefined),
  }
}

/**
 * A broker the run did not start: restartable only through `scripts/kafka-local` with its data directory,
 * and only when it runs there on the first broker's port.
 *
 * @example
 * ```ts
 * const broker = await externalBroker(["127.0.0.1:9092"], process.env.KAFKA_DATA_DIR, log)
 * broker.notRestartable // null when scripts/kafka-local runs it from that directory
 * ```
 */
export const externalBroker = async (
  brokers: ReadonlyArray<string>,
  nodeDir: string | undefined,
  log: string,
): Promise<RunBroker> => {
  const fixed = (why: string): RunBroker => ({
    brokers,
    notRestartable: why,
    restart: () => Promise.reject(new Error(why)),
    release: () => Promise.resolve(),
  })
  if (nodeDir === undefined) {
    return fixed(
      `the broker at ${brokers.join(",")} was not started by this run, and no --kafka-node-dir says how to restart it ` +
        "(pass the KAFKA_DATA_DIR of its scripts/kafka-local node, or use --kafka local)",
    )
  }
  const [host, portText] = brokers[0]!.split(":")
  const port = Number(portText)
  if (host !== "127.0.0.1" && host !== "localhost") {
    return fixed(`--kafka-node-dir needs a broker on this machine, and ${brokers[0]} is not on 127.0.0.1`)
  }
  try {
    await script(["status"], { KAFKA_PORT: String(port), KAFKA_DATA_DIR: nodeDir }, log)
  } catch {
    return fixed(`scripts/kafka-local runs no broker on port ${port} from ${nodeDir} (see ${log})`)
  }
  // The node's controller port, as its last start wrote it (scripts/kafka-local regenerates the file on start).
  let controller = port + 1
  try {
    const voters = /controller\.quorum\.voters=\d+@[^:]+:(\d+)/.exec(
      readFileSync(join(nodeDir, "server.properties"), "utf8"),
    )
    if (voters !== null) controller = Number(voters[1])
  } catch {
    // No file: the script's default, the port after the broker's.
  }
  return controlled(port, controller, nodeDir, log, false)
}
