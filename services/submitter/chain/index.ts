/**
 * The submitter's side of the destination chain: the Inbox call each action
 * becomes, the outcome of each message from a receipt, and its transaction
 * policy (fee bumps, gas margin, nonces). Reads, signing and broadcasting
 * are the chain's reader's and writer's (`chains/`).
 *
 * @module
 */
export * from "./inbox.ts"
export * from "./receipt.ts"
export * from "./transactions.ts"
