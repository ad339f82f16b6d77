/**
 * The operator: one restaked operator's node. It verifies each proposed
 * checkpoint on its own RPC, at a block its own RPC calls final, and signs
 * it with EIP-712, or refuses with a reason.
 *
 * Pipeline: `chorus.checkpoints.proposed` → `observe` (its own finalized
 * Outbox read, recorded on `chorus.lane.reads`) → pure core (`decide`) →
 * `AttestationSigned` / `AttestationRefused` on `chorus.attestations.signed`.
 *
 * Invariants: it signs only what its own RPC showed; it never signs two roots
 * for one lane and count, even across restarts (the state is rebuilt from its
 * log); signatures are deterministic, 65 bytes `r ‖ s ‖ v`, low s, v 27/28.
 *
 * @module
 */

export * from "./core.ts"
export * from "./errors.ts"
export * from "./observe-outbox.ts"
export { type StartOperatorDeps, startOperator } from "./service.ts"
export * from "./sign-checkpoint.ts"
export * from "./verify-proposal.ts"
