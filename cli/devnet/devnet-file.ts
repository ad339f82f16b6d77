/**
 * `<dataDir>/devnet.json`: what a running devnet is, for the commands that
 * act on it afterwards (`chorus devnet open-recipients`, the incident tools'
 * checks). `config.json` beside it is what the services need; this file adds
 * what only a devnet has: each chain's RPC and recipients, and the anvil
 * account that owns the GatedRecipients.
 *
 * Addresses are lowercase, as in every Chorus event, so they compare
 * directly with the log.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Schema } from "effect"
import { privateKeyToAccount } from "viem/accounts"
import { ChorusError } from "../../errors/index.ts"
import {
  Address,
  ChainId,
  decodeAllOrThrow,
  type FieldIssue,
  lowercaseAddresses,
} from "../../schemas/index.ts"
import { ANVIL_KEYS, type DevnetWorld } from "./world.ts"

/** The file's name inside the devnet's data directory. */
export const DEVNET_FILE = "devnet.json"

const Url = Schema.String.check(
  Schema.isPattern(/^https?:\/\/[^\s]+$/, { message: "expected an http(s) URL" }),
)
const PrivateKey = Schema.String.check(
  Schema.isPattern(/^0x[0-9a-f]{64}$/, { message: "expected a private key: 0x and 64 lowercase hex digits" }),
)
const AnvilAccount = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 9 }))

export const DevnetFileChain = Schema.Struct({
  chainId: ChainId,
  rpcUrl: Url,
  outbox: Address,
  inbox: Address,
  pingRecipient: Address,
  gatedRecipient: Address,
})
export type DevnetFileChain = typeof DevnetFileChain.Type

export const DevnetFile = Schema.Struct({
  version: Schema.Literal(1),
  /** The services' configuration, relative to this file. */
  config: Schema.String,
  bus: Schema.Union([
    Schema.Struct({ kind: Schema.Literal("embedded"), dataDir: Schema.String }),
    Schema.Struct({ kind: Schema.Literal("kafka"), brokers: Schema.Array(Schema.String) }),
  ]),
  network: Schema.Struct({ registryChainId: ChainId, registry: Address }),
  chains: Schema.Array(DevnetFileChain).check(
    Schema.isMinLength(1, { message: "expected at least one chain" }),
  ),
  /** The anvil account (of the default test mnemonic) that deployed everything and owns the GatedRecipients. */
  gatedRecipientOwner: Schema.Struct({
    anvilAccount: AnvilAccount,
    address: Address,
    privateKey: PrivateKey,
  }),
  /** The anvil account that sends the demo traffic: the `sender` of every devnet message. */
  trafficSender: Schema.Struct({ anvilAccount: AnvilAccount, address: Address }),
})
export type DevnetFile = typeof DevnetFile.Type

/** No devnet.json where one was expected. */
export class DevnetFileMissingError extends ChorusError {
  override readonly name = "DevnetFileMissingError"
  constructor(path: string, cause: unknown) {
    super(`no devnet description at ${path} (${(cause as Error).message})`, {
      details: { path },
      hint:
        "Pass the --data-dir of a running `chorus devnet --data-dir <dir>`; a devnet started without --data-dir " +
        "keeps its files in a temporary directory, printed at start, that is removed when it stops.",
      cause,
    })
  }
}

/** A devnet.json that cannot be used: every problem, each with its path in the file. */
export class DevnetFileInvalidError extends ChorusError {
  override readonly name = "DevnetFileInvalidError"
  constructor(path: string, issues: ReadonlyArray<FieldIssue>) {
    super(`invalid devnet description in ${path}:`, {
      details: { path, issues },
      metaMessages: issues.map((i) => `- ${i.path === "" ? "(top level)" : i.path}: ${i.message}`),
      hint: "It is written by `chorus devnet`; start the devnet again rather than editing it.",
    })
  }
}

const lower = (address: string) => address.toLowerCase()

/**
 * The description of a started devnet, ready to be written.
 *
 * @example
 * ```ts
 * const file = describeDevnet(world, { kind: "embedded", dataDir: "/tmp/d/log" })
 * file.chains[0].gatedRecipient // "0x…"
 * ```
 */
export const describeDevnet = (world: DevnetWorld, bus: DevnetFile["bus"]): DevnetFile => {
  const hub = world.chains[0]!
  const sender = privateKeyToAccount(ANVIL_KEYS.sender)
  const encoded = {
    version: 1,
    config: "config.json",
    bus,
    network: { registryChainId: hub.chainId, registry: lower(world.registry) },
    chains: world.chains.map((c) => ({
      chainId: c.chainId,
      rpcUrl: c.rpcUrl,
      outbox: lower(c.outbox),
      inbox: lower(c.inbox),
      pingRecipient: lower(c.recipient),
      gatedRecipient: lower(c.gatedRecipient),
    })),
    gatedRecipientOwner: { anvilAccount: 0, address: lower(world.owner), privateKey: ANVIL_KEYS.deployer },
    trafficSender: { anvilAccount: 4, address: lower(sender.address) },
  }
  return decodeDevnetFile(encoded, "<new devnet>")
}

/**
 * Writes `<dataDir>/devnet.json` and returns its path.
 *
 * @example
 * ```ts
 * writeDevnetFile(dataDir, describeDevnet(world, { kind: "embedded", dataDir: join(dataDir, "log") }))
 * ```
 */
export const writeDevnetFile = (dataDir: string, file: DevnetFile): string => {
  const path = join(dataDir, DEVNET_FILE)
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`)
  return path
}

/**
 * Decodes a devnet description, collecting every problem. Checksummed
 * addresses are accepted and lowercased.
 *
 * @example
 * ```ts
 * const file = decodeDevnetFile(JSON.parse(text), "devnet.json")
 * ```
 */
export const decodeDevnetFile = (input: unknown, path: string): DevnetFile => {
  return decodeAllOrThrow(
    DevnetFile,
    lowercaseAddresses(input),
    (issues) => new DevnetFileInvalidError(path, issues),
  )
}

/**
 * Reads `<dataDir>/devnet.json`.
 *
 * @example
 * ```ts
 * const { chains, gatedRecipientOwner } = readDevnetFile(".data/devnet")
 * ```
 */
export const readDevnetFile = (dataDir: string): DevnetFile => {
  const path = join(dataDir, DEVNET_FILE)
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (error) {
    throw new DevnetFileMissingError(path, error)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new DevnetFileInvalidError(path, [
      { path: "", message: `not valid JSON: ${(error as Error).message}` },
    ])
  }
  return decodeDevnetFile(json, path)
}
