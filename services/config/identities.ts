/**
 * Facts derived from a config that several services need, derived once:
 * the checkpoint signing domain, and each operator's and submitter's key
 * and address.
 *
 * @module
 */
import { getAddress, type Hex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import type { SigningKey } from "../../chains/chain-access.ts"
import { getCheckpointDomain } from "../../contracts/index.ts"
import { ConfigError, resolveSigningKey } from "./load-config.ts"
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

/** A configured key (here, or in a remote signer) with the address it signs as. */
export interface KeyIdentity {
  /** Where the key sits in the config, for errors. */
  readonly path: string
  readonly key: SigningKey
  /** Checksummed. */
  readonly address: `0x${string}`
}

const identityOf = (value: PrivateKey, path: string): KeyIdentity => {
  const key = resolveSigningKey(value, path)
  return {
    path,
    key,
    address: typeof key === "string" ? privateKeyToAccount(key).address : getAddress(key.address),
  }
}

/**
 * The key itself, for what must hold it in this process (deriving a bus key, a devnet's tools); a key kept in a
 * remote signer is refused by its config path.
 *
 * @example
 * ```ts
 * deriveSigningKey(localKeyOf(operatorIdentity(config, operator), "to derive its bus key; give operators[0].busKey"))
 * ```
 */
export const localKeyOf = (identity: KeyIdentity, why: string): Hex => {
  if (typeof identity.key === "string") return identity.key
  throw new ConfigError("<config>", [
    {
      path: identity.path,
      message: `is kept in a remote signer, and this process needs the key itself ${why}`,
    },
  ])
}

/**
 * An operator's key (or remote signer) and address; `operator` may be one of `config.operators` or one built in
 * code.
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
 * A submitter's key (or remote signer) and address.
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
