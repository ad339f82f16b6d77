/**
 * Facts derived from a config that several services need, derived once:
 * the checkpoint signing domain, and each operator's and submitter's key
 * and address.
 *
 * @module
 */
import type { Hex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { getCheckpointDomain } from "../../contracts/index.ts"
import { resolvePrivateKey } from "./load-config.ts"
import type { PrivateKey } from "./private-key.ts"
import type { ChorusConfig, OperatorConfig, SubmitterConfig } from "./schema.ts"

/**
 * The EIP-712 domain every checkpoint is signed and verified under: the hub registry's.
 *
 * @example
 * ```ts
 * const domain = checkpointDomainOf(config) // { name: "Chorus", chainId: 901, verifyingContract: "0x…" }
 * ```
 */
export const checkpointDomainOf = (config: ChorusConfig) =>
  getCheckpointDomain({
    registryChainId: config.network.registryChainId,
    // The config's addresses are validated 20-byte hex (services/config/schema.ts).
    registry: config.network.registry as Hex,
  })

/** A configured key with the address it signs as. */
export interface KeyIdentity {
  /** Where the key sits in the config, for errors. */
  readonly path: string
  readonly privateKey: Hex
  /** Checksummed. */
  readonly address: `0x${string}`
}

const identityOf = (value: PrivateKey, path: string): KeyIdentity => {
  const privateKey = resolvePrivateKey(value, path)
  return { path, privateKey, address: privateKeyToAccount(privateKey).address }
}

/**
 * An operator's key and address; `operator` may be one of `config.operators` or one built in code.
 *
 * @example
 * ```ts
 * operatorIdentity(config, config.operators[1]!) // { path: "operators[1].privateKey", address: "0x70997970…", … }
 * ```
 */
export const operatorIdentity = (config: ChorusConfig, operator: OperatorConfig): KeyIdentity => {
  const index = config.operators.indexOf(operator)
  return identityOf(
    operator.privateKey,
    index >= 0 ? `operators[${index}].privateKey` : "operator.privateKey",
  )
}

/**
 * A submitter's key and address.
 *
 * @example
 * ```ts
 * submitterIdentity(config, config.submitters[0]!).address
 * ```
 */
export const submitterIdentity = (config: ChorusConfig, submitter: SubmitterConfig): KeyIdentity => {
  const index = config.submitters.indexOf(submitter)
  return identityOf(
    submitter.privateKey,
    index >= 0 ? `submitters[${index}].privateKey` : "submitter.privateKey",
  )
}
