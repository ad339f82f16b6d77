import { readFileSync, renameSync, writeFileSync } from "node:fs"
import { getAddress } from "viem"
import { ConfigError, loadConfig, operatorIdentity, resolvePrivateKey } from "../../services/config/index.ts"
import { type Command, flags, intFlag, requireString, UsageError } from "../command.ts"

/** `0xAbc…=4000`: an operator and its stake weight (1000 when absent). */
const parseOperators = (text: string): Array<{ address: `0x${string}`; weight: bigint }> =>
  text.split(",").map((entry) => {
    const match = /^\s*(0x[0-9a-fA-F]{40})(?:=(\d{1,28}))?\s*$/.exec(entry)
    if (match === null) {
      throw new UsageError(
        `--operators: ${JSON.stringify(entry)} is not <address>[=<weight>] (e.g. 0xAbC…=4000)`,
      )
    }
    const weight = BigInt(match[2] ?? "1000")
    if (weight === 0n) throw new UsageError(`--operators: ${match[1]} has weight 0`)
    return { address: match[1] as `0x${string}`, weight }
  })

/**
 * The config file's JSON with the deployed addresses written in (checksummed), everything else as it was;
 * `changed` is false when it already named them (in any case).
 */
const withAddresses = (
  file: string,
  result: { registry: string; chains: ReadonlyArray<{ chainId: number; outbox: string; inbox: string }> },
): { text: string; changed: boolean } => {
  const json = JSON.parse(readFileSync(file, "utf8")) as {
    network: { registry: string }
    chains: Array<{ chainId: number; outbox: string; inbox: string }>
  }
  let changed = false
  const put = <K extends string>(target: Record<K, string>, key: K, address: string) => {
    if (target[key].toLowerCase() === address.toLowerCase()) return
    target[key] = getAddress(address)
    changed = true
  }
  put(json.network, "registry", result.registry)
  for (const chain of json.chains) {
    const deployed = result.chains.find((c) => c.chainId === chain.chainId)
    if (deployed === undefined) continue
    put(chain, "outbox", deployed.outbox)
    put(chain, "inbox", deployed.inbox)
  }
  return { text: `${JSON.stringify(json, null, 2)}\n`, changed }
}

/**
 * `chorus deploy --config <file> --deployer-key env:NAME`: deploys (or finds) the contracts on every chain of the
 * config, registers every chain's Outbox on every other chain's Inbox and the hub's operator set on each, and
 * writes the addresses back into the config (and the files given to --sync). Idempotent.
 */
export const deploy: Command = {
  path: ["deploy"],
  summary:
    "deploy or reuse the contracts on each configured chain, register sources and the operator set, write back",
  usage:
    "deploy --config <file> --deployer-key env:NAME [--operators <address>[=<weight>],…] [--threshold-bps 6667] [--sync <file>,…]",
  details: [
    "  --config <file>         the deployment's config. A contract whose configured address holds code is reused;",
    "                          any other (0x000…0 for one to deploy) is deployed. Its addresses are written back",
    "  --deployer-key <key>    env:NAME (or 0x… hex with --allow-plaintext-keys): the account that pays and owns",
    "                          the contracts (the registry's and every Inbox's owner)",
    "  --operators <list>      the operator set a new registry starts with: address=weight, comma-separated",
    "                          (weight 1000 when absent). Default: the config's operators (their keys must open)",
    "  --threshold-bps <n>     the stake share a quorum needs, in basis points (default 6667)",
    "  --sync <files>          other configs of the same network (e.g. each operator's own) to write the addresses to",
    "  --allow-plaintext-keys  take a hex --deployer-key (tests and devnets)",
    "A second run with nothing missing sends no transaction and says so. The registry's set is never changed",
    "here once deployed: change it through its owner (updateOperatorSet); the relay carries it to every Inbox.",
  ].join("\n"),
  options: flags({
    values: ["config", "deployer-key", "operators", "threshold-bps", "sync"],
    switches: ["allow-plaintext-keys"],
  }),
  async run({ values, out }) {
    const file = requireString(values, "config")
    const keyText = requireString(values, "deployer-key")
    if (keyText.startsWith("0x") && values["allow-plaintext-keys"] !== true) {
      throw new UsageError(
        "--deployer-key: give env:NAME, not the key itself (or --allow-plaintext-keys, for tests)",
      )
    }
    if (!/^(0x[0-9a-fA-F]{64}|env:[A-Za-z_][A-Za-z0-9_]*)$/.test(keyText)) {
      throw new UsageError(
        "--deployer-key: expected env:NAME (or 0x + 64 hex digits with --allow-plaintext-keys)",
      )
    }
    const thresholdBps = intFlag(values, "threshold-bps", 6667, 1)
    if (thresholdBps > 10_000) throw new UsageError(`--threshold-bps: ${thresholdBps} is over 10000`)
    const synced = typeof values.sync === "string" ? values.sync.split(",").map((f) => f.trim()) : []
    const config = loadConfig(file)
    for (const other of synced) loadConfig(other)
    const operators =
      typeof values.operators === "string"
        ? parseOperators(values.operators)
        : config.operators.map((o) => ({ address: operatorIdentity(config, o).address, weight: 1000n }))
    if (operators.length === 0) {
      throw new ConfigError(file, [
        {
          path: "operators",
          message: "no operator to start the registry with: configure some, or give --operators",
        },
      ])
    }
    const deployerKey = resolvePrivateKey(keyText, "--deployer-key")
    const { deployNetwork } = await import("../deploy/deploy-network.ts")
    // Each deployment is written at once (atomically): a run that fails later keeps what it deployed.
    const addresses = {
      registry: config.network.registry as string,
      chains: config.chains.map((c) => ({
        chainId: c.chainId,
        outbox: c.outbox as string,
        inbox: c.inbox as string,
      })),
    }
    const written = new Set<string>()
    const writeBack = () => {
      for (const target of [file, ...synced]) {
        const { text, changed } = withAddresses(target, addresses)
        if (!changed) continue
        writeFileSync(`${target}.tmp`, text)
        renameSync(`${target}.tmp`, target)
        written.add(target)
      }
    }
    const result = await deployNetwork({
      config,
      operators,
      thresholdBps,
      deployerKey,
      deployed: (update) => {
        if (update.kind === "registry") addresses.registry = update.address
        else {
          const chain = addresses.chains.find((c) => c.chainId === update.chainId)!
          chain[update.kind] = update.address
        }
        writeBack()
      },
    })
    // What it found already deployed but the config did not say (an address in another case is the same).
    addresses.registry = result.registry
    for (const chain of result.chains)
      Object.assign(addresses.chains.find((c) => c.chainId === chain.chainId)!, chain)
    writeBack()
    for (const step of result.steps) out(step)
    for (const target of written) out(`wrote the addresses into ${target}`)
    if (!result.changed && written.size === 0)
      out("nothing to do: every contract is deployed and configured, and the config says so")
    return 0
  },
}
