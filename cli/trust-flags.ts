/**
 * The flags of the commands that read the log as a deployment trusts it, and
 * where that config is: what they parse and print without loading the config
 * or the producer policy (`bus-trust.ts`, imported only when there is one).
 *
 * @module
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { type CommandInput, flags, type Options } from "./command.ts"

/** `--config`: where a reading command finds the producer keys it trusts. */
export const trustOptions: Options = flags({ values: ["config"] })

export const TRUST_DETAILS = [
  "  --config <file>          the deployment's config: records no producer in its bus.authentication wrote are",
  "                           refused and reported, not read (default: the config.json of a devnet --data-dir)",
].join("\n")

/**
 * The config file a command trusts: `--config`, else a devnet's `config.json` beside its log; none without either.
 *
 * @example
 * ```ts
 * trustedConfigFile({ "data-dir": ".devnet" }) // ".devnet/config.json"
 * ```
 */
export const trustedConfigFile = (values: CommandInput["values"]): string | undefined => {
  if (typeof values.config === "string") return values.config
  const dataDir = values["data-dir"]
  if (typeof dataDir !== "string") return undefined
  const beside = join(dataDir, "config.json")
  return existsSync(beside) && existsSync(join(dataDir, "log")) ? beside : undefined
}
