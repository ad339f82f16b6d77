/**
 * The config's `bus.authentication` turned into what the bus needs: the
 * producer policy every consumer holds records to, and the key each service
 * instance signs with.
 *
 * The topics a key may write are never configured: they are the writes its
 * service (or tool) declares in its definition, so the topology and the
 * policy cannot drift apart. Operators and submitters sign with their
 * `busKey`, or one derived from their chain key when it is here (not in a
 * remote signer), bound to their own instance (an operator's address, a
 * submitter's chain id), so one operator can never write as another.
 *
 * @module
 */
import {
  deriveSigningKey,
  type ProducerGrant,
  type ProducerPolicy,
  producerPolicy,
  type RecordSigner,
  remoteRecordSigner,
  type SignerKey,
  signerFromSeed,
} from "../bus/authentication/index.ts"
import { DEAD_LETTER_TOPIC } from "../bus/dead-letter.ts"
import { remoteDigestSignature } from "../chains/index.ts"
import {
  type ChorusConfig,
  ConfigError,
  type KeyIdentity,
  localKeyOf,
  operatorIdentity,
  submitterIdentity,
} from "./config/index.ts"
import { resolveSigningKey } from "./config/load-config.ts"
import type { PrivateKey } from "./config/private-key.ts"

/** What a process needs to sign and to check, derived once from its config. */
export interface BusIdentities {
  /** False when the config has no `bus.authentication`: nothing is signed or checked. */
  readonly enabled: boolean
  /** False when `bus.authentication.enforce` is false: unsigned records are taken. */
  readonly enforced: boolean
  /**
   * The policy consumers apply; absent when authentication is off. Not enforced (`enforce: false`), it takes
   * unsigned records but still refuses every signed record that does not stand.
   */
  readonly policy: ProducerPolicy | undefined
  /** Every grant, enforced or not (what `chorus verify-log` checks against). */
  readonly grants: ReadonlyArray<ProducerGrant>
  /** The key an instance signs with; throws `ConfigError` naming the config path when it has none. */
  signerFor(service: string, instance: string): RecordSigner | undefined
}

/**
 * The signer of a configured bus key: an Ed25519 seed held here, or a secp256k1 key in a remote signer
 * (`remoteRecordSigner`), each record's signature checked to recover to it.
 */
const recordSignerOf = (value: PrivateKey, path: string): RecordSigner => {
  const key = resolveSigningKey(value, path)
  return typeof key === "string"
    ? signerFromSeed(key)
    : remoteRecordSigner(key.publicKey, (preimage) => remoteDigestSignature(key, preimage))
}

/** What an unsigned record is taken as while authentication is not enforced: a grant for nothing in particular. */
const UNSIGNED: ProducerGrant = { service: "(unsigned)", instance: null, publicKey: "0x", topics: new Set() }

const acceptingUnsigned = (policy: ProducerPolicy): ProducerPolicy => ({
  grants: policy.grants,
  authenticate: (record, memory) => {
    const result = policy.authenticate(record, memory)
    return !result.ok && result.reason === "unsigned" ? { ok: true, grant: UNSIGNED } : result
  },
})

/** A service or tool as the topology declares it: what it writes. */
export interface Writer {
  readonly name: string
  readonly writes: ReadonlyArray<string>
}

interface KeyedGrant extends ProducerGrant {
  /** Where this grant came from in the config, for errors. */
  readonly path: string
  readonly signer: RecordSigner | undefined
}

/**
 * Derives the bus identities of a config.
 *
 * @example
 * ```ts
 * const identities = busIdentities(config, [...SERVICE_DEFINITIONS, ...TOOLS])
 * const bus = authenticatedBus(shared, { signer: identities.signerFor("proof-builder", "proof-builder"), policy: identities.policy })
 * ```
 */
export const busIdentities = (config: ChorusConfig, writers: ReadonlyArray<Writer>): BusIdentities => {
  const writesOf = (service: string): ReadonlySet<string> | undefined => {
    const writes = writers.find((w) => w.name === service)?.writes
    return writes === undefined ? undefined : new Set(writes)
  }
  const producerNames = writers.filter((w) => w.writes.length > 0).map((w) => w.name)
  const section = config.bus?.authentication
  if (section === undefined) {
    return { enabled: false, enforced: false, policy: undefined, grants: [], signerFor: () => undefined }
  }
  const grants: KeyedGrant[] = []
  // An operator's or a submitter's bus key: its busKey, or one derived from its chain key, bound to its instance.
  const instanceSigner = (
    identity: KeyIdentity,
    busKey: PrivateKey | undefined,
    section: string,
    index: number,
  ) =>
    busKey !== undefined
      ? recordSignerOf(busKey, `${section}[${index}].busKey`)
      : signerFromSeed(
          deriveSigningKey(
            localKeyOf(
              identity,
              `to derive its bus key from it: give ${section}[${index}].busKey (env:NAME, a keystore, or a remote signer)`,
            ),
          ),
        )
  config.operators.forEach((operator, index) => {
    const identity = operatorIdentity(config, operator)
    const signer = instanceSigner(identity, operator.busKey, "operators", index)
    grants.push({
      service: "operator",
      instance: identity.address,
      publicKey: signer.publicKey,
      topics: writesOf("operator")!,
      path: identity.path,
      signer,
    })
  })
  config.submitters.forEach((submitter, index) => {
    const identity = submitterIdentity(config, submitter)
    const signer = instanceSigner(identity, submitter.busKey, "submitters", index)
    grants.push({
      service: "submitter",
      instance: String(submitter.chainId),
      publicKey: signer.publicKey,
      topics: writesOf("submitter")!,
      path: identity.path,
      signer,
    })
  })
  const issues: Array<{ path: string; message: string }> = []
  section.producers.forEach((entry, index) => {
    const path = `bus.authentication.producers[${index}]`
    if (entry.service === "operator" || entry.service === "submitter") {
      // Their keys are derived from their chain keys and bound to their own instance; a listed key for either
      // would be one more, or one for every instance.
      issues.push({
        path: `${path}.service`,
        message: `${entry.service}s sign with their ${entry.service}s[].busKey, or one derived from their privateKey; list no key for them here`,
      })
      return
    }
    const topics = writesOf(entry.service)
    if (topics === undefined || topics.size === 0) {
      issues.push({
        path: `${path}.service`,
        message: `${JSON.stringify(entry.service)} writes nothing to the bus; producers are ${producerNames.join(", ")}`,
      })
      return
    }
    const signer =
      entry.privateKey === undefined ? undefined : recordSignerOf(entry.privateKey, `${path}.privateKey`)
    const publicKey = (entry.publicKey?.toLowerCase() ?? signer?.publicKey) as SignerKey | undefined
    if (publicKey === undefined) {
      issues.push({
        path: `${path}.publicKey`,
        message: "give the producer's publicKey, or the privateKey it signs with",
      })
      return
    }
    if (signer !== undefined && signer.publicKey !== publicKey) {
      issues.push({
        path: `${path}.publicKey`,
        message: `is not the public key of privateKey (which is ${signer.publicKey})`,
      })
      return
    }
    grants.push({ service: entry.service, instance: entry.instance ?? null, publicKey, topics, path, signer })
  })
  if (issues.length > 0) throw new ConfigError("<config>", issues)
  const policy = producerPolicy(grants, [DEAD_LETTER_TOPIC])
  return {
    enabled: true,
    enforced: section.enforce,
    policy: section.enforce ? policy : acceptingUnsigned(policy),
    grants,
    signerFor: (service, instance) => {
      const grant =
        grants.find((g) => g.service === service && g.instance === instance && g.signer !== undefined) ??
        grants.find((g) => g.service === service && g.instance === null && g.signer !== undefined)
      if (grant !== undefined) return grant.signer
      if (writesOf(service)?.size === 0) return undefined
      throw new ConfigError("<config>", [
        {
          path: "bus.authentication.producers",
          message: `${service} ${instance} must sign what it writes, but no entry gives it a privateKey; add { "service": ${JSON.stringify(service)}, "privateKey": "env:…" }`,
        },
      ])
    },
  }
}
