/**
 * Events on the bus: publish envelopes on their declared topics, subscribe
 * with decoding at the edge and dead-lettering, read ranges for tools.
 *
 * @module
 */
export * from "./assert-declared.ts"
export * from "./publish-events.ts"
export * from "./read-events.ts"
export * from "./subscribe-events.ts"
