/**
 * The bus as one authenticated producer sees it: everything it publishes is
 * signed with its key, and every record it consumes or reads is held to the
 * deployment's producer policy at the decode edge.
 *
 * The wrapper changes no semantics of the port. It only adds the signature
 * headers on the way out and exposes `authenticate` on the way in, which
 * `subscribeDecoding` (dead letter, reason `unauthenticated`) and
 * `readEvents` (a failure the reader reports) apply before decoding. The
 * adapter underneath is shared by every service of a process; the wrapper
 * never closes it.
 *
 * @module
 */
import type { BusPort, BusRecord, OutgoingRecord } from "../port.ts"
import { RecordMemo } from "../record-memo.ts"
import type { AuthenticationResult, ProducerPolicy } from "./producer-policy.ts"
import type { RecordSigner, SignatureMemory } from "./record-signature.ts"

export interface Authentication {
  /** Signs what this producer publishes; absent: it publishes unsigned (authentication off). */
  readonly signer?: RecordSigner
  /** Holds what it consumes and reads to the policy; absent: it takes every record (authentication off). */
  readonly policy?: ProducerPolicy
  /** Signatures verified before (a replay's, kept on its own disk): not verified again. */
  readonly signatures?: SignatureMemory
}

/**
 * The policy's answer per record, one function per policy: every wrapper of a process holding the same policy
 * (one per service) shares it, so a signature is verified once however many services read the record, and
 * `decodeAuthenticated` shares its decodes between them too (it keys them by this function).
 */
const authenticators = new WeakMap<ProducerPolicy, (record: BusRecord) => AuthenticationResult>()
const remembered = (policy: ProducerPolicy, signatures: SignatureMemory | undefined) => {
  if (signatures !== undefined) {
    const answers = new RecordMemo<AuthenticationResult>()
    return (record: BusRecord) => answers.answer(record, (fresh) => policy.authenticate(fresh, signatures))
  }
  let authenticate = authenticators.get(policy)
  if (authenticate === undefined) {
    const answers = new RecordMemo<AuthenticationResult>()
    authenticate = (record) => answers.answer(record, policy.authenticate)
    authenticators.set(policy, authenticate)
  }
  return authenticate
}

/**
 * Wraps `bus` for one producer.
 *
 * @example
 * ```ts
 * const bus = authenticatedBus(shared, { signer: signerFromSeed(seed), policy })
 * await publishEvents(bus, outputs) // every record signed
 * ```
 */
export const authenticatedBus = (bus: BusPort, authentication: Authentication): BusPort => {
  const { signer, policy, signatures } = authentication
  return {
    kind: bus.kind,
    ensureTopics: (topics) => bus.ensureTopics(topics),
    partitions: (topic) => bus.partitions(topic),
    publish: async (records) => {
      if (signer === undefined) return bus.publish(records)
      const signed: OutgoingRecord[] = []
      // One at a time: a remote signer answers each record in turn; a local one signs at once.
      for (const record of records) {
        const headers = signer.sign(record.topic, record.key, record.value)
        signed.push({
          ...record,
          headers: { ...record.headers, ...(headers instanceof Promise ? await headers : headers) },
        })
      }
      return bus.publish(signed)
    },
    subscribe: (options) => bus.subscribe(options),
    read: (options) => bus.read(options),
    watermarks: (topic) => bus.watermarks(topic),
    offsetsForTimestamp: (topic, timestamp) => bus.offsetsForTimestamp(topic, timestamp),
    committedOffsets: (groupId, topic) => bus.committedOffsets(groupId, topic),
    close: () => Promise.resolve(),
    ...(policy === undefined ? {} : { authenticate: remembered(policy, signatures) }),
  }
}
