/**
 * Who may write what: the producer policy every consumer holds records to.
 *
 * A record stands only if (1) it is signed and the signature verifies
 * (`record-signature.ts`), (2) the signing key is one the deployment lists,
 * (3) that key's service writes the record's topic (the topology's writers
 * decide), and (4) the producer the record claims (`chorus-producer`, which
 * the codec holds to the envelope's body) is that key's service and, when
 * the grant names one, its instance. So a watcher's key cannot pass for an
 * operator, and an operator's key cannot write a proposal or sign for
 * another operator.
 *
 * @module
 */
import { HEADERS } from "../../schemas/record-codec.ts"
import { partitionForKey } from "../partitioner/index.ts"
import {
  checkSignature,
  isSignerKey,
  SIGNATURE_HEADERS,
  type SignatureFailure,
  type SignatureMemory,
  type SignerKey,
} from "./record-signature.ts"

/** The header a Chorus envelope names its producer in: `service/instance`. */
export const PRODUCER_HEADER = HEADERS.producer

/** One key the deployment trusts, and for what. */
export interface ProducerGrant {
  /** A service or an operator tool (`retry`). */
  readonly service: string
  /** The one instance this key may claim; null: any instance of the service. */
  readonly instance: string | null
  readonly publicKey: SignerKey
  /** The topics it may write. */
  readonly topics: ReadonlySet<string>
}

export type AuthenticationFailure =
  | SignatureFailure
  | { readonly reason: "unknown-signer"; readonly detail: string }
  | { readonly reason: "topic-not-allowed"; readonly detail: string }
  | { readonly reason: "producer-mismatch"; readonly detail: string }
  /** Signed and allowed, but not on the partition its key hashes to: a signed record copied elsewhere. */
  | { readonly reason: "misplaced"; readonly detail: string }
  /** Signed by its own instance, but about another one's chain, destination or answers (`owner-check.ts`). */
  | { readonly reason: "owner-mismatch"; readonly detail: string }

export type AuthenticationResult =
  | { readonly ok: true; readonly grant: ProducerGrant }
  | ({ readonly ok: false } & AuthenticationFailure)

/** Every reason a record can fail authentication, for reports that count them all. */
export const AUTHENTICATION_FAILURES: ReadonlyArray<AuthenticationFailure["reason"]> = [
  "unsigned",
  "malformed-signature",
  "bad-signature",
  "unknown-signer",
  "topic-not-allowed",
  "producer-mismatch",
  "misplaced",
  "owner-mismatch",
]

export interface ProducerPolicy {
  readonly grants: ReadonlyArray<ProducerGrant>
  /** With `memory`, a signature verified before is not verified again (the rest is checked every time). */
  authenticate(
    record: {
      readonly topic: string
      /** Where the record lies, when it was read from the log (checked by `withPlacement`). */
      readonly partition?: number
      readonly key: string | null
      readonly value: Uint8Array
      readonly headers: Readonly<Record<string, string>>
    },
    memory?: SignatureMemory,
  ): AuthenticationResult
}

const describe = (grants: ReadonlyArray<ProducerGrant>) =>
  grants.map((g) => (g.instance === null ? g.service : `${g.service}/${g.instance}`)).join(", ")

/**
 * A policy over a list of grants. One key may hold several grants (a
 * process that runs two services with one key); the record passes if any
 * grant of its key allows it.
 *
 * @param unenveloped topics whose records are not envelopes and name no producer (the dead letters)
 * @example
 * ```ts
 * const policy = producerPolicy(grants, ["chorus.dead-letters"])
 * const result = policy.authenticate(record)
 * if (!result.ok) console.warn(`${result.reason}: ${result.detail}`)
 * ```
 */
export const producerPolicy = (
  grants: ReadonlyArray<ProducerGrant>,
  unenveloped: ReadonlyArray<string>,
): ProducerPolicy => {
  const byKey = new Map<SignerKey, ProducerGrant[]>()
  for (const grant of grants) {
    const list = byKey.get(grant.publicKey) ?? []
    list.push(grant)
    byKey.set(grant.publicKey, list)
  }
  const bare = new Set(unenveloped)
  return {
    grants,
    authenticate: (record, memory) => {
      // A key no grant lists is refused before its signature is checked: a flood of records under fresh keys
      // costs a map lookup each, not a key import and a verification.
      const named = record.headers[SIGNATURE_HEADERS.signer]
      if (named !== undefined && isSignerKey(named) && !byKey.has(named)) {
        return {
          ok: false,
          reason: "unknown-signer",
          detail: `signed by ${named}, which no producer grant in the config lists`,
        }
      }
      const signature = checkSignature(record, memory)
      if (!signature.ok) return signature
      const held = byKey.get(signature.signer)!
      const onTopic = held.filter((g) => g.topics.has(record.topic))
      if (onTopic.length === 0) {
        return {
          ok: false,
          reason: "topic-not-allowed",
          detail: `${signature.signer} (${describe(held)}) may not write ${record.topic}`,
        }
      }
      const claim = record.headers[PRODUCER_HEADER]
      if (claim === undefined) {
        if (bare.has(record.topic)) return { ok: true, grant: onTopic[0]! }
        return {
          ok: false,
          reason: "producer-mismatch",
          detail: `the record names no producer (${PRODUCER_HEADER} header), which every event on ${record.topic} must`,
        }
      }
      const slash = claim.indexOf("/")
      const service = slash < 0 ? claim : claim.slice(0, slash)
      const instance = slash < 0 ? "" : claim.slice(slash + 1)
      const grant = onTopic.find(
        (g) => g.service === service && (g.instance === null || g.instance === instance),
      )
      if (grant === undefined) {
        return {
          ok: false,
          reason: "producer-mismatch",
          detail: `claims to be ${JSON.stringify(claim.slice(0, 200))} but is signed by ${signature.signer} (${describe(onTopic)})`,
        }
      }
      return { ok: true, grant }
    },
  }
}

/**
 * The policy, also refusing a keyed record that lies on another partition than its key hashes to (Kafka's
 * murmur2, as both buses place records). The signature covers topic, key and value, not the partition: without
 * this, anyone could copy a signed record onto another partition, where another shard would handle it afresh.
 *
 * @param counts each topic's partition count, as the bus has it; a topic not in it is not checked
 * @example
 * ```ts
 * const placed = withPlacement(policy, new Map([["chorus.deliveries", 6]]))
 * ```
 */
export const withPlacement = (
  policy: ProducerPolicy,
  counts: ReadonlyMap<string, number>,
): ProducerPolicy => ({
  grants: policy.grants,
  authenticate: (record, memory) => {
    const result = policy.authenticate(record, memory)
    const count = counts.get(record.topic)
    if (!result.ok || record.key === null || record.partition === undefined || count === undefined)
      return result
    const expected = partitionForKey(record.key, count)
    if (expected === record.partition) return result
    return {
      ok: false,
      reason: "misplaced",
      detail: `its key belongs on partition ${expected} of ${record.topic}'s ${count}, but it lies on partition ${record.partition}: a signed record copied there`,
    }
  },
})
