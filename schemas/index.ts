/**
 * Chorus's events: the branded primitives, every event's `Schema` class, the
 * envelope with its deterministic id, and the record codec that decodes once,
 * at the edge.
 *
 * @module
 */

export * from "./canonical-json.ts"
export * from "./catalog.ts"
export * from "./decode-error.ts"
export * from "./envelope.ts"
export {
  AttestationRefused,
  RefusalReason,
  upcastAttestationRefusedV1,
  upcastAttestationRefusedV2,
} from "./events/attestation-refused.ts"
export { AttestationSigned, upcastAttestationSignedV1 } from "./events/attestation-signed.ts"
export { ChainHaltRead, HaltSeen, ResumeSeen } from "./events/chain-halt-read.ts"
export { ChainHalted } from "./events/chain-halted.ts"
export { ChainHeadRead } from "./events/chain-head-read.ts"
export { ChainResumed, ResumedLaneCount } from "./events/chain-resumed.ts"
export { CheckpointAttested, Signature } from "./events/checkpoint-attested.ts"
export { CheckpointExpired } from "./events/checkpoint-expired.ts"
export { CheckpointProposed } from "./events/checkpoint-proposed.ts"
export { CheckpointResignRequested } from "./events/checkpoint-resign-requested.ts"
export { DeadLetter } from "./events/dead-letter.ts"
export { DeliveryConfirmed, MessageOutcome } from "./events/delivery-confirmed.ts"
export { DeliveryFailed } from "./events/delivery-failed.ts"
export { DeliverySkipped, SkippedStatus, upcastDeliverySkippedV1 } from "./events/delivery-skipped.ts"
export { DeliveryAction, DeliverySubmitted } from "./events/delivery-submitted.ts"
export {
  AttemptRead,
  DestinationRead,
  DestinationStep,
  ReceiptRead,
  RevertRead,
  StatusRead,
} from "./events/destination-read.ts"
export { InboxEpochRead } from "./events/inbox-epoch-read.ts"
export { InboxSetRead } from "./events/inbox-set-read.ts"
export { LaneStalled, StallReason } from "./events/lane-stalled.ts"
export { MessageObserved } from "./events/message-observed.ts"
export { MessageProven } from "./events/message-proven.ts"
export { MessageRejected, RejectionReason } from "./events/message-rejected.ts"
export { OperatorAttestedInvalid, SourceLaneSeen } from "./events/operator-attested-invalid.ts"
export {
  OperatorEquivocated,
  SignedCheckpoint,
  upcastOperatorEquivocatedV1,
} from "./events/operator-equivocated.ts"
export {
  OperatorSetApplied,
  OperatorSetSubmitted,
  OperatorSetUpdateFailed,
} from "./events/operator-set-applied.ts"
export { OperatorSetAttested } from "./events/operator-set-attested.ts"
export { OperatorSetObserved } from "./events/operator-set-observed.ts"
export {
  type OperatorSetFields,
  OperatorSetRead,
  OperatorWeight,
  sameOperatorSet,
} from "./events/operator-set-read.ts"
export { OperatorSetRefused, OperatorSetSigned, SetRefusalReason } from "./events/operator-set-signed.ts"
export { OutboxLaneRead } from "./events/outbox-lane-read.ts"
export { OutboxNonceRead } from "./events/outbox-nonce-read.ts"
export {
  OutboxBlock,
  OutboxLaneCount,
  OutboxLog,
  OutboxRangeRead,
  upcastOutboxRangeReadV1,
} from "./events/outbox-range-read.ts"
export { PROOF_REFUSED_MAX_IDS, ProofRefusalReason, ProofRefused } from "./events/proof-refused.ts"
export { RegistrySetRead } from "./events/registry-set-read.ts"
export { RetryRefusalReason, RetryRefused } from "./events/retry-refused.ts"
export { RetryRequested } from "./events/retry-requested.ts"
export { RootCommitted } from "./events/root-committed.ts"
export {
  ChainReadFailed,
  ChainReadRecovered,
  RPC_TEXT_MAX,
  RpcFaultReason,
  WatcherRecovered,
  WatcherStalled,
} from "./events/rpc-stall.ts"
export { SignatureResult, SignatureVerdict, upcastSignatureVerdictV1 } from "./events/signature-verdict.ts"
export { WatcherCursor } from "./events/watcher-cursor.ts"
export * from "./lane.ts"
export * from "./message.ts"
export * from "./primitives.ts"
export * from "./record-codec.ts"
