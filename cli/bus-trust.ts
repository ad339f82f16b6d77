/**
 * Which records a command trusts, and which key it writes with: the config's
 * `bus.authentication`, from `--config`, or from the `config.json` a devnet
 * keeps beside its log. Without either, the command reads every record as
 * it is (an old log, or a deployment without authentication) and says so
 * where it matters.
 *
 * @module
 */
import { authenticatedBus, type SignatureMemory } from "../bus/authentication/index.ts"
import type { BusPort } from "../bus/port.ts"
import { type ChorusConfig, loadConfig } from "../services/config/index.ts"
import { busIdentitiesOf } from "../services/registry.ts"
import type { CommandInput } from "./command.ts"
import { trustedConfigFile } from "./trust-flags.ts"

export { TRUST_DETAILS, trustedConfigFile, trustOptions } from "./trust-flags.ts"

/**
 * The config a command trusts: `--config`, else a devnet's `config.json` beside its log.
 *
 * @example
 * ```ts
 * trustedConfig({ "data-dir": ".devnet" }) // the devnet's config.json
 * ```
 */
export const trustedConfig = (values: CommandInput["values"]): ChorusConfig | undefined => {
  const file = trustedConfigFile(values)
  return file === undefined ? undefined : loadConfig(file)
}

/**
 * The bus as a command should use it: records checked against the config's
 * producers, and, when `signAs` is given, what it publishes signed as that producer. With `signatures`, a
 * record's signature verified by an earlier run is not verified again (`verified-signatures.ts`).
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
  signatures?: SignatureMemory,
): BusPort => {
  const config = trustedConfig(values)
  if (config === undefined) return bus
  const identities = busIdentitiesOf(config)
  if (!identities.enabled) return bus
  const signer = signAs === undefined ? undefined : identities.signerFor(signAs.service, signAs.instance)
  return authenticatedBus(bus, {
    ...(signer === undefined ? {} : { signer }),
    ...(identities.policy === undefined ? {} : { policy: identities.policy }),
    ...(signatures === undefined ? {} : { signatures }),
  })
}
