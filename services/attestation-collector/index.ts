/**
 * The attestation-collector: gathers operator signatures, verifies each
 * against the operator set the destination Inbox checks, counts stake with
 * the Inbox's rule, and attests a checkpoint once its threshold is met, or
 * expires it, saying who did not sign.
 *
 * Pipeline: `chorus.checkpoints.proposed` + `chorus.attestations.signed`
 * (co-partitioned by lane) → `observe` (the destination Inbox's operator set,
 * recorded on `chorus.lane.reads` when its epoch changes) → pure core →
 * `CheckpointAttested` on `chorus.checkpoints.attested`, `SignatureVerdict`
 * and `CheckpointExpired` on `chorus.attestations.verdicts`.
 *
 * @module
 */
export * from "./checkpoint-record.ts"
export * from "./core.ts"
export * from "./expiry-reason.ts"
export * from "./observe-operator-set.ts"
export * from "./operator-set.ts"
export {
  type StartAttestationCollectorDeps,
  startAttestationCollector,
} from "./service.ts"
export * from "./verify-signature.ts"
