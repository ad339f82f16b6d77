/**
 * docker-compose.yml and the Dockerfile held to the code, since no Docker
 * engine runs here: every process of the cluster plan (`clusterPlan`, what
 * `chorus cluster up` runs) is a container whose command the CLI's own parser
 * takes as a valid `chorus run` of that unit, with a config that decodes and
 * only its own key; every other Chorus container runs a real command;
 * Prometheus scrapes every process; Kafka keeps its data in a volume; the
 * image is multi-stage, on the pinned Node, without dev dependencies.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { parseCommandArgs } from "../cli/command.ts"
import { COMMANDS } from "../cli/main.ts"
import { type ChorusConfig, loadConfig } from "../services/config/index.ts"
import { clusterPlan } from "../services/registry.ts"

const ROOT = join(import.meta.dirname, "..")
const COMPOSE_DIR = join(ROOT, "deploy", "compose")
const MOUNT = "/etc/chorus"

interface ComposeService {
  readonly image?: string
  readonly build?: unknown
  readonly command?: ReadonlyArray<string>
  readonly environment?: Readonly<Record<string, string>>
  readonly volumes?: ReadonlyArray<string>
  readonly profiles?: ReadonlyArray<string>
  readonly healthcheck?: unknown
}

const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>
  volumes: Record<string, unknown>
}
const devnetEnv = Object.fromEntries(
  readFileSync(join(COMPOSE_DIR, "devnet.env"), "utf8")
    .split("\n")
    .filter((l) => /^[A-Z_0-9]+=/.test(l))
    .map((l) => l.split("=") as [string, string]),
)

/** The config file a container's `--config` names, read from the repository (the mount's source). */
const configOf = (command: ReadonlyArray<string>): { path: string; config: ChorusConfig } => {
  const at = command.indexOf("--config")
  const inContainer = command[at + 1]!
  expect(inContainer.startsWith(`${MOUNT}/`), inContainer).toBe(true)
  const path = join(COMPOSE_DIR, inContainer.slice(MOUNT.length + 1))
  return { path, config: loadConfig(path) }
}

/** A command as `chorus` parses it: the command it selects and its flags, or the parser's error. */
const parseChorus = async (argv: ReadonlyArray<string>) => {
  const entry = COMMANDS.filter((c) => c.path.every((w, i) => argv[i] === w)).sort(
    (a, b) => b.path.length - a.path.length,
  )[0]
  expect(entry, argv.join(" ")).toBeDefined()
  const command = await entry!.load()
  return { path: command.path.join(" "), ...parseCommandArgs(command, argv.slice(command.path.length)) }
}

const chorusServices = Object.entries(compose.services).filter(
  ([, s]) => s.image?.startsWith("chorus:") === true,
)

describe("docker-compose.yml", () => {
  it("runs every process of the cluster plan as its own container, each a valid chorus run of its unit", async () => {
    // The whole network's view: the shared config, with every operator's own entry.
    const shared = loadConfig(join(COMPOSE_DIR, "chorus.json"))
    const operatorFiles = Object.keys(compose.services)
      .filter((n) => /^operator-\d+$/.test(n))
      .map((n) => join(COMPOSE_DIR, `${n}.json`))
    const saved = { ...process.env }
    Object.assign(process.env, devnetEnv)
    try {
      const whole = {
        ...shared,
        operators: operatorFiles.flatMap((f) => loadConfig(f).operators),
      } as ChorusConfig
      const plan = clusterPlan(whole, { members: { "proof-builder": 2 }, auditor: true })
      expect(plan.length).toBeGreaterThan(10)
      for (const unit of plan) {
        const service = compose.services[unit.name]
        expect(service, `no container for ${unit.name}`).toBeDefined()
        expect(service!.image).toMatch(/^chorus:/)
        const parsed = await parseChorus(service!.command!)
        expect(parsed.path, unit.name).toBe("run")
        expect(parsed.positionals, unit.name).toEqual([unit.service])
        const { config, path } = configOf(service!.command!)
        if (unit.service === "operator") {
          // An operator's container holds its own config, with its own entry and key only.
          expect(config.operators, path).toHaveLength(1)
          const key = config.operators[0]!.privateKey
          expect(typeof key === "string" && key.startsWith("env:"), path).toBe(true)
          expect(Object.keys(service!.environment ?? {})).toEqual([(key as string).slice(4)])
          expect(parsed.values.instance).toBeUndefined()
        } else {
          expect(parsed.values.instance, unit.name).toBe(unit.instance)
          expect(config.operators, `${unit.name}: no operator key beside other services`).toEqual([])
        }
        if (unit.service === "submitter") {
          expect(Object.keys(service!.environment ?? {})).toEqual([`CHORUS_SUBMITTER_${unit.instance}_KEY`])
        } else if (unit.service !== "operator") {
          expect(service!.environment, `${unit.name} gets no key`).toBeUndefined()
        }
        expect(parsed.values.metrics, unit.name).toBe("0.0.0.0:9464")
        expect(service!.healthcheck, unit.name).toBeDefined()
      }
      // Nothing runs that the plan does not know, but the tools.
      const planned = new Set(plan.map((u) => u.name))
      const tools = chorusServices.map(([n]) => n).filter((n) => !planned.has(n))
      expect(tools.sort()).toEqual(["deploy", "topics"])
    } finally {
      process.env = saved
    }
  })

  it("runs the tools as real commands: the topics, and the devnet profile's deployment of the contracts", async () => {
    const topics = await parseChorus(compose.services.topics!.command!)
    expect(topics.path).toBe("topics create")
    const deploy = await parseChorus(compose.services.deploy!.command!)
    expect(deploy.path).toBe("deploy")
    expect(compose.services.deploy!.profiles).toEqual(["devnet"])
    configOf(compose.services.deploy!.command!)
    for (const synced of String(deploy.values.sync).split(",")) {
      expect(synced.startsWith(`${MOUNT}/`)).toBe(true)
      loadConfig(join(COMPOSE_DIR, synced.slice(MOUNT.length + 1)))
    }
    for (const chain of [901, 902, 903])
      expect(compose.services[`anvil-${chain}`]!.profiles).toEqual(["devnet"])
  })

  it("keeps Kafka's data and the audit index in volumes, and Prometheus scrapes every process with the alert rules", () => {
    expect(compose.services.kafka!.volumes).toContain("kafka-data:/var/lib/kafka/data")
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(["kafka-data", "audit-index"]))
    const prometheus = parse(readFileSync(join(ROOT, "deploy", "prometheus", "prometheus.yml"), "utf8")) as {
      rule_files: string[]
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>
    }
    expect(prometheus.rule_files).toEqual(["alerts.yml"])
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets))
    const processes = Object.entries(compose.services)
      .filter(([, s]) => s.command?.[0] === "run")
      .map(([name]) => `${name}:9464`)
    expect(targets.sort()).toEqual(processes.sort())
    expect(compose.services.prometheus!.volumes).toContain("./deploy/prometheus:/etc/prometheus:ro")
  })
})

describe("Dockerfile", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8")
  it("builds on the Node the project pins, in stages, and ships no dev dependency", () => {
    const pinned = (
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { devDependencies: { node: string } }
    ).devDependencies.node
    expect(dockerfile).toContain(`ARG NODE_IMAGE=node:${pinned}-bookworm-slim`)
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3)
    expect(dockerfile).toMatch(/npm ci --omit=dev/)
    // The final stage takes its node_modules from the runtime stage, not from the build with solc.
    const final = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "))
    expect(final).toContain("COPY --from=runtime-deps /build/node_modules ./node_modules")
    expect(final).toMatch(/^USER node$/m)
    expect(final).toMatch(/^ENTRYPOINT \["node", "bin\/chorus.js"\]$/m)
  })

  it("copies every source folder the CLI loads", () => {
    const final = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "))
    for (const folder of [
      "bin",
      "bus",
      "chains",
      "cli",
      "contracts",
      "crypto",
      "errors",
      "metrics",
      "schemas",
      "services",
      "topology",
    ]) {
      expect(final, folder).toContain(`COPY ${folder} ./${folder}`)
    }
  })
})
