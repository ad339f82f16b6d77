/**
 * The proof-builder: keeps each lane's Merkle tree from the observed
 * messages, checks it against the source Outbox's root and count, proposes
 * checkpoints, and emits range proofs for chunks of each checkpoint's new
 * messages and a single proof per message.
 *
 * `startProofBuilder` runs it on the bus; `makeProofBuilderCore` is its pure
 * core (what a replay folds); `merkle/` is the tree and proof library.
 *
 * @module
 */
export * from "./core/index.ts"
export * from "./service/index.ts"
