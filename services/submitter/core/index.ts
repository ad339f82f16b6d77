/**
 * The submitter's pure half: the fold of its inputs and outcomes into state,
 * and the planner that turns state, time and batching settings into the
 * next transactions.
 *
 * @module
 */
export * from "./fold.ts"
export * from "./planner.ts"
export * from "./proofs.ts"
export * from "./refusals.ts"
export * from "./state.ts"
