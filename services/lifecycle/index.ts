/**
 * One projection of a message's lifecycle (stages, what each event implies,
 * terminal states) for every reader of the log; see `lifecycle.ts`.
 *
 * @module
 */
export * from "./lifecycle.ts"
