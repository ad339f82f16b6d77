/**
 * The proof-builder's pure core: lanes' trees from observed messages,
 * checked against Outbox reads, into proposals, proofs and stalls.
 *
 * @module
 */
export { type Admission, admit, applyAdmission } from "./admit.ts"
export { checkRead, type ReadVerdict } from "./check-read.ts"
export {
  InvalidChunkSizeError,
  makeProofBuilderCore,
  PROOF_BUILDER_READER,
  type ProofBuilderCore,
  type ProofBuilderCoreOptions,
  type ProofBuilderSource,
  type ReadPlan,
} from "./core.ts"
export { computeMessageId } from "./message-id.ts"
export { proposalOf } from "./proposal.ts"
export { emptyLane, emptyProofBuilderState, type LaneState, laneId, type ProofBuilderState } from "./state.ts"
