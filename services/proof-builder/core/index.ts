/**
 * The proof-builder's pure core: lanes' candidates from observed messages,
 * settled against Outbox reads, into proposals, proofs, rejections and
 * stalls.
 *
 * @module
 */
export { type Admission, admit, whereObserved } from "./admit.ts"
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
export {
  isDeferred,
  MAX_COMBINATIONS,
  type Proven,
  preferred,
  type Refutation,
  type Settlement,
  settle,
  type Unsettled,
} from "./settle.ts"
export {
  type Candidate,
  emptyLane,
  emptyProofBuilderState,
  type LaneState,
  laneId,
  observationKey,
  type ProofBuilderState,
} from "./state.ts"
