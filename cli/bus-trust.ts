/**
 * Which records a command trusts, and which key it writes with: the config's
 * `bus.authentication`, from `--config`, or from the `config.json` a devnet
 * keeps beside its log. Without either, the command reads every record as
 * it is (an old log, or a deployment without authentication) and says so
 * where it matters.
 *
 * @module
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { authenticatedBus } from "../bus/authentication/index.ts"
import type { BusPort } from "../bus/port.ts"
import { type ChorusConfig, loadConfig } from "../services/config/index.ts"
import { busIdentitiesOf } from "../services/registry.ts"
import { type CommandInput, flags, type Options } from "./command.ts"

/** `--config`: where a reading command finds the producer keys it trusts. */
export const trustOptions: Options = flags({ values: ["config"] })

export const TRUST_DETAILS = [
  "  --config <file>          the deployment's config: records no producer in its bus.authentication wrote are",
  "                           refused and reported, not read (default: the config.json of a devnet --data-dir)",
].join("\n")

/**
 * The config a command trusts: `--config`, else a devnet's `config.json` beside its log.
 *
 * @example
 * ```ts
 * trustedConfig({ "data-dir": ".devnet" }) // the devnet's config.json
 * ```
 */
export const trustedConfig = (values: CommandInput["values"]): ChorusConfig | undefined => {
  if (typeof values.config === "string") return loadConfig(values.config)
  const dataDir = values["data-dir"]
  if (typeof dataDir !== "string") return undefined
  const beside = join(dataDir, "config.json")
  return existsSync(beside) && existsSync(join(dataDir, "log")) ? loadConfig(beside) : undefined
}

/**
 * The bus as a command should use it: records checked against the config's
 * producers, and, when `signAs` is given, what it publishes signed as that producer.
 *
 * @example
 * ```ts
 * const bus = trustedBus(await openBusFromFlags(values), values, { service: "retry", instance: "ops@host" })
 * ```
 */
export const trustedBus = (
  bus: BusPort,
  values: CommandInput["values"],
  signAs?: { readonly service: string; readonly instance: string },
): BusPort => {
  const config = trustedConfig(values)
  if (config === undefined) return bus
  const identities = busIdentitiesOf(config)
  if (!identities.enabled) return bus
  const signer = signAs === undefined ? undefined : identities.signerFor(signAs.service, signAs.instance)
  return authenticatedBus(bus, {
    ...(signer === undefined ? {} : { signer }),
    ...(identities.policy === undefined ? {} : { policy: identities.policy }),
  })
}
