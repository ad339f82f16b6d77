/**
 * Keys written in a config file as hex: refused by `chorus run` and named by
 * `chorus config check`, unless the user says they are for a test
 * (`--allow-plaintext-keys`) or the file is the one `chorus devnet` wrote
 * (beside its devnet.json, with anvil's well-known keys). A key in a file is
 * a key in every backup and every copy of it.
 *
 * @module
 */
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"
import type { FieldIssue } from "../schemas/index.ts"
import { type ChorusConfig, ConfigError, loadConfig, plaintextKeysOf } from "../services/config/index.ts"

/**
 * One issue per key written in `file`, or none when they are allowed.
 *
 * @example
 * ```ts
 * plaintextKeyIssues(config, "chorus.json", false) // [{ path: "submitters[0].privateKey", message: "a private key written in the file; …" }]
 * ```
 */
export const plaintextKeyIssues = (config: ChorusConfig, file: string, allowed: boolean): FieldIssue[] => {
  const plaintext = plaintextKeysOf(config)
  if (plaintext.length === 0 || allowed || existsSync(join(dirname(file), "devnet.json"))) return []
  return plaintext.map((path) => ({
    path,
    message:
      'a private key written in the file; give env:NAME or {"keystore": "<file>", "passphrase": "env:NAME" | "file:<path>"}, or run with --allow-plaintext-keys (tests only)',
  }))
}

/**
 * The config a process runs on: decoded, and refused when it writes keys in the file and they are not allowed.
 * Throws `ConfigError` naming every problem.
 *
 * @example
 * ```ts
 * const config = loadRunConfig("chorus.json", values["allow-plaintext-keys"] === true)
 * ```
 */
export const loadRunConfig = (file: string, allowPlaintextKeys: boolean): ChorusConfig => {
  const config = loadConfig(file)
  const plaintext = plaintextKeyIssues(config, file, allowPlaintextKeys)
  if (plaintext.length > 0) throw new ConfigError(file, plaintext)
  return config
}
