/**
 * The submitter's side of the destination chain: Inbox calls and reads,
 * receipts, reverts, signing and broadcasting, nonces and fees.
 *
 * @module
 */
export * from "./errors.ts"
export * from "./inbox.ts"
export * from "./receipt.ts"
export * from "./transactions.ts"
