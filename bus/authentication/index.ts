/**
 * Authenticated records: producer signatures, the policy of who may write
 * what, and the bus wrapper that applies both.
 *
 * @module
 */
export * from "./authenticated-bus.ts"
export * from "./owner-check.ts"
export * from "./producer-policy.ts"
export * from "./record-signature.ts"
export * from "./unauthenticated-error.ts"
export * from "./verified-signatures.ts"
export * from "./verify-log.ts"
