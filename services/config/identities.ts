/**
 * Facts derived from a config that several services need, derived once:
 * the checkpoint signing domain, and each operator's and submitter's key
 * and address.
 *
 * @module
 */
import { getAddress, type Hex } from "viem"
import { privateKeyToAccount } from "viem/accounts"
import type { TransactionKey } from "../../chains/chain-access.ts"
import { getCheckpointDomain } from "../../contracts/index.ts"
import { resolvePrivateKey, resolveTransactionKey } from "./load-config.ts"
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

/** A submitter's account: how it signs (a key here, or a remote signer) and the address it sends from. */
export interface SubmitterIdentity {
  readonly path: string
  readonly key: TransactionKey
  /** Checksummed. */
  readonly address: `0x${string}`
}

/**
 * A submitter's key (or remote signer) and address.
 *
 * @example
 * ```ts
 * submitterIdentity(config, config.submitters[0]!).address
 * ```
 */
export const submitterIdentity = (config: ChorusConfig, submitter: SubmitterConfig): SubmitterIdentity => {
  const index = config.submitters.indexOf(submitter)
  const path = index >= 0 ? `submitters[${index}].privateKey` : "submitter.privateKey"
  const key = resolveTransactionKey(submitter.privateKey, path)
  return {
    path,
    key,
    address: typeof key === "string" ? privateKeyToAccount(key).address : getAddress(key.address),
  }
}
