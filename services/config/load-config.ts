import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { Exit, Schema } from "effect"
import { publicKeyToAddress } from "viem/accounts"
import type { SigningKey } from "../../chains/chain-access.ts"
import { type FieldIssue, issuesOf } from "../../schemas/index.ts"
import { ConfigError } from "./config-error.ts"
import { decryptKeystore, KeystoreError } from "./keystore.ts"
import { isPlaintextKey, PRIVATE_KEY_FORMS, type PrivateKey } from "./private-key.ts"
import { ChorusConfig } from "./schema.ts"

/** A key field's path (`operators[0].privateKey`, `submitters[1].busKey`), and what follows it in an issue's. */
const KEY_FIELD = /^(.*\.(?:privateKey|busKey))(?:\.|$)/

export { ConfigError }

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/**
 * Addresses are written checksummed (EIP-55) as often as not; Chorus's own
 * `Address` is lowercase, so the file's addresses are lowercased before
 * decoding rather than rejected. Nothing else is rewritten.
 */
const lowercaseAddresses = (input: unknown): unknown => {
  if (Array.isArray(input)) return input.map(lowercaseAddresses)
  if (typeof input === "string") return ADDRESS.test(input) ? input.toLowerCase() : input
  if (input === null || typeof input !== "object") return input
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, lowercaseAddresses(v)]))
}

/**
 * Decodes a configuration object, collecting every problem.
 *
 * @example
 * ```ts
 * const config = decodeConfig({ network: {...}, chains: [...] }, "inline")
 * ```
 */
export const decodeConfig = (input: unknown, file = "<inline>"): ChorusConfig => {
  const exit = Schema.decodeUnknownExit(ChorusConfig)(lowercaseAddresses(input), {
    errors: "all",
    // A misspelt key would otherwise be dropped, and the default it stood for used in silence.
    onExcessProperty: "error",
  })
  if (Exit.isSuccess(exit)) return exit.value
  const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (failure === undefined || !Schema.isSchemaError(failure.error)) throw failure?.error ?? exit.cause
  throw new ConfigError(file, plainIssues(issuesOf(failure.error), input))
}

/** The value at a formatted issue path (`chains[0].finality`) of the file's JSON. */
const valueAt = (input: unknown, path: string): unknown => {
  let at: unknown = input
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (at === null || typeof at !== "object") return undefined
    at = (at as Record<string, unknown>)[part]
  }
  return at
}

const shown = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(value))

const FINALITY_FORMS = '{"tag": "finalized"}, {"tag": "safe"} or {"confirmations": <0 to 10000>}'

/**
 * The decoder's issues, said for a config file: a union's failure once, as the forms it takes (not one
 * "missing key" per form it is not); an address as the file may write it (any case, lowercased here); an
 * unknown key as one; each with the value the file holds.
 */
const plainIssues = (issues: ReadonlyArray<FieldIssue>, input: unknown): FieldIssue[] => {
  const out: FieldIssue[] = []
  const finalities = new Set<string>()
  for (const issue of issues) {
    const finality = /^(.*\.finality)(\.|$)/.exec(issue.path)?.[1]
    if (finality !== undefined) {
      if (finalities.has(finality)) continue
      finalities.add(finality)
      out.push({
        path: finality,
        message: `expected ${FINALITY_FORMS}, got ${shown(valueAt(input, finality))}`,
      })
    } else if (KEY_FIELD.test(issue.path)) {
      // A key field is a union: say its forms once for a string, and only the keystore's own fields for an object.
      const field = KEY_FIELD.exec(issue.path)![1]!
      const value = valueAt(input, field)
      if (typeof value === "object" && value !== null) {
        // A keystore's or a signer's own fields, in words of ours: the decoder's may quote a passphrase written
        // in place. The union reports every member's failures; only the member the object means is said.
        const part = issue.path.slice(field.length + 1)
        const remote = "web3signer" in value
        const fields: Readonly<Record<string, string>> = remote
          ? {
              web3signer: "expected the signer's http(s) URL",
              publicKey: "expected the uncompressed public key: 0x, optionally 04, then 128 hex digits",
            }
          : {
              keystore: "expected the keystore file's path",
              passphrase: "expected env:VARIABLE or file:<path> (never the passphrase itself)",
            }
        const said = `${issue.path}\u0000${fields[part] ?? part}`
        if (finalities.has(said)) continue
        finalities.add(said)
        if (fields[part] !== undefined) out.push({ path: issue.path, message: fields[part] })
        else if (part === "") out.push({ path: issue.path, message: `expected ${PRIVATE_KEY_FORMS}` })
        else if (!(remote ? ["keystore", "passphrase"] : ["web3signer", "publicKey"]).includes(part)) {
          out.push({ path: issue.path, message: "unknown key" })
        }
      } else if (!finalities.has(field)) {
        finalities.add(field)
        out.push({
          path: field,
          // Never the value: a key mistyped is still most of a key.
          message: `expected ${PRIVATE_KEY_FORMS}, got ${typeof value === "string" ? `a ${value.length}-character string` : value === undefined ? "nothing" : Array.isArray(value) ? "an array" : typeof value}`,
        })
      }
    } else if (/excess property|^Unexpected key/.test(issue.message)) {
      // In words of ours: the decoder's may quote the value.
      out.push({
        path: issue.path,
        message: "unknown key (misspelt, or not in this version: services/config/schema.ts lists every key)",
      })
    } else if (/^expected an address/.test(issue.message)) {
      out.push({
        path: issue.path,
        message: `expected an address: 0x and 40 hex digits (checksummed or not), got ${shown(valueAt(input, issue.path))}`,
      })
    } else out.push(issue)
  }
  return out
}

/**
 * Reads and decodes a JSON configuration file.
 *
 * @example
 * ```ts
 * const config = loadConfig("config.json")
 * ```
 */
export const loadConfig = (file: string): ChorusConfig => {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (error) {
    throw new ConfigError(file, [{ path: "", message: `cannot read the file: ${(error as Error).message}` }])
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new ConfigError(file, [{ path: "", message: `not valid JSON: ${(error as Error).message}` }])
  }
  return decodeConfig(keyPathsFrom(json, dirname(resolve(file))), file)
}

/** Keystore and passphrase files named relative to the config file, made absolute: a key file sits beside its config. */
const keyPathsFrom = (input: unknown, dir: string): unknown => {
  if (Array.isArray(input)) return input.map((item) => keyPathsFrom(item, dir))
  if (input === null || typeof input !== "object") return input
  const entries = Object.entries(input).map(([k, v]) => [k, keyPathsFrom(v, dir)] as const)
  const object = Object.fromEntries(entries) as Record<string, unknown>
  if (typeof object.keystore === "string" && typeof object.passphrase === "string") {
    object.keystore = resolve(dir, object.keystore)
    if (object.passphrase.startsWith("file:"))
      object.passphrase = `file:${resolve(dir, object.passphrase.slice(5))}`
  }
  return object
}

/** Keys opened from keystores in this process, by file and passphrase source: a key is decrypted once. */
const opened = new Map<string, `0x${string}`>()

const passphraseOf = (source: string, path: string, env: NodeJS.ProcessEnv): string => {
  if (source.startsWith("env:")) {
    const value = env[source.slice(4)]
    if (value === undefined || value === "") {
      throw new ConfigError("<environment>", [
        { path: `${path}.passphrase`, message: `${source.slice(4)} is not set` },
      ])
    }
    return value
  }
  const file = source.slice(5)
  try {
    return readFileSync(file, "utf8").replace(/\r?\n$/, "")
  } catch (error) {
    throw new ConfigError("<config>", [
      {
        path: `${path}.passphrase`,
        message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      },
    ])
  }
}

/**
 * Resolves a configured private key: the hex itself, `env:NAME` from the environment, or a keystore opened
 * with its passphrase. Errors name the config path and the file or variable, never the key or passphrase.
 *
 * @example
 * ```ts
 * resolvePrivateKey("env:OPERATOR_KEY", "operators[0].privateKey")
 * resolvePrivateKey({ keystore: "/keys/operator.json", passphrase: "file:/run/secrets/operator" }, "operators[0].privateKey")
 * ```
 */
export const resolvePrivateKey = (
  value: PrivateKey,
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): `0x${string}` => {
  if (typeof value !== "string" && "web3signer" in value) {
    throw new ConfigError("<config>", [
      {
        path,
        message:
          "this key signs here, in this process, so a remote signer cannot hold it: give env:NAME or a keystore",
      },
    ])
  }
  if (typeof value !== "string") {
    const cacheKey = `${value.keystore}\u0000${value.passphrase}`
    const known = opened.get(cacheKey)
    if (known !== undefined) return known
    let json: unknown
    try {
      json = JSON.parse(readFileSync(value.keystore, "utf8"))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new ConfigError("<config>", [
        { path: `${path}.keystore`, message: `cannot read ${value.keystore}: ${code ?? "not JSON"}` },
      ])
    }
    try {
      const key = decryptKeystore(json, passphraseOf(value.passphrase, path, env), value.keystore)
      opened.set(cacheKey, key)
      return key
    } catch (error) {
      if (error instanceof KeystoreError) {
        throw new ConfigError("<config>", [{ path: `${path}.keystore`, message: error.shortMessage }])
      }
      throw error
    }
  }
  if (!value.startsWith("env:")) return value as `0x${string}`
  const name = value.slice(4)
  const resolved = env[name]
  if (resolved === undefined || !/^0x[0-9a-fA-F]{64}$/.test(resolved)) {
    throw new ConfigError("<environment>", [
      {
        path,
        message: `${name} ${resolved === undefined ? "is not set" : "is not a 32-byte hex private key"}`,
      },
    ])
  }
  return resolved as `0x${string}`
}

/**
 * How a submitter signs its transactions: its private key, resolved as `resolvePrivateKey` does, or its remote
 * signer, with the account its public key is.
 *
 * @example
 * ```ts
 * resolveSigningKey({ web3signer: "https://signer:9000", publicKey: "0x04…" }, "submitters[0].privateKey")
 * // { kind: "web3signer", url: "https://signer:9000", publicKey: "0x04…", address: "0x…" }
 * ```
 */
export const resolveSigningKey = (
  value: PrivateKey,
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): SigningKey => {
  if (typeof value === "string" || !("web3signer" in value)) return resolvePrivateKey(value, path, env)
  const uncompressed = value.publicKey.length === 130 ? `0x04${value.publicKey.slice(2)}` : value.publicKey
  return {
    kind: "web3signer",
    url: value.web3signer,
    publicKey: value.publicKey as `0x${string}`,
    address: publicKeyToAddress(uncompressed as `0x${string}`),
  }
}

/**
 * Every key the config writes in the file itself, by path: what a production process refuses unless told
 * `--allow-plaintext-keys`.
 *
 * @example
 * ```ts
 * plaintextKeysOf(devnetConfig) // ["operators[0].privateKey", …, "submitters[2].privateKey"]
 * ```
 */
export const plaintextKeysOf = (config: ChorusConfig): ReadonlyArray<string> => [
  ...(["operators", "submitters"] as const).flatMap((section) =>
    config[section].flatMap((entry, i) =>
      (["privateKey", "busKey"] as const).flatMap((field) => {
        const key = entry[field]
        return key !== undefined && isPlaintextKey(key) ? [`${section}[${i}].${field}`] : []
      }),
    ),
  ),
  ...(config.bus?.authentication?.producers ?? []).flatMap((p, i) =>
    p.privateKey !== undefined && isPlaintextKey(p.privateKey)
      ? [`bus.authentication.producers[${i}].privateKey`]
      : [],
  ),
]

/**
 * The configuration of one chain, or a clear error naming the known ones.
 *
 * @example
 * ```ts
 * chainOf(config, 902).inbox
 * ```
 */
export const chainOf = (config: ChorusConfig, chainId: number) => {
  const chain = config.chains.find((c) => c.chainId === chainId)
  if (chain === undefined) {
    throw new ConfigError("<config>", [
      {
        path: "chains",
        message: `no chain ${chainId} is configured (configured: ${config.chains.map((c) => c.chainId).join(", ")})`,
      },
    ])
  }
  return chain
}
