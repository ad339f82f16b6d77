/**
 * The proof-builder: settles each lane's observed messages against the
 * source Outbox's root and count (keeping the leaves the chain has and
 * rejecting the observations it refutes), proposes checkpoints of the
 * proven tree, and emits range proofs for chunks of each checkpoint's new
 * messages and a single proof per message.
 *
 * `startProofBuilder` runs it on the bus; `makeProofBuilderCore` is its pure
 * core (what a replay folds); `merkle/` is the tree and proof library.
 *
 * @module
 */
export * from "./core/index.ts"
export * from "./service/index.ts"
