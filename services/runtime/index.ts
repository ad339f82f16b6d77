/**
 * What every service is built from: the pure-core shape and its fold, the
 * fold over the input log (shared by rebuilds and replays), the
 * consumer-group runtime that rebuilds state from the log, the producer
 * stamp, and the logger. Chains are reached through `chains/`.
 *
 * @module
 */
export * from "./chain-halts.ts"
export * from "./contract-message.ts"
export * from "./errors.ts"
export * from "./lane-core.ts"
export * from "./lane-service.ts"
export * from "./log-fold.ts"
export * from "./logger.ts"
export * from "./producer.ts"
export * from "./recent-ids.ts"
export * from "./running-service.ts"
export * from "./service-definition.ts"
