/**
 * The submitter's pure half: the fold of its inputs and outcomes into state
 * (refusing, with a reason, a proof chunk that does not verify), the planner
 * that turns state, time and batching settings into the next transactions,
 * the decision on a retry request, and the records a step makes from the
 * destination's answers behind it (`stepOutcomes`).
 *
 * @module
 */
export * from "./fold.ts"
export * from "./pending.ts"
export * from "./planner.ts"
export * from "./proofs.ts"
export * from "./refusals.ts"
export * from "./retry.ts"
export * from "./retry-proofs.ts"
export * from "./state.ts"
export * from "./step-outcomes.ts"
export * from "./verify-chunk.ts"
