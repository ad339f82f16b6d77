/**
 * docker-compose.yml and the Dockerfile held to the code, since no Docker
 * engine runs here: every process of the cluster plan (`clusterPlan`, what
 * `chorus cluster up` runs) is a container whose command the CLI's own parser
 * takes as a valid `chorus run` of that unit, with a config that decodes and
 * only its own key, logging in to Kafka as its service's principal; Kafka
 * authenticates every client and authorizes by the topology's ACLs; every
 * other Chorus container runs a real command;
 * Prometheus scrapes every process; Kafka keeps its data in a volume; the
 * image is multi-stage, on the pinned Node, without dev dependencies.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { parseCommandArgs } from "../cli/command.ts"
import { COMMANDS } from "../cli/main.ts"
import { type ChorusConfig, loadConfig } from "../services/config/index.ts"
import { clusterPlan, SERVICE_DEFINITIONS } from "../services/registry.ts"
import { aclPrincipals, DEFAULT_PRINCIPAL_PREFIX } from "../topology/acls.ts"
import { ALL_TOPICS, TOOLS } from "../topology/index.ts"

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

/** The two variables every Chorus container logs in to Kafka with. */
const KAFKA_LOGIN = ["CHORUS_KAFKA_SASL_USERNAME", "CHORUS_KAFKA_SASL_PASSWORD"]
const principals = aclPrincipals({ services: SERVICE_DEFINITIONS, tools: TOOLS, topics: ALL_TOPICS })
/** The SASL user the topology's ACLs give a service's rights to. */
const userOf = (service: string): string => {
  const principal = principals.find(
    (p) => p.kind === "service" && p.principal === `${DEFAULT_PRINCIPAL_PREFIX}${service}`,
  )
  expect(principal, `no principal for ${service}`).toBeDefined()
  return principal!.user
}
/** Where the compose file takes a user's password from. */
const passwordVariable = (user: string) =>
  `CHORUS_KAFKA_PASSWORD_${user
    .replace(/^chorus-/, "")
    .toUpperCase()
    .replaceAll("-", "_")}`

/** A Kafka container's environment as the apache/kafka image writes it into server.properties. */
const kafkaProperties = (environment: Readonly<Record<string, string | number>>): Map<string, string> =>
  new Map(
    Object.entries(environment)
      .filter(([name]) => name.startsWith("KAFKA_"))
      .map(([name, value]) => [
        name
          .slice("KAFKA_".length)
          .toLowerCase()
          .replaceAll("___", "\u0000")
          .replaceAll("__", "\u0001")
          .replaceAll("_", ".")
          .replaceAll("\u0000", "-")
          .replaceAll("\u0001", "_"),
        String(value),
      ]),
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
          expect(Object.keys(service!.environment ?? {})).toEqual([...KAFKA_LOGIN, (key as string).slice(4)])
          expect(parsed.values.instance).toBeUndefined()
        } else {
          expect(parsed.values.instance, unit.name).toBe(unit.instance)
          expect(config.operators, `${unit.name}: no operator key beside other services`).toEqual([])
        }
        if (unit.service === "submitter") {
          expect(Object.keys(service!.environment ?? {})).toEqual([
            ...KAFKA_LOGIN,
            `CHORUS_SUBMITTER_${unit.instance}_KEY`,
          ])
        } else if (unit.service !== "operator") {
          expect(Object.keys(service!.environment ?? {}), `${unit.name} gets no key`).toEqual(KAFKA_LOGIN)
        }
        // It logs in to Kafka as its service's principal, the one the ACLs grant its service's rights.
        expect(service!.environment!.CHORUS_KAFKA_SASL_USERNAME, unit.name).toBe(userOf(unit.service))
        expect(service!.environment!.CHORUS_KAFKA_SASL_PASSWORD, unit.name).toMatch(
          new RegExp(`^\\$\\{${passwordVariable(userOf(unit.service))}:\\?`),
        )
        expect(parsed.values.metrics, unit.name).toBe("0.0.0.0:9464")
        expect(service!.healthcheck, unit.name).toBeDefined()
      }
      // Nothing runs that the plan does not know, but the tools.
      const planned = new Set(plan.map((u) => u.name))
      const tools = chorusServices.map(([n]) => n).filter((n) => !planned.has(n))
      expect(tools.sort()).toEqual(["deploy", "topics"])
      expect(compose.services["kafka-users"]!.image).toMatch(/^apache\/kafka:/)
    } finally {
      process.env = saved
    }
  })

  it("secures Kafka: every client logs in with SCRAM, nothing is allowed without an ACL, and the topics step creates the topology's ACLs as admin", async () => {
    const kafka = kafkaProperties(compose.services.kafka!.environment!)
    expect(kafka.get("authorizer.class.name")).toBe("org.apache.kafka.metadata.authorizer.StandardAuthorizer")
    expect(kafka.get("allow.everyone.if.no.acl.found")).toBe("false")
    expect(kafka.get("sasl.enabled.mechanisms")).toBe("SCRAM-SHA-512")
    expect(kafka.get("super.users")!.split(";").sort()).toEqual(["User:ANONYMOUS", "User:admin"])
    // Every listener another container or the host reaches logs clients in; the unauthenticated ones (whose
    // principal, ANONYMOUS, is a super user) are bound to the node's own loopback.
    const protocols = new Map(
      kafka
        .get("listener.security.protocol.map")!
        .split(",")
        .map((pair) => pair.split(":") as [string, string]),
    )
    const listeners = kafka.get("listeners")!.split(",")
    expect(listeners.length).toBeGreaterThan(2)
    for (const listener of listeners) {
      const [name, host] = listener.split("://") as [string, string]
      const protocol = protocols.get(name)
      if (protocol === "PLAINTEXT") expect(host, listener).toMatch(/^127\.0\.0\.1:/)
      else {
        expect(protocol, listener).toBe("SASL_PLAINTEXT")
        expect(
          kafka.get(`listener.name.${name.toLowerCase()}.scram-sha-512.sasl.jaas.config`),
          listener,
        ).toMatch(/ScramLoginModule required;$/)
      }
    }
    expect(kafka.get("controller.quorum.voters")).toBe("1@127.0.0.1:9093")
    // Clients reach the broker on its SASL listener.
    for (const [name, service] of chorusServices) {
      const brokers = service.command?.includes("--brokers")
        ? service.command[service.command.indexOf("--brokers") + 1]
        : name === "deploy"
          ? undefined
          : loadConfig(join(COMPOSE_DIR, "chorus.json")).bus?.brokers?.join(",")
      if (brokers !== undefined) expect(brokers, name).toBe("kafka:19092")
    }
    expect(listeners).toContain("CLIENTS://0.0.0.0:19092")
    expect(protocols.get("CLIENTS")).toBe("SASL_PLAINTEXT")

    // Every principal the ACLs name gets a password, and every password comes from the env file.
    const users = compose.services["kafka-users"]!
    expect(users.environment!.CHORUS_KAFKA_USERS!.split(" ")).toEqual([
      "admin",
      ...principals.map((p) => p.user),
    ])
    for (const user of ["admin", ...principals.map((p) => p.user)]) {
      const variable = passwordVariable(user)
      expect(users.environment![variable], variable).toBe(
        `\${${variable}:?set it: deploy/compose/devnet.env for the devnet profile}`,
      )
      expect(devnetEnv[variable], `devnet.env has no ${variable}`).toBeDefined()
    }
    expect((users as { network_mode?: string }).network_mode).toBe("service:kafka")

    const topics = await parseChorus(compose.services.topics!.command!)
    expect(topics.values.acls).toBe(true)
    expect(compose.services.topics!.environment!.CHORUS_KAFKA_SASL_USERNAME).toBe("admin")
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
    // Every top-level folder with source the CLI can load: all but the tests', benchmarks', tools' and docs'.
    const notShipped = new Set(["bench", "deploy", "docs", "node_modules", "scripts", "test", "test-output"])
    const folders = readdirSync(ROOT, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && !notShipped.has(entry.name))
      .filter((entry) =>
        readdirSync(join(ROOT, entry.name), { recursive: true }).some(
          (file) => /\.(ts|js)$/.test(String(file)) && !String(file).endsWith(".test.ts"),
        ),
      )
      .map((entry) => entry.name)
    expect(folders).toEqual(expect.arrayContaining(["bin", "cli", "explorer", "services"]))
    for (const folder of folders) expect(final, folder).toContain(`COPY ${folder} ./${folder}`)
  })
})
