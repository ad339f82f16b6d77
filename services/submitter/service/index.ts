/**
 * The submitter's runtime: the lane service, the views it plans from, and
 * the ticker that sends, replaces and confirms transactions and answers
 * retry requests.
 *
 * @module
 */
export * from "./start.ts"
export * from "./tick-result.ts"
export * from "./ticker.ts"
export * from "./views.ts"
